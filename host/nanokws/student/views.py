"""Views for consistent teaching: strongly augmented versions of each training clip, their features (the
firmware's front end) and the teacher's logits on exactly that audio, cached in `<run>/views.joblib`.

A clip's views depend only on the clip (its manifest entry and bytes), the run's seed and the view settings,
so they are the same whichever clips are asked for and in whatever order. The cache is keyed by those, the
front end's library and the teacher's fingerprint: a new teacher or new settings recompute everything, a
new clip only its own views.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
from joblib import Parallel, delayed

from nanokws.atomic import atomic_path
from nanokws.audio import read_float, to_int16
from nanokws.config import FrontendConfig
from nanokws.data import augment
from nanokws.data.manifest import Entry
from nanokws.native import native_frontend
from nanokws.progress import Reporter
from nanokws.soft_labels import entry_key
from nanokws.stages.features import load_clips
from nanokws.student.config import StudentConfig, settings
from nanokws.teacher.base import HintTeacher, SegmentHintTeacher, Teacher

CACHE_NAME = "views.joblib"
FORMAT = 2
CHUNK = 128
# What a view is made of (not how long the student trains on them).
VIEW_FIELDS = (
    "views",
    *(
        f
        for f in StudentConfig.__dataclass_fields__
        if f.startswith("view_") and f not in ("view_epochs", "view_patience")
    ),
)


def make_views(
    clip: np.ndarray,
    noises: list[np.ndarray],
    cfg: StudentConfig,
    rate: int,
    rng: np.random.Generator,
    partners: np.ndarray | None = None,
) -> np.ndarray:
    """int16 [samples] -> int16 [cfg.views, samples]. `partners` (int16 [cfg.views, samples], other training
    clips) are what babble views mix in: one a view, when `cfg.view_babble_probability` picks it."""
    x = clip.astype(np.float32) / 32768.0
    out = []
    for v in range(cfg.views):
        y = x
        if rng.random() < cfg.view_pitch_probability:
            y = augment.shift_pitch(y, rate, float(rng.uniform(-cfg.view_pitch_semitones, cfg.view_pitch_semitones)))
        if cfg.view_formant_probability and rng.random() < cfg.view_formant_probability:
            y = augment.shift_formants(y, float(rng.uniform(*cfg.view_formant_range)))
        if cfg.view_vocoder_probability and rng.random() < cfg.view_vocoder_probability:
            y = augment.revoice(y, rate, rng)
        if rng.random() < cfg.view_speed_probability:
            y = augment.change_speed(y, float(rng.uniform(*cfg.view_speed)))
        if np.abs(y).max() > 1e-4:
            y = augment.trim_silence(y, rate)
        y = augment.place(y, x.size, rng)
        if rng.random() < cfg.view_reverb_probability:
            y = augment.reverberate(y, rate, rng, (0.2, 0.8))[: x.size]
        y = augment.set_peak(y, float(rng.uniform(*cfg.view_gain_db)))
        if partners is not None and cfg.view_babble_probability and rng.random() < cfg.view_babble_probability:
            other = partners[v].astype(np.float32) / 32768.0
            if np.abs(other).max() > 1e-4:
                other = augment.place(augment.trim_silence(other, rate), x.size, rng)
                y = augment.mix_at_snr(y, other, float(rng.uniform(*cfg.view_babble_snr_db)))
        if noises and rng.random() < cfg.view_noise_probability:
            noise = augment.random_segment(noises[int(rng.integers(len(noises)))], x.size, rng)
            y = augment.mix_at_snr(y, noise, float(rng.uniform(*cfg.view_snr_db)))
        out.append(to_int16(augment.soft_limit(y)))
    return np.stack(out)


def _settings(cfg: StudentConfig) -> dict[str, object]:
    return {f: v for f, v in settings(cfg).items() if f in VIEW_FIELDS}


@dataclass(frozen=True)
class Views:
    """The views of N clips and what the teacher said of them."""

    features: np.ndarray  # [N, views, frames, coeffs]
    logits: np.ndarray | None  # [N, views, labels]; None without a teacher
    hints: np.ndarray | None  # [N, views, dims] the teacher's state summaries (hint distillation), or None
    clip_hints: np.ndarray | None  # [N, dims] the same for the clips themselves
    key: str
    segments: np.ndarray | None = None  # [N, views, T, dims] the teacher's states over time (time-aligned hints)
    clip_segments: np.ndarray | None = None  # [N, T, dims] the same for the clips themselves


def wants_hints(cfg: StudentConfig, teacher: Teacher | None) -> bool:
    return cfg.hint_weight > 0 and isinstance(teacher, HintTeacher)


def wants_segments(cfg: StudentConfig, teacher: Teacher | None) -> bool:
    return cfg.segment_hint_weight > 0 and isinstance(teacher, SegmentHintTeacher)


def _states(
    teacher: Teacher | None, audio: np.ndarray, segments: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The teacher's logits, state summaries and (when `segments`) states over time, from one pass."""
    if segments:
        assert isinstance(teacher, SegmentHintTeacher)
        return teacher.logits_hints_and_segments(audio)
    assert isinstance(teacher, HintTeacher)
    return (*teacher.logits_and_hints(audio), None)


def views_key(cfg: StudentConfig, seed: int, frontend: FrontendConfig, teacher: Teacher | None) -> str:
    blob = {
        "hints": wants_hints(cfg, teacher),
        "settings": _settings(cfg),
        "seed": seed,
        "frontend": native_frontend(frontend).path.parent.name,
        "teacher": teacher.fingerprint() if teacher is not None else None,
        "format": FORMAT,
    }
    if wants_segments(cfg, teacher):  # only then, so that caches made before time-aligned hints stay valid
        blob["segments"] = True
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()


def _clip_rng(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([seed, int(key[:15], 16)])


def _partners(seed: int, key: str, pool: list[str], views: int) -> list[str]:
    """The clip's babble partners, one a view: other clips of `pool` (sorted keys), picked by the clip's own
    generator, so the same whatever else is computed and in whatever order, for the same set of clips."""
    own = bisect.bisect_left(pool, key)  # picks index the pool without the clip itself
    picks = np.random.default_rng([seed, int(key[:15], 16), 1]).integers(0, len(pool) - 1, size=views)
    return [pool[int(p) + (int(p) >= own)] for p in picks]


def _pool_key(key: str, cfg: StudentConfig, pool: list[str]) -> str:
    """Babble views depend on which other clips there are: the cache key then covers the set of clips."""
    if not cfg.view_babble_probability:
        return key
    return hashlib.sha256("\n".join([key, *pool]).encode()).hexdigest()


def compute_views(
    run_root: Path,
    entries: list[Entry],
    data_root: Path,
    cfg: StudentConfig,
    *,
    seed: int,
    frontend: FrontendConfig,
    teacher: Teacher | None,
    reporter: Reporter,
    jobs: int = 2,
) -> Views:
    """The views of `entries`: their features, the teacher's logits on them (None without a teacher) and,
    for hint distillation, the teacher's state summaries of the views and of the clips (and for time-aligned
    hints, its states over time)."""
    keys = [entry_key(e, data_root) for e in entries]
    pool = sorted(set(keys))
    key = _pool_key(views_key(cfg, seed, frontend, teacher), cfg, pool)
    hints = wants_hints(cfg, teacher)
    segments = wants_segments(cfg, teacher)
    path = run_root / CACHE_NAME
    # per clip: features, logits, view hints, clip hints, view segments, clip segments (absent parts None)
    rows: dict[str, tuple[np.ndarray | None, ...]] = {}
    if path.is_file():
        try:
            stored = joblib.load(path)
            if stored.get("key") == key:
                rows = stored["rows"]
            else:
                reporter.log("views: settings, front end or teacher changed, recomputing all")
        except Exception as e:  # a cache is disposable
            reporter.log(f"views: ignoring an unreadable cache ({type(e).__name__})")
    missing = [i for i, k in enumerate(keys) if k not in rows]
    if missing:
        noises = [read_float(p)[0] for p in sorted((data_root / "_background_noise_").glob("*.wav"))]
        babble: dict[str, np.ndarray] = {}
        if cfg.view_babble_probability and len(pool) > 1:
            babble = dict(zip(keys, load_clips(data_root, entries, frontend), strict=True))
        native = native_frontend(frontend)
        task = reporter.task(f"{cfg.views} views a clip (audio, front end, teacher)", len(missing))
        with Parallel(n_jobs=jobs) as workers:
            for lo in range(0, len(missing), CHUNK):
                idx = missing[lo : lo + CHUNK]
                if babble:  # every clip is loaded already
                    clips = np.stack([babble[keys[i]] for i in idx])
                else:
                    clips = load_clips(data_root, [entries[i] for i in idx], frontend)
                audio = workers(
                    delayed(make_views)(
                        clip, noises, cfg, frontend.sample_rate, _clip_rng(seed, keys[i]),
                        np.stack([babble[k] for k in _partners(seed, keys[i], pool, cfg.views)]) if babble else None,
                    )
                    for clip, i in zip(clips, idx, strict=True)
                )  # fmt: skip
                flat = np.concatenate(audio)
                feats = native.features(flat).reshape(len(idx), cfg.views, frontend.n_frames, frontend.n_mfcc)
                logits = view_hints = clip_hints = view_segments = clip_segments = None
                if hints or segments:
                    logits, view_hints, view_segments = _states(teacher, flat, segments)
                    _, clip_hints, clip_segments = _states(teacher, clips, segments)
                    if not hints:
                        view_hints = clip_hints = None
                elif teacher is not None:
                    logits = teacher.logits(flat)
                # [N * views, ...] -> [N, views, ...]; states kept as float16
                logits, view_hints, view_segments = (
                    None if a is None else a.reshape(len(idx), cfg.views, *a.shape[1:])
                    for a in (logits, view_hints, view_segments)
                )
                states = (view_hints, clip_hints, view_segments, clip_segments)
                parts = (feats, logits, *(None if a is None else a.astype(np.float16) for a in states))
                for j, i in enumerate(idx):
                    rows[keys[i]] = tuple(None if part is None else part[j] for part in parts)
                task.advance(len(idx))
        with atomic_path(path, suffix=".joblib") as tmp:
            joblib.dump({"key": key, "rows": rows}, tmp)

    def stacked(part: int, present: bool) -> np.ndarray | None:
        return np.stack([rows[k][part] for k in keys]).astype(np.float32) if present else None  # type: ignore[misc]

    return Views(
        features=np.stack([rows[k][0] for k in keys]),
        logits=stacked(1, teacher is not None),
        hints=stacked(2, hints),
        clip_hints=stacked(3, hints),
        key=key,
        segments=stacked(4, segments),
        clip_segments=stacked(5, segments),
    )
