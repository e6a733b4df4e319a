"""Where a teacher model comes from: built from a config, or loaded from the hub or a local directory.

Loading failures (no network, unknown hub id, a directory that is not `save_pretrained` output) become
one `TeacherError` that says what to do.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import (
    AutoConfig,
    AutoFeatureExtractor,
    AutoModelForAudioClassification,
    PreTrainedModel,
    SequenceFeatureExtractor,
    Wav2Vec2Config,
    Wav2Vec2FeatureExtractor,
    Wav2Vec2ForSequenceClassification,
    set_seed,
)

from nanokws.teacher.base import TeacherError
from nanokws.teacher.config import TeacherConfig
from nanokws.teacher.inputs import SAMPLE_RATE
from nanokws.teacher.label_map import label_mapping, model_labels


def parameter_checksum(model: torch.nn.Module) -> str:
    """sha256 over every parameter and buffer (name, dtype, shape, bytes): equal iff the weights are."""
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def is_local(source: str) -> bool:
    """A local path rather than a hub id (`org/name`): written as a path, or existing."""
    return source.startswith(("/", "./", "../", "~")) or Path(source).expanduser().exists()


@contextlib.contextmanager
def loading(source: str) -> Iterator[None]:
    """Turn the ways `from_pretrained` fails into one TeacherError."""
    try:
        yield
    except (OSError, ValueError, KeyError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if Path(source).expanduser().is_dir():
            raise TeacherError(
                f"cannot load a teacher from the directory ({reason})",
                path=Path(source).expanduser(),
                hint="give a directory written by save_pretrained (config.json, weights, preprocessor_config.json)",
            ) from e
        raise TeacherError(
            f"cannot load the teacher `{source}`: it is not a local directory, and the HuggingFace hub could "
            f"not provide it ({reason})",
            hint="offline, use `--teacher whisper` (the default, packaged), `--teacher scratch` (a small Wav2Vec2 "
            "trained here) or a local directory holding save_pretrained output; online, check the hub id",
        ) from e


def build_scratch(labels: tuple[str, ...], cfg: TeacherConfig) -> tuple[PreTrainedModel, SequenceFeatureExtractor]:
    """A small Wav2Vec2 classifier from a config (random weights, seeded) and its feature extractor."""
    set_seed(cfg.seed)
    config = Wav2Vec2Config(
        hidden_size=cfg.hidden_size,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        intermediate_size=cfg.intermediate_size,
        conv_dim=(cfg.conv_channels,) * len(cfg.conv_kernel),
        conv_kernel=cfg.conv_kernel,
        conv_stride=cfg.conv_stride,
        conv_bias=True,
        feat_extract_activation=cfg.conv_activation,
        # Layer norm in the feature encoder and a pre-norm transformer: the variant meant to take attention
        # masks (wav2vec2-base's group norm is not), and stable when trained from scratch.
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
        num_conv_pos_embeddings=cfg.pos_conv_kernel,
        num_conv_pos_embedding_groups=cfg.pos_conv_groups,
        classifier_proj_size=cfg.classifier_proj_size,
        hidden_dropout=cfg.dropout,
        attention_dropout=cfg.dropout,
        activation_dropout=cfg.dropout,
        final_dropout=cfg.dropout,
        feat_proj_dropout=0.0,
        layerdrop=0.0,  # layer drop leaves parameters unused in a step, which DDP refuses by default
        apply_spec_augment=cfg.mask_time_prob > 0,
        mask_time_prob=cfg.mask_time_prob,
        mask_time_length=cfg.mask_time_length,
        mask_time_min_masks=1,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    extractor = Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=SAMPLE_RATE, padding_value=0.0, do_normalize=True, return_attention_mask=True
    )
    return Wav2Vec2ForSequenceClassification(config), extractor


@dataclass(frozen=True)
class Resolved:
    """A teacher model ready for the stage: to be fine-tuned on the run's labels, or used as it is."""

    model: PreTrainedModel
    extractor: SequenceFeatureExtractor
    fine_tune: bool
    note: str = ""


def resolve(labels: tuple[str, ...], cfg: TeacherConfig) -> Resolved:
    """The model named by `cfg.source`; when it is to be fine-tuned, with a head over the run's labels."""
    if cfg.is_scratch:
        if cfg.fine_tune is False:
            raise TeacherError("a teacher built from scratch has to be trained", hint="leave fine_tune unset")
        model, extractor = build_scratch(labels, cfg)
        return Resolved(model, extractor, fine_tune=True)
    source = cfg.source
    if is_local(source):
        path = Path(source).expanduser()
        if not path.is_dir():
            raise TeacherError("the teacher directory does not exist", path=path, hint="check --teacher")
        source = str(path)
    with loading(source):
        config = AutoConfig.from_pretrained(source)
        extractor = AutoFeatureExtractor.from_pretrained(source)
    if getattr(extractor, "sampling_rate", SAMPLE_RATE) != SAMPLE_RATE:
        raise TeacherError(f"the teacher `{source}` expects {extractor.sampling_rate} Hz audio, not 16 kHz")
    index = label_mapping(config.id2label, labels)
    set_seed(cfg.seed)
    with loading(source):
        model = AutoModelForAudioClassification.from_pretrained(source)
    if index is not None and not cfg.fine_tune:
        mapped = ", ".join(f"{label}={config.id2label[i]}" for label, i in zip(labels, index, strict=True))
        return Resolved(model, extractor, fine_tune=False, note=f"used as it is; labels mapped by name: {mapped}")
    if cfg.fine_tune is False:
        raise TeacherError(
            f"the teacher `{source}` has no output for some of the run's labels "
            f"({', '.join(model_labels(config.id2label))}; the run has {', '.join(labels)})",
            hint="let it be fine-tuned (fine_tune unset or True), or choose a keyword model with these labels",
        )
    if index is not None:
        _reorder_head(model, index, labels)
        note = "fine-tuned; its head reordered to the run's labels by name"
    else:
        _new_head(model, labels, cfg.seed)
        note = "fine-tuned with a new head for the run's labels"
    if cfg.freeze_feature_encoder and hasattr(model, "freeze_feature_encoder"):
        model.freeze_feature_encoder()
        note += "; feature encoder frozen"
    return Resolved(model, extractor, fine_tune=True, note=note)


def _head(model: PreTrainedModel) -> torch.nn.Linear:
    head = getattr(model, "classifier", None)
    if not isinstance(head, torch.nn.Linear):
        raise TeacherError(f"the teacher model ({type(model).__name__}) has no linear `classifier` head")
    return head


def _set_labels(model: PreTrainedModel, labels: tuple[str, ...]) -> None:
    model.config.num_labels = len(labels)
    model.config.id2label = dict(enumerate(labels))
    model.config.label2id = {label: i for i, label in enumerate(labels)}
    if hasattr(model, "num_labels"):
        model.num_labels = len(labels)


def _new_head(model: PreTrainedModel, labels: tuple[str, ...], seed: int) -> None:
    """A freshly initialised classifier with one output per run label."""
    old = _head(model)
    torch.manual_seed(seed)
    model.classifier = torch.nn.Linear(old.in_features, len(labels))
    _set_labels(model, labels)


def _reorder_head(model: PreTrainedModel, index: tuple[int, ...], labels: tuple[str, ...]) -> None:
    """A keyword model's trained head with its rows in the run's label order (unused outputs dropped)."""
    old = _head(model)
    head = torch.nn.Linear(old.in_features, len(labels))
    with torch.no_grad():
        head.weight.copy_(old.weight[list(index)])
        head.bias.copy_(old.bias[list(index)])
    model.classifier = head
    _set_labels(model, labels)
