"""A teacher that has heard people and learned the run's words: Whisper tiny.en's encoder, fine-tuned.

`--teacher whisper-ft` takes the same packaged CTranslate2 Whisper as `--teacher whisper` (or
`whisper-ft:<dir or hub id>`), reads its float16 encoder weights back (teacher/ct2_weights.py) into
transformers' `WhisperForAudioClassification` and fine-tunes the whole encoder with the HuggingFace `Trainer`
on the run's training clips: a layer-wise learning rate (lower layers change less, so what the encoder
learned from human speech is kept), cosine decay, SpecAugment-style masks on the log-mel and label
smoothing. The positional table is cut to the run's clip length (one second: 100 log-mel frames, 50 encoder
states), as CTranslate2 does when it encodes a short input.

The result is ordinary `save_pretrained` output in `<run>/teacher_whisper_ft/`; checkpoints go to
`<run>/teacher_whisper_ft_checkpoints/` for `--resume`. The teacher answers with the model's logits and shows
its final encoder states as hints, as the frozen Whisper teacher does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from nanokws import atomic
from nanokws.data.manifest import Entry, manifest_digest
from nanokws.errors import DatasetError
from nanokws.progress import NullReporter, Reporter
from nanokws.teacher.base import META_NAME, TeacherError, TeacherOutcome, store, stored
from nanokws.teacher.config import TeacherConfig
from nanokws.teacher.ct2_weights import Ct2Model, read_ct2
from nanokws.teacher.whisper import POOL_SEGMENTS, WHISPER, file_sha256, model_dir

WHISPER_FT = "whisper-ft"
TEACHER_DIR = "teacher_whisper_ft"
CHECKPOINT_DIR = "teacher_whisper_ft_checkpoints"
SAMPLE_RATE = 16000
HOP = 160  # Whisper's log-mel hop: 100 frames a second
HEAD_DIM = 64  # every Whisper size has 64-dimensional attention heads
INFER_BATCH = 64
MAP_BATCH = 256


def is_whisper_ft(source: str) -> bool:
    return source == WHISPER_FT or source.startswith(WHISPER_FT + ":")


def ct2_dir(source: str) -> Path:
    """The CTranslate2 model directory named by `whisper-ft[:<dir or hub id>]`."""
    return model_dir(WHISPER + source[len(WHISPER_FT) :])


def frames_for(samples: int) -> int:
    if samples % (2 * HOP):
        raise TeacherError(f"clips of {samples} samples are not a whole number of Whisper's 20 ms states")
    return samples // HOP


# -- the model ------------------------------------------------------------------------------------------------


def whisper_classifier(directory: Path, ct2: Ct2Model, labels: tuple[str, ...], frames: int, seed: int) -> Any:
    """`WhisperForAudioClassification` over `labels`, its encoder carrying the weights of `ct2` (read from
    `directory`) and its head freshly initialised (seeded)."""
    import torch
    from transformers import WhisperConfig, WhisperForAudioClassification, set_seed

    if not ct2.spec.startswith("Whisper"):
        raise TeacherError(f"the CTranslate2 model is a {ct2.spec}, not a Whisper model", path=directory)
    width, mels, _ = ct2.array("encoder/conv1/weight").shape
    layers = sum(1 for n in ct2.variables if n.startswith("encoder/layer_") and n.endswith("ffn/linear_0/weight"))
    positions = ct2.array("encoder/position_encodings/encodings")
    if frames // 2 > len(positions):
        raise TeacherError(f"clips of {frames} log-mel frames are longer than the Whisper encoder takes")
    heads = ct2.scalar("encoder/num_heads") if "encoder/num_heads" in ct2.variables else width // HEAD_DIM
    config = WhisperConfig(
        num_mel_bins=mels,
        d_model=width,
        encoder_layers=layers,
        encoder_attention_heads=heads,
        encoder_ffn_dim=ct2.array("encoder/layer_0/ffn/linear_0/weight").shape[0],
        decoder_layers=1,  # the classifier has no decoder; the config asks for one
        max_source_positions=frames // 2,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        dropout=0.0,
        attention_dropout=0.0,
        activation_dropout=0.0,
        apply_spec_augment=False,  # masks are drawn by the data pipeline, on training clips only
    )
    set_seed(seed)
    model = WhisperForAudioClassification(config)
    encoder = model.encoder
    sd = {
        "conv1.weight": "encoder/conv1/weight",
        "conv1.bias": "encoder/conv1/bias",
        "conv2.weight": "encoder/conv2/weight",
        "conv2.bias": "encoder/conv2/bias",
        "layer_norm.weight": "encoder/layer_norm/gamma",
        "layer_norm.bias": "encoder/layer_norm/beta",
    }
    own = {k: ct2.array(v) for k, v in sd.items()}
    own["embed_positions.weight"] = positions[: frames // 2]
    for i in range(layers):
        p, q = f"layers.{i}.", f"encoder/layer_{i}/"
        qkv_w, qkv_b = ct2.array(q + "self_attention/linear_0/weight"), ct2.array(q + "self_attention/linear_0/bias")
        # CTranslate2 fuses the three projections. The key projection has no bias in Whisper (a bias there
        # would shift every key of a query by the same amount, which softmax ignores).
        for j, name in enumerate(("q_proj", "k_proj", "v_proj")):
            own[f"{p}self_attn.{name}.weight"] = qkv_w[j * width : (j + 1) * width]
            if name != "k_proj":
                own[f"{p}self_attn.{name}.bias"] = qkv_b[j * width : (j + 1) * width]
        for ours, theirs in (
            ("self_attn.out_proj", "self_attention/linear_1"),
            ("fc1", "ffn/linear_0"),
            ("fc2", "ffn/linear_1"),
        ):
            own[f"{p}{ours}.weight"] = ct2.array(f"{q}{theirs}/weight")
            own[f"{p}{ours}.bias"] = ct2.array(f"{q}{theirs}/bias")
        norms = (("self_attn_layer_norm", "self_attention/layer_norm"), ("final_layer_norm", "ffn/layer_norm"))
        for ours, theirs in norms:
            own[f"{p}{ours}.weight"] = ct2.array(f"{q}{theirs}/gamma")
            own[f"{p}{ours}.bias"] = ct2.array(f"{q}{theirs}/beta")
    expected = set(encoder.state_dict())
    if set(own) != expected:
        raise TeacherError(
            f"the CTranslate2 Whisper does not map onto transformers' encoder "
            f"(missing {sorted(expected - set(own))[:3]}, extra {sorted(set(own) - expected)[:3]})",
            path=directory,
        )
    with torch.no_grad():
        for name, tensor in encoder.state_dict().items():
            value = torch.from_numpy(np.ascontiguousarray(own[name], dtype=np.float32))
            if tuple(value.shape) != tuple(tensor.shape):
                raise TeacherError(f"the CTranslate2 weight for {name} has shape {tuple(value.shape)}", path=directory)
            tensor.copy_(value)
    return model


def layer_groups(model: Any, cfg: TeacherConfig) -> list[dict[str, Any]]:
    """AdamW parameter groups: the head, then the encoder from the top (final norm and last layer) down to the
    convolutions, each at `whisper_layer_decay` times the learning rate of the group above."""
    encoder = model.encoder
    head = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    levels: list[list[Any]] = [list(encoder.layer_norm.parameters())]
    levels[0] += list(encoder.layers[-1].parameters())
    levels += [list(layer.parameters()) for layer in reversed(encoder.layers[:-1])]
    levels.append([*encoder.conv1.parameters(), *encoder.conv2.parameters()])
    groups = [{"params": head, "lr": cfg.whisper_head_learning_rate}]
    for depth, params in enumerate(levels):
        trainable = [p for p in params if p.requires_grad]  # the positional table stays as Whisper has it
        groups.append({"params": trainable, "lr": cfg.whisper_learning_rate * cfg.whisper_layer_decay**depth})
    covered = sum(len(g["params"]) for g in groups)
    if covered != sum(1 for p in model.parameters() if p.requires_grad):
        raise TeacherError("the fine-tuning groups do not cover the model's trainable parameters")
    return groups


# -- inputs ---------------------------------------------------------------------------------------------------


def log_mel(extractor: Any, audio: np.ndarray, frames: int) -> np.ndarray:
    """int16 [N, samples] -> float32 [N, mels, frames], as the frozen Whisper teacher computes it."""
    x = np.asarray(audio, dtype=np.float32) / 32768.0
    mel = extractor(list(x), sampling_rate=SAMPLE_RATE, padding="longest", return_tensors="np").input_features
    return np.ascontiguousarray(mel[:, :, :frames], dtype=np.float32)


@dataclasses.dataclass
class SpecMask:
    """Time and frequency masks (filled with the clip's mean) on a batch of training log-mels.

    The n-th sample this process trains on draws its masks from its own generator, seeded (seed, rank, n), so
    a run resumed from a checkpoint draws the masks the uninterrupted run would have: `drawn` starts at the
    number of samples trained on before the checkpoint (samples_drawn)."""

    cfg: TeacherConfig
    seed: int
    rank: int = 0
    drawn: int = 0

    def __call__(self, batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        out = []
        for features in batch["input_features"]:
            rng = np.random.default_rng([self.seed, self.rank, self.drawn])
            self.drawn += 1
            m = np.array(features, dtype=np.float32)
            fill = float(m.mean())
            bands, frames = m.shape
            for _ in range(self.cfg.whisper_time_masks):
                width = int(rng.integers(0, self.cfg.whisper_time_mask_frames + 1))
                start = int(rng.integers(0, max(frames - width, 0) + 1))
                m[:, start : start + width] = fill
            for _ in range(self.cfg.whisper_freq_masks):
                width = int(rng.integers(0, self.cfg.whisper_freq_mask_bins + 1))
                start = int(rng.integers(0, max(bands - width, 0) + 1))
                m[start : start + width] = fill
            out.append(m)
        return {"input_features": out, "labels": batch["labels"]}


def samples_drawn(checkpoint: str | None, steps_per_epoch: int, per_epoch: int, batch_size: int) -> int:
    """How many training samples this process had drawn when `checkpoint` was saved (0 without one):
    `per_epoch` in each whole epoch, `batch_size` in each step of the epoch under way."""
    if checkpoint is None:
        return 0
    step = int(json.loads((Path(checkpoint) / "trainer_state.json").read_text())["global_step"])
    epochs, steps = divmod(step, steps_per_epoch)
    return epochs * per_epoch + steps * batch_size


def _collate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    import torch

    return {
        "input_features": torch.from_numpy(np.stack([np.asarray(r["input_features"], np.float32) for r in rows])),
        "labels": torch.tensor([int(r["labels"]) for r in rows], dtype=torch.long),
    }


def _mel_batch(batch: dict[str, list[Any]], *, root: str, extractor: Any, frames: int) -> dict[str, Any]:
    """The `datasets.map` function: read a batch of clips and compute their log-mel."""
    from nanokws.teacher.inputs import read_clip

    audio = np.stack([read_clip(Path(root) / p) for p in batch["path"]])
    return {"input_features": list(log_mel(extractor, audio, frames)), "labels": batch["labels"]}


def make_mel_dataset(entries: list[Entry], root: Path, labels: tuple[str, ...], extractor: Any, frames: int) -> Any:
    import datasets

    columns = {"path": [e.path for e in entries], "labels": [labels.index(e.label) for e in entries]}
    ds = datasets.Dataset.from_dict(columns)
    return ds.map(
        _mel_batch,
        batched=True,
        batch_size=MAP_BATCH,
        remove_columns=["path"],
        fn_kwargs={"root": str(root), "extractor": extractor, "frames": frames},
        desc="whisper log-mel",
    )


# -- the teacher ----------------------------------------------------------------------------------------------


class WhisperFtTeacher:
    """The fine-tuned classifier, answering in the run's label order (its head is trained on those labels)."""

    def __init__(self, model: Any, extractor: Any, labels: tuple[str, ...], *, name: str, frames: int) -> None:
        if tuple(model.config.id2label[i] for i in range(model.config.num_labels)) != tuple(labels):
            raise TeacherError("the fine-tuned Whisper was trained on other labels than the run's")
        self.model = model.eval()
        self.extractor = extractor
        self.frames = frames
        self._labels = tuple(labels)
        self._name = name
        self._fingerprint: str | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            from nanokws.teacher.models import parameter_checksum

            h = hashlib.sha256(parameter_checksum(self.model).encode())
            h.update(json.dumps([self.extractor.to_dict(), self.frames], sort_keys=True, default=str).encode())
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def logits(self, audio: np.ndarray) -> np.ndarray:
        return self.logits_hints_and_segments(audio)[0]

    def logits_and_hints(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, hints, _ = self.logits_hints_and_segments(audio)
        return logits, hints

    def logits_hints_and_segments(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Logits; the final encoder states' mean and max over the clip; their means over POOL_SEGMENTS
        consecutive stretches [N, POOL_SEGMENTS, width]."""
        import torch

        audio = np.asarray(audio)
        if audio.ndim != 2 or audio.dtype != np.int16:
            raise ValueError(f"expected int16 clips [N, samples], got {audio.dtype} {audio.shape}")
        logits, hints, segments = [], [], []
        with torch.no_grad():
            for lo in range(0, len(audio), INFER_BATCH):
                mel = torch.from_numpy(log_mel(self.extractor, audio[lo : lo + INFER_BATCH], self.frames))
                out = self.model(input_features=mel, output_hidden_states=True)
                states = out.hidden_states[-1].float().numpy()
                n, t, d = states.shape
                seg = states[:, : t - t % POOL_SEGMENTS].reshape(n, POOL_SEGMENTS, -1, d).mean(axis=2)
                logits.append(out.logits.float().numpy())
                hints.append(np.concatenate([states.mean(1), states.max(1)], axis=1))
                segments.append(seg)
        if not logits:
            width = self.model.config.d_model
            return (np.zeros((0, len(self._labels)), np.float32), np.zeros((0, 2 * width), np.float32),
                    np.zeros((0, POOL_SEGMENTS, width), np.float32))  # fmt: skip
        return (np.concatenate(logits).astype(np.float32), np.concatenate(hints).astype(np.float32),
                np.concatenate(segments).astype(np.float32))  # fmt: skip

    def save(self, directory: Path, meta: dict[str, Any]) -> None:
        self.model.save_pretrained(directory)
        self.extractor.save_pretrained(directory)
        atomic.write_json(directory / META_NAME, {"name": self._name, "frames": self.frames} | meta)


def load_whisper_ft(directory: Path, labels: tuple[str, ...]) -> WhisperFtTeacher:
    """A fine-tuned Whisper teacher from its `save_pretrained` directory."""
    from transformers import WhisperFeatureExtractor, WhisperForAudioClassification

    from nanokws.teacher.hf_training import quiet

    meta = json.loads((directory / META_NAME).read_text())
    with quiet():  # no "Loading weights" bar: progress goes through the Reporter
        model = WhisperForAudioClassification.from_pretrained(directory)
        extractor = WhisperFeatureExtractor.from_pretrained(directory)
    return WhisperFtTeacher(model, extractor, labels, name=meta["name"], frames=int(meta["frames"]))


# -- the stage ------------------------------------------------------------------------------------------------


def stage_key(labels: tuple[str, ...], entries: list[Entry], cfg: TeacherConfig, weights: str) -> str:
    blob = {"config": cfg.to_dict(), "weights": weights, "labels": list(labels)}
    h = hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode())
    h.update(manifest_digest(entries).encode())
    return h.hexdigest()


def _up_to_date(run_root: Path, labels: tuple[str, ...], key: str) -> TeacherOutcome | None:
    directory = run_root / TEACHER_DIR
    if (found := stored(directory, key)) is None:
        return None
    return TeacherOutcome(load_whisper_ft(directory, labels), history=found[1], skipped=True, fine_tuned=True)


def _training_args(cfg: TeacherConfig, out: Path, steps_per_epoch: int, *, has_val: bool) -> Any:
    from nanokws.teacher import hf_training as hf

    return hf.training_args(
        cfg, out, epochs=cfg.whisper_epochs, has_val=has_val,
        learning_rate=cfg.whisper_learning_rate,  # the groups carry their own rates; the schedule scales them
        lr_scheduler_type="cosine",
        warmup_steps=int(cfg.warmup_fraction * hf.total_steps(cfg, cfg.whisper_epochs, steps_per_epoch)),
        label_smoothing_factor=cfg.whisper_label_smoothing,
    )  # fmt: skip


def train_whisper_ft_teacher(
    run_root: Path,
    labels: tuple[str, ...],
    entries: list[Entry],
    data_root: Path,
    cfg: TeacherConfig,
    *,
    resume: bool = False,
    force: bool = False,
    reporter: Reporter | None = None,
) -> TeacherOutcome:
    """The teacher stage for `whisper-ft` sources: fine-tune on the train split, keep the epoch that scores best
    on the validation split, score the test split; or find `<run>/teacher_whisper_ft/` up to date."""
    import torch
    from transformers import WhisperFeatureExtractor

    from nanokws.teacher import hf_training as hf

    reporter = reporter or NullReporter()
    labels = tuple(labels)
    directory = ct2_dir(cfg.source)
    key = stage_key(labels, entries, cfg, file_sha256(directory / "model.bin"))
    if not force and (done := _up_to_date(run_root, labels, key)) is not None:
        return done
    start = time.perf_counter()
    train, val, test = ([e for e in entries if e.split == s] for s in ("train", "validation", "test"))
    if not train:
        raise DatasetError("no training clips in the manifest", path=data_root / "manifest.jsonl")
    from nanokws.teacher.inputs import read_clip

    frames = frames_for(len(read_clip(data_root / train[0].path)))
    with hf.quiet():
        ct2 = read_ct2(directory / "model.bin")
        extractor = WhisperFeatureExtractor(feature_size=int(ct2.array("encoder/conv1/weight").shape[1]))
        model = whisper_classifier(directory, ct2, labels, frames, cfg.seed)
        del ct2
        train_ds = make_mel_dataset(train, data_root, labels, extractor, frames)
        val_ds = make_mel_dataset(val, data_root, labels, extractor, frames).with_format("numpy") if val else None
        test_ds = make_mel_dataset(test, data_root, labels, extractor, frames).with_format("numpy") if test else None

        ckpt_dir = run_root / CHECKPOINT_DIR
        steps_per_epoch = -(-len(train) // (cfg.batch_size * hf.world()[1]))
        args = _training_args(cfg, ckpt_dir, steps_per_epoch, has_val=val_ds is not None)
        hint = "run without --resume to fine-tune from the beginning"
        last = hf.start_checkpoints(ckpt_dir, key, resume, "fine-tuned Whisper", hint, reporter)
        rank, size = hf.world()
        drawn = samples_drawn(last, steps_per_epoch, -(-len(train) // size), cfg.batch_size)
        train_ds.set_transform(SpecMask(cfg, cfg.seed, rank, drawn))
        optimizer = torch.optim.AdamW(layer_groups(model, cfg), weight_decay=cfg.weight_decay)
        fitted = hf.fit(
            model, args, seed=cfg.seed, collator=_collate, train_ds=train_ds, val_ds=val_ds,
            processing_class=extractor, reporter=reporter, last=last, what="the fine-tuned Whisper",
            optimizers=(optimizer, None),
        )  # fmt: skip
        history = hf.history(fitted, cfg.source, steps_per_epoch, {"validation": val_ds, "test": test_ds})
        teacher = WhisperFtTeacher(fitted.trainer.model, extractor, labels, frames=frames,
                                   name=f"whisper-tiny.en fine-tuned ({cfg.source})")  # fmt: skip
        hf.finish(fitted, ckpt_dir, lambda: store(run_root / TEACHER_DIR, teacher, history, {"key": key}))
    notes = tuple(f"{k} {v:.4f}" for k, v in history.items() if k.endswith("accuracy"))
    return TeacherOutcome(teacher, history=history, fine_tuned=True, seconds=time.perf_counter() - start, notes=notes)
