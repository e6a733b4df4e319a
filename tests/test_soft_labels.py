"""Soft labels: the teacher's logits per clip, cached in the run directory and recomputed exactly for what
changed: everything when the teacher changes, one row when a clip or its manifest entry changes."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import joblib
import numpy as np
import pytest

from nanokws.audio import read_wav_int16, write_wav
from nanokws.data.manifest import Entry
from nanokws.labels import LABELS
from nanokws.soft_labels import CACHE_NAME, soft_labels
from nanokws.teacher import Teacher


class CountingTeacher:
    """A stand-in teacher: logits are a fixed function of the audio and a seed; it counts the clips it scores."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.scored = 0

    @property
    def name(self) -> str:
        return f"counting-{self.seed}"

    @property
    def labels(self) -> tuple[str, ...]:
        return LABELS

    def fingerprint(self) -> str:
        return f"fingerprint-{self.seed}"

    def logits(self, audio: np.ndarray) -> np.ndarray:
        self.scored += len(audio)
        x = audio.astype(np.float32) / 32768.0
        w = np.random.default_rng(self.seed).standard_normal((x.shape[1], len(LABELS))).astype(np.float32)
        return (x @ w).astype(np.float32)


@pytest.fixture
def data(tmp_path, small_synth, small_entries) -> tuple[Path, list[Entry]]:
    """A private copy of 16 clips (the tests change files)."""
    src = small_synth[0]
    entries = small_entries[::4][:16]
    for e in entries:
        (tmp_path / "data" / e.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / e.path, tmp_path / "data" / e.path)
    return tmp_path / "data", entries


def test_the_counting_teacher_satisfies_the_protocol() -> None:
    assert isinstance(CountingTeacher(), Teacher)


def test_soft_labels_are_the_teachers_logits_and_a_second_call_reads_the_cache(tmp_path, data) -> None:
    root, entries = data
    teacher = CountingTeacher()
    first = soft_labels(tmp_path, teacher, entries, root)
    assert first.shape == (16, len(LABELS)) and first.dtype == np.float32
    assert teacher.scored == 16 and (tmp_path / CACHE_NAME).is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # written atomically, nothing left over

    again = CountingTeacher()
    np.testing.assert_array_equal(soft_labels(tmp_path, again, entries, root), first)
    assert again.scored == 0
    # Any order, any subset: rows follow the entries asked for.
    np.testing.assert_array_equal(soft_labels(tmp_path, again, entries[::-1][:5], root), first[::-1][:5])
    assert again.scored == 0


def test_another_teacher_recomputes_every_row(tmp_path, data) -> None:
    root, entries = data
    first = soft_labels(tmp_path, CountingTeacher(seed=0), entries, root)
    other = CountingTeacher(seed=1)
    second = soft_labels(tmp_path, other, entries, root)
    assert other.scored == 16 and not np.allclose(first, second)
    cache = joblib.load(tmp_path / CACHE_NAME)
    assert cache["teacher"] == other.fingerprint() and cache["labels"] == list(LABELS)


def test_a_changed_clip_or_entry_recomputes_its_row_only(tmp_path, data) -> None:
    root, entries = data
    first = soft_labels(tmp_path, CountingTeacher(), entries, root)

    # New audio under the same path (the data was made again with other settings).
    x, rate = read_wav_int16(root / entries[3].path)
    write_wav(root / entries[3].path, (x // 2).astype(np.int16), rate)
    # A manifest entry that changed without its file (relabelled).
    entries = list(entries)
    entries[7] = dataclasses.replace(entries[7], label="_unknown_", word="marvin")

    teacher = CountingTeacher()
    second = soft_labels(tmp_path, teacher, entries, root)
    assert teacher.scored == 2
    unchanged = [i for i in range(16) if i not in (3, 7)]
    np.testing.assert_array_equal(second[unchanged], first[unchanged])
    assert not np.allclose(second[3], first[3])
    np.testing.assert_allclose(second[7], first[7], rtol=1e-5, atol=1e-5)  # same audio: recomputed, same logits


def test_rows_of_clips_not_asked_for_stay_cached_but_one_row_per_path(tmp_path, data) -> None:
    root, entries = data
    soft_labels(tmp_path, CountingTeacher(), entries[:8], root)
    soft_labels(tmp_path, CountingTeacher(), entries[8:], root)
    teacher = CountingTeacher()
    soft_labels(tmp_path, teacher, entries, root)
    assert teacher.scored == 0  # the second call did not evict the first one's rows
    x = (np.random.default_rng(0).standard_normal(16000) * 3000).astype(np.int16)
    write_wav(root / entries[0].path, x, 16000)
    soft_labels(tmp_path, CountingTeacher(), entries, root)
    assert len(joblib.load(tmp_path / CACHE_NAME)["paths"]) == 16


def test_a_damaged_cache_is_recomputed_not_trusted(tmp_path, data) -> None:
    root, entries = data
    first = soft_labels(tmp_path, CountingTeacher(), entries, root)
    (tmp_path / CACHE_NAME).write_bytes(b"not a joblib file")
    teacher = CountingTeacher()
    np.testing.assert_array_equal(soft_labels(tmp_path, teacher, entries, root), first)
    assert teacher.scored == 16
