"""Ensembles: several teachers answering as one (`--teacher whisper+scratch`, `whisper+facebook/wav2vec2-base`).

The members' log-probabilities are averaged (a geometric mean of their probabilities, returned as logits), so a
member that is sure counts for more than one that hesitates, and the temperature of distillation applies to the
ensemble as to any teacher. Hints (for hint distillation) come from the first member that shows its states.
Each member keeps its own directory in the run (`teacher/` for Wav2Vec2, `teacher_whisper/`), so an ensemble
reuses members trained alone and a member trained for an ensemble serves alone; hence at most one member of
each kind.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import log_softmax

from nanokws import atomic
from nanokws.data.manifest import Entry
from nanokws.progress import NullReporter, Reporter
from nanokws.teacher.base import HintTeacher, SegmentHintTeacher, Teacher, TeacherError, TeacherOutcome
from nanokws.teacher.config import WAV2VEC2_DIR, TeacherConfig

SEPARATOR = "+"
TEACHER_DIR = "teacher_ensemble"  # its history.json; the members' weights stay in their own directories


def is_ensemble(source: str) -> bool:
    return SEPARATOR in source


def teacher_dir_name(source: str) -> str:
    """The run's directory that holds the history.json of the teacher named by `source`."""
    from nanokws.teacher.whisper import TEACHER_DIR as WHISPER_DIR
    from nanokws.teacher.whisper import is_whisper
    from nanokws.teacher.whisper_ft import TEACHER_DIR as WHISPER_FT_DIR
    from nanokws.teacher.whisper_ft import is_whisper_ft

    if is_ensemble(source):
        return TEACHER_DIR
    if is_whisper_ft(source):
        return WHISPER_FT_DIR
    return WHISPER_DIR if is_whisper(source) else WAV2VEC2_DIR


def teacher_history_path(run_root: Path, source: str) -> Path:
    """The history.json of the teacher named by `source` in a run (what metrics.json and the report read)."""
    return run_root / teacher_dir_name(source) / "history.json"


def member_sources(source: str) -> tuple[str, ...]:
    """The members of `a+b[+c...]`, checked: no empty member, at most one Whisper and one Wav2Vec2."""
    from nanokws.teacher.whisper import is_whisper
    from nanokws.teacher.whisper_ft import is_whisper_ft

    parts = tuple(p.strip() for p in source.split(SEPARATOR))
    if len(parts) < 2 or not all(parts):
        raise TeacherError(
            f"the teacher ensemble {source!r} has an empty member",
            hint="name two or more teachers joined by '+', as in whisper+scratch",
        )
    whispers = sum(is_whisper(p) for p in parts)
    tuned = sum(is_whisper_ft(p) for p in parts)
    if whispers > 1 or tuned > 1 or len(parts) - whispers - tuned > 1:
        raise TeacherError(
            f"the teacher ensemble {source!r} has two members of one kind; each kind trains into one directory "
            "of the run",
            hint="combine at most one Whisper of each kind (whisper, whisper-ft) with one Wav2Vec2 teacher (scratch, "
            "a hub id or a directory), as in whisper+scratch",
        )
    return parts


def combine(member_logits: Sequence[np.ndarray]) -> np.ndarray:
    """The mean of the members' log-softmax, float32 [N, classes]."""
    logs = [log_softmax(np.asarray(z, dtype=np.float64), axis=1) for z in member_logits]
    return np.mean(logs, axis=0).astype(np.float32)


class EnsembleTeacher:
    """Teachers with the same labels, answering together."""

    def __init__(self, members: Sequence[Teacher]) -> None:
        if len(members) < 2:
            raise TeacherError("an ensemble needs at least two teachers")
        labels = members[0].labels
        for m in members[1:]:
            if tuple(m.labels) != tuple(labels):
                raise TeacherError(f"the teachers {members[0].name!r} and {m.name!r} answer over different labels")
        self.members = tuple(members)

    @property
    def name(self) -> str:
        return " + ".join(m.name for m in self.members)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.members[0].labels)

    def fingerprint(self) -> str:
        return hashlib.sha256(":".join(m.fingerprint() for m in self.members).encode()).hexdigest()

    def logits(self, audio: np.ndarray) -> np.ndarray:
        return combine([m.logits(audio) for m in self.members])

    def _with(self, first: Teacher, audio: np.ndarray, answer: Callable[[], tuple[Any, ...]]) -> tuple[Any, ...]:
        """`first`'s answer (logits first), its logits replaced by the ensemble's; one pass of each member."""
        out = answer()
        return (combine([out[0], *(m.logits(audio) for m in self.members if m is not first)]), *out[1:])


class HintEnsembleTeacher(EnsembleTeacher):
    """An ensemble with a member that shows its states: the hints are that member's."""

    def __init__(self, members: Sequence[Teacher], hinter: HintTeacher) -> None:
        super().__init__(members)
        self.hinter = hinter

    def logits_and_hints(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, hints = self._with(self.hinter, audio, lambda: self.hinter.logits_and_hints(audio))
        return logits, hints


class SegmentHintEnsembleTeacher(HintEnsembleTeacher):
    """An ensemble with a member that shows its states over time as well."""

    def __init__(self, members: Sequence[Teacher], hinter: SegmentHintTeacher) -> None:
        super().__init__(members, hinter)
        self.segmenter = hinter

    def logits_hints_and_segments(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        logits, hints, segments = self._with(
            self.segmenter, audio, lambda: self.segmenter.logits_hints_and_segments(audio)
        )
        return logits, hints, segments


def ensemble(members: Sequence[Teacher]) -> EnsembleTeacher:
    """The richest ensemble class the members allow (hints and time-aligned hints from the first that has them)."""
    segmenter = next((m for m in members if isinstance(m, SegmentHintTeacher)), None)
    if segmenter is not None:
        return SegmentHintEnsembleTeacher(members, segmenter)
    hinter = next((m for m in members if isinstance(m, HintTeacher)), None)
    if hinter is not None:
        return HintEnsembleTeacher(members, hinter)
    return EnsembleTeacher(members)


def train_ensemble(
    run_root: Path,
    labels: tuple[str, ...],
    entries: list[Entry],
    data_root: Path,
    cfg: TeacherConfig,
    train_member: Callable[[TeacherConfig], TeacherOutcome],
    *,
    reporter: Reporter | None = None,
) -> TeacherOutcome:
    """Train (or find up to date) each member with `train_member`, then score the ensemble on the validation and
    test clips (through the soft-label cache) into `<run>/teacher_ensemble/history.json`."""
    from nanokws.soft_labels import soft_labels

    reporter = reporter or NullReporter()
    start = time.perf_counter()
    outcomes = [train_member(dataclasses.replace(cfg, source=s)) for s in member_sources(cfg.source)]
    teacher = ensemble([o.teacher for o in outcomes])
    index = {label: i for i, label in enumerate(labels)}
    history: dict[str, Any] = {"source": cfg.source, "members": [o.history for o in outcomes]}
    for split in ("validation", "test"):
        chosen = [e for e in entries if e.split == split]
        if chosen:
            logits = soft_labels(run_root, teacher, chosen, data_root, reporter)
            y = np.array([index[e.label] for e in chosen])
            history[f"{split}_accuracy"] = float(np.mean(logits.argmax(axis=1) == y))
    history["parameters"] = sum(int(o.history.get("parameters") or 0) for o in outcomes)
    # What training the members took (their stored figures when they were up to date), not this call's time.
    history["train_seconds"] = sum(float(o.history.get("train_seconds") or 0.0) for o in outcomes)
    atomic.write_json(run_root / TEACHER_DIR / "history.json", history)
    notes = tuple(n for o in outcomes for n in o.notes)
    notes += tuple(f"ensemble {k} {v:.4f}" for k, v in history.items() if k.endswith("_accuracy"))
    return TeacherOutcome(
        teacher,
        history=history,
        skipped=all(o.skipped for o in outcomes),
        fine_tuned=any(o.fine_tuned for o in outcomes),
        seconds=time.perf_counter() - start,
        notes=notes,
    )
