"""Render the front end's tables and the application's parameters (labels, detector) from a run's config.

The tables are the numpy reference's (frontend.py), computed in float64 and rounded once to float32; the
C front end in firmware/lib/kws/ reads nothing else. The same rendering serves `host export` (into the
firmware) and the trainer's host build of the front end (native.py), so both compile identical sources.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from nanokws.codegen.render import render, sha256
from nanokws.config import DetectorConfig, FrontendConfig
from nanokws.frontend import dct_matrix, hann_window, mel_weights

FRONTEND_FILES = ("kws_frontend_tables.h", "kws_frontend_tables.c")
APP_FILES = ("kws_app.h", "kws_app.c")


@dataclass(frozen=True)
class FrontendTables:
    window: np.ndarray  # float32 [window_samples], Hann / 32768
    cos: np.ndarray  # float32 [fft_size / 2 + 1]
    sin: np.ndarray
    mel_first_bin: np.ndarray  # uint16 [n_mels]
    mel_bins: np.ndarray  # uint16 [n_mels]
    mel_weights: np.ndarray  # float32, the non-zero weights of band 0, then band 1, ...
    dct: np.ndarray  # float32 [n_mfcc * n_mels]
    preroll: int  # samples before a clip so that its first window starts a frame


def preroll_samples(cfg: FrontendConfig) -> int:
    """The streaming front end's first window ends on a hop boundary; a clip fed after this many samples
    has its frames where the numpy reference puts them (at 0, hop, 2 hop, ...)."""
    return (cfg.hop_samples - cfg.window_samples % cfg.hop_samples) % cfg.hop_samples


def frontend_tables(cfg: FrontendConfig) -> FrontendTables:
    k = np.arange(cfg.fft_size // 2 + 1)
    weights = mel_weights(cfg)
    first, count, flat = [], [], []
    for band in weights:
        nonzero = np.flatnonzero(band > 0)
        lo, hi = (int(nonzero[0]), int(nonzero[-1]) + 1) if nonzero.size else (0, 0)
        first.append(lo)
        count.append(hi - lo)
        flat.append(band[lo:hi])
    return FrontendTables(
        window=(hann_window(cfg) / 32768.0).astype(np.float32),
        cos=np.cos(2.0 * np.pi * k / cfg.fft_size).astype(np.float32),
        sin=np.sin(2.0 * np.pi * k / cfg.fft_size).astype(np.float32),
        mel_first_bin=np.array(first, dtype=np.uint16),
        mel_bins=np.array(count, dtype=np.uint16),
        mel_weights=np.concatenate(flat).astype(np.float32),
        dct=dct_matrix(cfg).astype(np.float32).reshape(-1),
        preroll=preroll_samples(cfg),
    )


def _config_input(name: str, obj: object) -> tuple[str, str]:
    text = json.dumps(asdict(obj), sort_keys=True)  # type: ignore[call-overload]
    return name, sha256(text.encode())


def render_frontend(cfg: FrontendConfig, inputs: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """kws_frontend_tables.h/.c for `cfg`; `inputs` names where it came from (role -> (name, sha256))."""
    t = frontend_tables(cfg)
    all_inputs = {**inputs, "front end": _config_input("FrontendConfig", cfg)}
    context = {"fe": cfg, **asdict(t)}
    return {name: render(f"{name}.j2", all_inputs, context) for name in FRONTEND_FILES}


def render_app(
    labels: tuple[str, ...], detector: DetectorConfig, inputs: Mapping[str, tuple[str, str]]
) -> dict[str, str]:
    """kws_app.h/.c: the labels and the detector's parameters."""
    all_inputs = {**inputs, "detector": _config_input("DetectorConfig", detector)}
    context = {
        "labels": labels,
        "is_keyword": [0 if label.startswith("_") else 1 for label in labels],
        "det": detector,
    }
    return {name: render(f"{name}.j2", all_inputs, context) for name in APP_FILES}
