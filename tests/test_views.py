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
from nanokws.student.config import StudentConfig, settings
from nanokws.student.train import StudentData
from nanokws.student.views import CACHE_NAME, compute_views, make_views

CFG = StudentConfig(views=3, hint_weight=0.0)  # hints are asked for where a test wants them
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
    v = compute_views(tmp_path, entries, root, CFG, teacher=teacher, **kwargs)
    feats, logits, key = v.features, v.logits, v.key
    assert v.hints is None and v.clip_hints is None  # no hint distillation asked for
    assert feats.shape == (8, 3, 49, 10) and logits is not None and logits.shape == (8, 3, 2)
    assert teacher.calls == 24 and (tmp_path / CACHE_NAME).is_file()

    again = EnergyTeacher()
    v2 = compute_views(tmp_path, entries[::-1], root, CFG, teacher=again, **kwargs)
    feats2, logits2, key2 = v2.features, v2.logits, v2.key
    assert again.calls == 0 and key2 == key  # read back, and the same whatever the order
    np.testing.assert_array_equal(feats2[::-1], feats)
    np.testing.assert_array_equal(logits2[::-1], logits)

    longer = dataclasses.replace(CFG, view_epochs=99)  # how long to train is not what a view is
    assert compute_views(tmp_path, entries, root, longer, teacher=again, **kwargs).key == key and again.calls == 0

    other = EnergyTeacher("b")
    key3 = compute_views(tmp_path, entries, root, CFG, teacher=other, **kwargs).key
    assert key3 != key and other.calls == 24

    stronger = dataclasses.replace(CFG, view_snr_db=(-5.0, 5.0))
    key4 = compute_views(tmp_path, entries, root, stronger, teacher=other, **kwargs).key
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


class HintEnergyTeacher(EnergyTeacher):
    """The stand-in teacher with a state summary: two numbers per clip that follow the audio."""

    def logits_and_hints(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits = self.logits(audio)
        peak = np.abs(audio.astype(np.float32)).max(axis=1) / 32768.0
        return logits, np.stack([logits[:, 0], peak], axis=1)


def test_hints_come_with_the_views_only_when_asked_and_key_the_cache(small_synth, tmp_path: Path) -> None:
    root, result = small_synth
    entries = [e for e in result.entries if e.split == "train"][:5]
    kwargs = {"seed": 42, "frontend": FE, "reporter": NullReporter(), "jobs": 1}
    hinted = dataclasses.replace(CFG, hint_weight=1.0)
    teacher = HintEnergyTeacher()
    v = compute_views(tmp_path, entries, root, hinted, teacher=teacher, **kwargs)
    assert v.hints is not None and v.hints.shape == (5, 3, 2)
    assert v.clip_hints is not None and v.clip_hints.shape == (5, 2)
    np.testing.assert_allclose(v.hints[..., 0], v.logits[..., 0], rtol=1e-3)  # one pass gives both
    plain = compute_views(tmp_path, entries, root, CFG, teacher=teacher, **kwargs)
    assert plain.hints is None and plain.key != v.key
    np.testing.assert_array_equal(plain.features, v.features)  # the views themselves are the same audio
    # a teacher without states gives no hints even when they are asked for
    assert compute_views(tmp_path, entries, root, hinted, teacher=EnergyTeacher(), **kwargs).hints is None


class SegmentEnergyTeacher(HintEnergyTeacher):
    """The stand-in teacher with states over time: the peak of each fifth of the clip."""

    def logits_hints_and_segments(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        logits, hints = self.logits_and_hints(audio)
        parts = np.abs(audio.astype(np.float32)).reshape(len(audio), 5, -1).max(axis=2) / 32768.0
        return logits, hints, parts[..., None]


def test_time_aligned_hints_come_with_the_views_only_when_asked(small_synth, tmp_path: Path) -> None:
    root, result = small_synth
    entries = [e for e in result.entries if e.split == "train"][:5]
    kwargs = {"seed": 42, "frontend": FE, "reporter": NullReporter(), "jobs": 1}
    teacher = SegmentEnergyTeacher()
    plain = compute_views(tmp_path, entries, root, dataclasses.replace(CFG, hint_weight=1.0), teacher=teacher, **kwargs)
    assert plain.segments is None and plain.clip_segments is None
    timed = dataclasses.replace(CFG, hint_weight=0.0, segment_hint_weight=1.0)
    v = compute_views(tmp_path, entries, root, timed, teacher=teacher, **kwargs)
    assert v.key != plain.key and v.hints is None
    assert v.segments is not None and v.segments.shape == (5, 3, 5, 1)
    assert v.clip_segments is not None and v.clip_segments.shape == (5, 5, 1)
    np.testing.assert_array_equal(v.features, plain.features)
    # the segments are the teacher's on exactly that audio: the loudest of them is the view's peak
    both = compute_views(
        tmp_path, entries, root, dataclasses.replace(timed, hint_weight=1.0), teacher=teacher, **kwargs
    )
    assert both.hints is not None and both.segments is not None
    np.testing.assert_allclose(both.segments.max(axis=(2, 3)), both.hints[..., 1], rtol=1e-3)
    np.testing.assert_allclose(both.clip_segments.max(axis=(1, 2)), both.clip_hints[:, 1], rtol=1e-3)
    # a teacher with pooled states only gives no segments
    assert compute_views(tmp_path, entries, root, timed, teacher=HintEnergyTeacher(), **kwargs).segments is None


def test_hint_targets_follow_the_training_set_order() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 49, 10)), np.arange(3)
    xv = rng.standard_normal((3, 2, 49, 10))
    h, hv = rng.standard_normal((3, 4)), rng.standard_normal((3, 2, 4))
    data = StudentData(x, y, None, x[:1], y[:1], np.zeros(10), xv, None, None, h, hv)
    hs = data.training_hints()
    assert hs is not None and hs.shape == (9, 4)
    np.testing.assert_array_equal(hs[:3], h)
    np.testing.assert_array_equal(hs[3 + 2 * 1 + 1], hv[1, 1])


def test_babble_views_mix_in_another_clip_and_key_the_cache_by_the_set_of_clips(small_synth, tmp_path: Path) -> None:
    root, result = small_synth
    entries = [e for e in result.entries if e.split == "train" and e.label not in ("_silence_",)][:6]
    kwargs = {"seed": 42, "frontend": FE, "reporter": NullReporter(), "jobs": 1}
    quiet = dataclasses.replace(CFG, view_noise_probability=0.0)
    babble = dataclasses.replace(quiet, view_babble_probability=1.0)
    assert "view_babble_probability" not in settings(quiet)  # off: old caches and students stay valid
    plain = compute_views(tmp_path / "a", entries, root, quiet, teacher=EnergyTeacher(), **kwargs)
    mixed = compute_views(tmp_path / "b", entries, root, babble, teacher=EnergyTeacher(), **kwargs)
    assert mixed.key != plain.key
    # every view has a second voice in it, so none equals its babble-free twin
    pairs = zip(mixed.features.reshape(-1, 49 * 10), plain.features.reshape(-1, 49 * 10), strict=True)
    assert not any(np.array_equal(m, p) for m, p in pairs)
    again = compute_views(tmp_path / "c", entries[::-1], root, babble, teacher=EnergyTeacher(), **kwargs)
    assert again.key == mixed.key  # the same clips in another order: the same partners
    np.testing.assert_array_equal(again.features[::-1], mixed.features)
    fewer = compute_views(tmp_path / "b", entries[:-1], root, babble, teacher=EnergyTeacher(), **kwargs)
    assert fewer.key != mixed.key  # another set of clips: other partners, so the cache is not reused


def test_the_teacher_judges_each_view_and_the_clips_keep_their_weight() -> None:
    y = np.array([0, 1])
    sure, lost = [9.0, 0.0], [0.0, 0.0]  # logits: the word, and a coin toss
    views = np.array([[sure, lost], [[0.0, 9.0], [30.0, 0.0]]], dtype=np.float32)  # [clips, views, classes]
    data = StudentData(np.zeros((2, 49, 10)), y, np.zeros((2, 2)), np.zeros((1, 49, 10)), np.zeros(1),
                       np.zeros(10), np.zeros((2, 2, 49, 10)), views)  # fmt: skip
    w = data.hard_weights()
    assert w.shape == (6,) and list(w[:2]) == [1.0, 1.0]
    np.testing.assert_allclose(w[2:], [1 / (1 + np.exp(-9)), 0.5, 1 / (1 + np.exp(-9)), 0.05], rtol=1e-5)
