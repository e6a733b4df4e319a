"""The default teacher: a Wav2Vec2 sequence classifier, fine-tuned with the HuggingFace `Trainer` or loaded.

`train_teacher` is the teacher stage. It takes the model named by `TeacherConfig.source` (a small Wav2Vec2
built from a config, a hub id or a local directory); a keyword model whose labels cover the run's is used
as it is, anything else is trained on the run's train split, evaluated on the validation split every epoch,
and the best epoch kept. Checkpoints go to `<run>/teacher_checkpoints/` so that an interrupted training
resumes; the result goes to `<run>/teacher/` in one rename, and the checkpoints are then deleted.

The same code runs as one process or under `torchrun` / `accelerate launch` (one process per GPU, or CPU
processes with the gloo backend): the `Trainer` shards the data and averages the gradients, every process
ends with the same weights, and only the world's process zero writes. See `nanokws.teacher.train_cli`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import (
    AutoFeatureExtractor,
    AutoModelForAudioClassification,
    PreTrainedModel,
    SequenceFeatureExtractor,
    TrainerCallback,
    TrainingArguments,
)

from nanokws import atomic
from nanokws.data.manifest import Entry, manifest_digest
from nanokws.errors import DatasetError
from nanokws.progress import NullReporter, Reporter
from nanokws.teacher import hf_training as hf
from nanokws.teacher.base import META_NAME, TeacherError, TeacherOutcome, store, stored
from nanokws.teacher.config import WAV2VEC2_DIR, TeacherConfig
from nanokws.teacher.inputs import SAMPLE_RATE, PadCollator, Preprocessing, make_dataset, read_clip
from nanokws.teacher.label_map import label_mapping, model_labels
from nanokws.teacher.models import Resolved, loading, parameter_checksum, resolve

TEACHER_DIR = WAV2VEC2_DIR
CHECKPOINT_DIR = "teacher_checkpoints"
INFER_BATCH = 64


class Wav2Vec2Teacher:
    """An audio-classification model and its feature extractor, answering in the run's label order."""

    def __init__(
        self,
        model: PreTrainedModel,
        extractor: SequenceFeatureExtractor,
        labels: tuple[str, ...],
        *,
        name: str,
        preprocessing: Preprocessing | None = None,
    ) -> None:
        index = label_mapping(model.config.id2label, labels)
        if index is None:
            raise TeacherError(
                f"the teacher's labels ({', '.join(model_labels(model.config.id2label))}) do not cover the "
                f"run's ({', '.join(labels)})",
                hint="fine-tune it on the run's data, or use a teacher trained on these labels",
            )
        self.model = model.eval()
        self.extractor = extractor
        self.index = index  # model output for each run label
        self.preprocessing = preprocessing or Preprocessing()
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
        """Changes with the weights, the label mapping, the feature extractor or the preprocessing."""
        if self._fingerprint is None:
            h = hashlib.sha256(parameter_checksum(self.model).encode())
            h.update(json.dumps(self.extractor.to_dict(), sort_keys=True, default=str).encode())
            h.update(json.dumps([dataclasses.asdict(self.preprocessing), self._labels, self.index]).encode())
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    @torch.no_grad()
    def logits(self, audio: np.ndarray) -> np.ndarray:
        """int16 [N, samples] at 16 kHz -> float32 [N, len(labels)]."""
        if audio.ndim != 2 or audio.dtype != np.int16:
            raise ValueError(f"expected int16 clips [N, samples], got {audio.dtype} {audio.shape}")
        clips = [self.preprocessing.apply(x) for x in audio]
        out = np.zeros((len(clips), len(self._labels)), dtype=np.float32)
        # Clips of similar length together: less padding. The attention mask keeps the padding from
        # changing any clip's result.
        order = np.argsort([c.size for c in clips], kind="stable")
        self.model.eval()
        for lo in range(0, len(order), INFER_BATCH):
            idx = order[lo : lo + INFER_BATCH]
            batch = self.extractor(
                [clips[i] for i in idx],
                sampling_rate=SAMPLE_RATE,
                padding=True,
                return_attention_mask=bool(self.extractor.return_attention_mask),
                return_tensors="pt",
            )
            logits = self.model(**batch).logits.float().cpu().numpy()
            out[idx] = logits[:, list(self.index)]
        return out

    def save(self, directory: Path, meta: dict[str, Any]) -> None:
        """`save_pretrained` output of model and extractor, and our record (`nanokws_teacher.json`)."""
        self.model.save_pretrained(directory)
        self.extractor.save_pretrained(directory)
        record = {"name": self._name, "preprocessing": dataclasses.asdict(self.preprocessing)} | meta
        atomic.write_json(directory / META_NAME, record)


def load_teacher(path: Path | str, labels: tuple[str, ...]) -> Wav2Vec2Teacher:
    """A teacher as it is, from `save_pretrained` output (a run's `teacher/`, or anyone's) or a hub id."""
    source = str(path)
    with loading(source):
        model = AutoModelForAudioClassification.from_pretrained(source)
        extractor = AutoFeatureExtractor.from_pretrained(source)
    meta_path = Path(source) / META_NAME
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    pre = Preprocessing(**meta.get("preprocessing", {}))
    return Wav2Vec2Teacher(model, extractor, labels, name=meta.get("name", source), preprocessing=pre)


def train_teacher(
    run_root: Path,
    labels: tuple[str, ...],
    entries: list[Entry],
    data_root: Path,
    cfg: TeacherConfig,
    *,
    resume: bool = False,
    force: bool = False,
    reporter: Reporter | None = None,
    callbacks: Sequence[TrainerCallback] = (),
) -> TeacherOutcome:
    """The teacher stage: make `<run>/teacher/` from `cfg`, the labels and the data, or find it up to date.

    `entries` is the whole manifest (clips under `data_root`): the train split is trained on, the validation
    split picks the best epoch, the test split is scored at the end. Skips when `<run>/teacher/` was made
    from the same inputs, unless `force`. With `resume`, training continues from the last checkpoint in
    `<run>/teacher_checkpoints/`; without it, old checkpoints are discarded. Under torchrun every process
    calls this and gets the same teacher back; only process zero writes.
    """
    reporter = reporter or NullReporter()
    labels = tuple(labels)
    unknown = sorted({e.label for e in entries} - set(labels))
    if unknown:
        raise DatasetError(
            f"the manifest has labels the run does not know: {', '.join(unknown)}",
            path=data_root / "manifest.jsonl",
            hint="re-create the data for this run's labels",
        )
    key = stage_key(labels, entries, cfg)
    if not force and (done := _up_to_date(run_root, labels, key)) is not None:
        return done
    start = time.perf_counter()
    with hf.quiet():
        resolved = resolve(labels, cfg)
        if resolved.fine_tune:
            outcome = _fine_tune(run_root, labels, entries, data_root, cfg, resolved, key, resume, reporter, callbacks)
        else:
            outcome = _use_as_is(run_root, labels, entries, data_root, cfg, resolved, key)
    outcome.seconds = time.perf_counter() - start
    return outcome


def stage_key(labels: tuple[str, ...], entries: list[Entry], cfg: TeacherConfig) -> str:
    """What a run's teacher is made from: the config, the source, the labels and the data."""
    blob = {"config": cfg.to_dict(), "source": _source_identity(cfg.source), "labels": labels}
    h = hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode())
    h.update(manifest_digest(entries).encode())
    return h.hexdigest()


def _source_identity(source: str) -> Any:
    """The source's name, and for a local directory its files (name, size, modification time)."""
    path = Path(source).expanduser()
    if not path.is_dir():
        return source
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return [source, [(str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns) for p in files]]


def _up_to_date(run_root: Path, labels: tuple[str, ...], key: str) -> TeacherOutcome | None:
    teacher_dir = run_root / TEACHER_DIR
    if (found := stored(teacher_dir, key)) is None:
        return None
    meta, history = found
    with hf.quiet():
        teacher = load_teacher(teacher_dir, labels)
    return TeacherOutcome(teacher, history=history, skipped=True, fine_tuned=bool(meta.get("fine_tuned")))


def _split(entries: list[Entry], name: str) -> list[Entry]:
    return [e for e in entries if e.split == name]


def _name(cfg: TeacherConfig) -> str:
    return "wav2vec2-scratch" if cfg.is_scratch else cfg.source


def _use_as_is(
    run_root: Path,
    labels: tuple[str, ...],
    entries: list[Entry],
    data_root: Path,
    cfg: TeacherConfig,
    resolved: Resolved,
    key: str,
) -> TeacherOutcome:
    """A keyword model that already knows the run's labels: scored on the data and stored, not trained."""
    teacher = Wav2Vec2Teacher(resolved.model, resolved.extractor, labels, name=_name(cfg))
    history: dict[str, Any] = {
        "fine_tuned": False,
        "source": cfg.source,
        "parameters": teacher.parameters,
        "label_index": list(teacher.index),
        "final_param_sha256": parameter_checksum(teacher.model),
    }
    for split in ("validation", "test"):
        part = _split(entries, split)
        if part:
            audio = np.stack([read_clip(data_root / e.path) for e in part])
            truth = np.array([labels.index(e.label) for e in part])
            history[f"{split}_accuracy"] = float(np.mean(teacher.logits(audio).argmax(axis=1) == truth))
    notes = (resolved.note,) if resolved.note else ()
    if hf.world()[0] == 0:
        store(run_root / TEACHER_DIR, teacher, history, {"key": key, "fine_tuned": False, "notes": list(notes)})
    hf.barrier()
    return TeacherOutcome(teacher, history, fine_tuned=False, notes=notes)


def _fine_tune(
    run_root: Path,
    labels: tuple[str, ...],
    entries: list[Entry],
    data_root: Path,
    cfg: TeacherConfig,
    resolved: Resolved,
    key: str,
    resume: bool,
    reporter: Reporter,
    callbacks: Sequence[TrainerCallback],
) -> TeacherOutcome:
    notes = [resolved.note] if resolved.note else []
    uses_mask = bool(getattr(resolved.extractor, "return_attention_mask", False))
    if cfg.trim_db is not None and not uses_mask:
        notes.append("whole clips, not trimmed: the model's feature extractor takes no attention mask")
    trim = cfg.trim_db if uses_mask else None
    pre = Preprocessing(trim, SAMPLE_RATE * cfg.min_trimmed_ms // 1000 if trim is not None else 0)

    train, val, test = (_split(entries, s) for s in ("train", "validation", "test"))
    if not train:
        raise DatasetError("no training clips in the manifest", path=data_root / "manifest.jsonl")
    train_ds = make_dataset(train, data_root, labels, resolved.extractor, pre)
    val_ds = make_dataset(val, data_root, labels, resolved.extractor, pre) if val else None
    test_ds = make_dataset(test, data_root, labels, resolved.extractor, pre) if test else None

    ckpt_dir = run_root / CHECKPOINT_DIR
    steps_per_epoch = -(-len(train) // (cfg.batch_size * hf.world()[1]))
    # Creating the arguments starts the process group under torchrun: barriers work from here on.
    args = _training_args(cfg, resolved.model, ckpt_dir, steps_per_epoch, has_val=val_ds is not None)
    hint = "run without --resume to train the teacher from the beginning"
    last = hf.start_checkpoints(ckpt_dir, key, resume, "teacher", hint, reporter)
    fitted = hf.fit(
        resolved.model, args, seed=cfg.seed, collator=PadCollator(resolved.extractor), train_ds=train_ds,
        val_ds=val_ds, processing_class=resolved.extractor, reporter=reporter, last=last, what="the teacher",
        callbacks=callbacks,
    )  # fmt: skip
    history = hf.history(fitted, cfg.source, steps_per_epoch, {"validation": val_ds, "test": test_ds})
    model = fitted.trainer.model
    assert isinstance(model, PreTrainedModel)
    teacher = Wav2Vec2Teacher(model, resolved.extractor, labels, name=_name(cfg), preprocessing=pre)
    meta = {"key": key, "fine_tuned": True, "notes": notes}
    hf.finish(fitted, ckpt_dir, lambda: store(run_root / TEACHER_DIR, teacher, history, meta))
    return TeacherOutcome(teacher, history, fine_tuned=True, notes=tuple(notes))


def _training_args(
    cfg: TeacherConfig, model: PreTrainedModel, out: Path, steps_per_epoch: int, *, has_val: bool
) -> TrainingArguments:
    lr = cfg.learning_rate if cfg.learning_rate is not None else (2e-3 if cfg.is_scratch else 3e-5)
    return hf.training_args(
        cfg, out, epochs=cfg.epochs, has_val=has_val, learning_rate=lr, lr_scheduler_type="linear",
        warmup_steps=int(cfg.warmup_fraction * hf.total_steps(cfg, cfg.epochs, steps_per_epoch)),
        weight_decay=cfg.weight_decay,
        # Layer drop skips layers at random, leaving their parameters without gradient in that step.
        ddp_find_unused_parameters=float(getattr(model.config, "layerdrop", 0.0)) > 0,
    )  # fmt: skip
