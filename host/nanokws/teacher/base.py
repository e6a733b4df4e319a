"""What the rest of the pipeline needs from a teacher: logits for clips, and an identity for caches."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from nanokws import atomic
from nanokws.errors import NanokwsError

META_NAME = "nanokws_teacher.json"  # our record beside a saved teacher's files
HISTORY_NAME = "history.json"


class TeacherError(NanokwsError):
    """A teacher that cannot be loaded, trained or mapped onto the run's labels."""


@runtime_checkable
class Teacher(Protocol):
    """A trained model that scores 1-second clips over the run's labels.

    `labels` is the run's label order, fixed when the teacher is loaded; `logits` returns columns in that
    order whatever order the model's own head uses. `fingerprint` changes whenever the weights or the
    preprocessing change, so caches of its outputs (soft labels) can be keyed on it.
    """

    @property
    def name(self) -> str: ...

    @property
    def labels(self) -> tuple[str, ...]: ...

    def fingerprint(self) -> str: ...

    def logits(self, audio: np.ndarray) -> np.ndarray:
        """int16 [N, samples] at 16 kHz -> float32 [N, len(labels)]."""
        ...


@runtime_checkable
class HintTeacher(Teacher, Protocol):
    """A teacher that also shows a summary of its internal states (for hint distillation)."""

    def logits_and_hints(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """int16 [N, samples] -> (logits [N, len(labels)], hints [N, dims]) from one pass of the model."""
        ...


@runtime_checkable
class SegmentHintTeacher(HintTeacher, Protocol):
    """A teacher that also shows its states over time: equal, consecutive segments of the clip, in order
    (for time-aligned hint distillation)."""

    def logits_hints_and_segments(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """int16 [N, samples] -> (logits, hints as `logits_and_hints` gives them, segments [N, T, dims])."""
        ...


@dataclass
class TeacherOutcome:
    """What a teacher stage made or found (every teacher kind returns this)."""

    teacher: Teacher
    history: dict[str, Any] = field(default_factory=dict)  # as in the teacher's history.json
    skipped: bool = False  # True: the run's teacher was up to date
    fine_tuned: bool = False
    seconds: float = 0.0
    notes: tuple[str, ...] = ()


class Saveable(Protocol):
    def save(self, directory: Path, meta: dict[str, Any]) -> None: ...


def store(target: Path, teacher: Saveable, history: dict[str, Any], meta: dict[str, Any]) -> None:
    """The trained teacher and its history into `target`, in one rename; the record names the source."""
    with atomic.atomic_dir(target) as tmp:
        teacher.save(tmp, meta | {"source": history["source"]})
        atomic.write_json(tmp / HISTORY_NAME, history)


def stored(directory: Path, key: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(record, history) of the teacher stored in `directory` if it was made from `key`, else None."""
    try:
        meta = json.loads((directory / META_NAME).read_text())
        history = json.loads((directory / HISTORY_NAME).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return (meta, history) if meta.get("key") == key else None
