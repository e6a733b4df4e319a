"""Host throughput of the training stages, in clips per second on this machine: TTS rendering (data
synthesis), the C front end (features), the Whisper teacher's encoder (the teacher stage's cost: its head
trains on cached embeddings in seconds) and one student epoch (DS-CNN S, batch 64, augmentation off)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from nanokws.config import RunConfig

TTS_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off")
FEATURE_CLIPS = 2000
TEACHER_CLIPS = 32
STUDENT_CLIPS = 2048


def _rate(n: int, fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return round(n / (time.perf_counter() - start), 1)


def synthesis_rate() -> float:
    from nanokws.data.tts import Render, render_batch, voices

    voice = voices("espeak-ng", accented=False)[0]
    renders = [Render(voice, w, 1.0) for w in TTS_WORDS]
    return _rate(len(renders), lambda: render_batch(renders))


def features_rate(cfg: RunConfig, audio: np.ndarray) -> float:
    from nanokws.native import native_frontend

    fe = native_frontend(cfg.frontend)
    fe.mfcc(audio[:8])  # build or load the library first
    return _rate(len(audio), lambda: fe.mfcc(audio))


def teacher_rate(audio: np.ndarray) -> float:
    from nanokws.teacher.whisper import WHISPER, WhisperEncoder, model_dir

    encoder = WhisperEncoder(model_dir(WHISPER))
    encoder.embed(audio[:2])  # first-call costs
    return _rate(len(audio), lambda: encoder.embed(audio))


def student_epoch_rate(cfg: RunConfig, seed: int = 42) -> float:
    import keras

    from nanokws.student.models import build

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    frames, coeffs = cfg.frontend.n_frames, cfg.frontend.n_mfcc
    x = rng.standard_normal((STUDENT_CLIPS, frames, coeffs, 1)).astype(np.float32)
    y = rng.integers(0, 12, STUDENT_CLIPS)
    model = build("ds_cnn_s", frames, coeffs, 12)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[:64], y[:64], batch_size=64, epochs=1, verbose=0)  # graph tracing
    return _rate(STUDENT_CLIPS, lambda: model.fit(x, y, batch_size=64, epochs=1, verbose=0))


def run(cfg: RunConfig, seed: int = 42) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    audio = (rng.standard_normal((FEATURE_CLIPS, cfg.frontend.clip_samples)) * 3000).astype(np.int16)
    return {
        "synthesis_clips_per_s": synthesis_rate(),
        "features_clips_per_s": features_rate(cfg, audio),
        "teacher_clips_per_s": teacher_rate(audio[:TEACHER_CLIPS]),
        "student_epoch_clips_per_s": student_epoch_rate(cfg, seed),
    }
