"""Consistent teaching: each training clip's augmented views, their features and the teacher's logits on
exactly that audio, cached per clip and recomputed when what they depend on changes."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np

from nanokws.audio import read_wav_int16
from nanokws.config import FrontendConfig
from nanokws.progress import NullReporter
from nanokws.student.config import StudentConfig
from nanokws.student.train import StudentData
from nanokws.student.views import CACHE_NAME, compute_views, make_views

CFG = StudentConfig(views=3)
FE = FrontendConfig()


class EnergyTeacher:
    """A stand-in teacher whose logits follow the audio: enough to tell views apart, and fast."""

    def __init__(self, tag: str = "a") -> None:
        self.tag = tag
        self.calls = 0

    @property
    def name(self) -> str:
        return "energy"

    @property
    def labels(self) -> tuple[str, ...]:
        return ("x", "y")

    def fingerprint(self) -> str:
        return hashlib.sha256(self.tag.encode()).hexdigest()

    def logits(self, audio: np.ndarray) -> np.ndarray:
        self.calls += len(audio)
        rms = np.sqrt(np.mean(audio.astype(np.float32) ** 2, axis=1))
        return np.stack([np.log1p(rms), -np.log1p(rms)], axis=1).astype(np.float32)


def test_views_are_new_audio_and_reproducible(small_synth) -> None:
    root, result = small_synth
    clip = read_wav_int16(root / result.entries[0].path)[0]
    a = make_views(clip, [], CFG, FE.sample_rate, np.random.default_rng(1))
    b = make_views(clip, [], CFG, FE.sample_rate, np.random.default_rng(1))
    assert a.shape == (3, clip.size) and a.dtype == np.int16
    np.testing.assert_array_equal(a, b)
    assert not any(np.array_equal(v, clip) for v in a)


def test_views_are_cached_per_clip_and_recomputed_when_the_teacher_changes(small_synth, tmp_path: Path) -> None:
    root, result = small_synth
    entries = [e for e in result.entries if e.split == "train"][:8]
    kwargs = {"seed": 42, "frontend": FE, "reporter": NullReporter(), "jobs": 1}
    teacher = EnergyTeacher()
    feats, logits, key = compute_views(tmp_path, entries, root, CFG, teacher=teacher, **kwargs)
    assert feats.shape == (8, 3, 49, 10) and logits is not None and logits.shape == (8, 3, 2)
    assert teacher.calls == 24 and (tmp_path / CACHE_NAME).is_file()

    again = EnergyTeacher()
    feats2, logits2, key2 = compute_views(tmp_path, entries[::-1], root, CFG, teacher=again, **kwargs)
    assert again.calls == 0 and key2 == key  # read back, and the same whatever the order
    np.testing.assert_array_equal(feats2[::-1], feats)
    np.testing.assert_array_equal(logits2[::-1], logits)

    longer = dataclasses.replace(CFG, view_epochs=99)  # how long to train is not what a view is
    assert compute_views(tmp_path, entries, root, longer, teacher=again, **kwargs)[2] == key and again.calls == 0

    other = EnergyTeacher("b")
    _, _, key3 = compute_views(tmp_path, entries, root, CFG, teacher=other, **kwargs)
    assert key3 != key and other.calls == 24

    stronger = dataclasses.replace(CFG, view_snr_db=(-5.0, 5.0))
    _, _, key4 = compute_views(tmp_path, entries, root, stronger, teacher=other, **kwargs)
    assert key4 not in (key, key3) and other.calls == 48


def test_student_trains_on_clips_then_views_with_their_own_teacher_logits() -> None:
    rng = np.random.default_rng(0)
    x, y, t = rng.standard_normal((4, 49, 10)), np.arange(4), rng.standard_normal((4, 12))
    xv, tv = rng.standard_normal((4, 2, 49, 10)), rng.standard_normal((4, 2, 12))
    data = StudentData(x, y, t, x[:1], y[:1], np.zeros(10), xv, tv)
    xs, ys, ts = data.training_set()
    assert xs.shape == (12, 49, 10) and ys.tolist() == [0, 1, 2, 3, 0, 0, 1, 1, 2, 2, 3, 3]
    np.testing.assert_array_equal(xs[4], xv[0, 0])
    np.testing.assert_array_equal(ts[5], tv[0, 1])
