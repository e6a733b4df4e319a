"""The firmware's C front end, compiled for the host and called through ctypes: the trainer's features.

DESIGN.md §2: one implementation, two callers. The sources are firmware/lib/kws/kws_frontend.c and the
tables rendered from the run's FrontendConfig (codegen/frontend_export.py), built with the firmware's
floating-point flags; the shared library is cached per configuration and source hash, so it is compiled
once (about a second) and reused by every process.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from nanokws import atomic
from nanokws.codegen.frontend_export import render_frontend
from nanokws.codegen.host_build import CFLAGS, KERNEL_DIR, compile_c, compiler
from nanokws.config import FrontendConfig

GLUE = Path(__file__).with_name("native_frontend.c")
SOURCES = (KERNEL_DIR / "kws_frontend.c", KERNEL_DIR / "kws_frontend.h", GLUE)
CACHE_ENV = "NANOKWS_CACHE"


def cache_root() -> Path:
    """$NANOKWS_CACHE, else $XDG_CACHE_HOME/nanokws, else ~/.cache/nanokws."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nanokws"


def _build(cfg: FrontendConfig) -> Path:
    tables = render_frontend(cfg, {})
    key = hashlib.sha256(compiler().encode() + " ".join(CFLAGS).encode())
    key.update(repr(sorted(asdict(cfg).items())).encode())
    for text in tables.values():
        key.update(text.encode())
    for source in SOURCES:
        key.update(source.read_bytes())
    target = cache_root() / "frontend" / key.hexdigest()[:20] / "libkws_frontend.so"
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory(prefix="nanokws-frontend-") as work:
        gen = Path(work)
        for name, text in tables.items():
            (gen / name).write_text(text, encoding="utf-8")
        built = compile_c(
            [KERNEL_DIR / "kws_frontend.c", GLUE, gen / "kws_frontend_tables.c"],
            gen / target.name,
            include_dirs=(gen, KERNEL_DIR),
            shared=True,
        )
        atomic.write_bytes(target, built.read_bytes())
    return target


class NativeFrontend:
    """The C front end for one FrontendConfig: int16 audio in, float32 MFCC and int8 model inputs out."""

    def __init__(self, cfg: FrontendConfig) -> None:
        self.cfg = cfg
        self.path = _build(cfg)
        lib = ctypes.CDLL(str(self.path))
        lib.kws_host_fe_clip_frames.argtypes = [ctypes.c_int32]
        lib.kws_host_fe_clip_frames.restype = ctypes.c_int32
        lib.kws_host_fe_clips.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, ctypes.c_void_p]
        lib.kws_host_fe_clips.restype = None
        lib.kws_host_fe_stream.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32]
        lib.kws_host_fe_stream.restype = ctypes.c_int32
        lib.kws_frontend_quantize.argtypes = [
            ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_float, ctypes.c_int32,
        ]  # fmt: skip
        lib.kws_frontend_quantize.restype = None
        lib.kws_host_fe_normalize.argtypes = [ctypes.c_void_p, ctypes.c_int32]
        lib.kws_host_fe_normalize.restype = None
        lib.kws_host_fe_state_bytes.restype = ctypes.c_int32
        lib.kws_frontend_reset.argtypes = [ctypes.c_void_p]
        lib.kws_frontend_reset.restype = None
        lib.kws_host_fe_push_hops.argtypes = [
            ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.kws_host_fe_push_hops.restype = ctypes.c_int32
        lib.kws_logf.argtypes = [ctypes.c_float]
        lib.kws_logf.restype = ctypes.c_float
        self._lib = lib

    def mfcc(self, audio: np.ndarray) -> np.ndarray:
        """int16 clips [..., samples] -> float32 MFCC [..., frames, n_mfcc], framed as the numpy reference."""
        x = np.asarray(audio)
        if x.dtype != np.int16:
            raise TypeError(f"the C front end takes int16 audio, not {x.dtype}")
        lead, samples = x.shape[:-1], x.shape[-1]
        flat = np.ascontiguousarray(x.reshape(-1, samples))
        frames = int(self._lib.kws_host_fe_clip_frames(samples))
        out = np.zeros((flat.shape[0], frames, self.cfg.n_mfcc), dtype=np.float32)
        if flat.shape[0] and frames:
            self._lib.kws_host_fe_clips(flat.ctypes.data, flat.shape[0], samples, out.ctypes.data)
        return out.reshape(*lead, frames, self.cfg.n_mfcc)

    def normalize(self, windows: np.ndarray) -> np.ndarray:
        """Model input windows [..., frames, n_mfcc] (float32) as kws_frontend_normalize leaves them."""
        fe = self.cfg
        x = np.array(windows, dtype=np.float32, order="C", copy=True)
        if x.shape[-2:] != (fe.n_frames, fe.n_mfcc):
            raise ValueError(f"windows must end in ({fe.n_frames}, {fe.n_mfcc}), not {x.shape[-2:]}")
        count = int(np.prod(x.shape[:-2]))
        if count:
            self._lib.kws_host_fe_normalize(x.ctypes.data, count)
        return x

    def features(self, audio: np.ndarray) -> np.ndarray:
        """int16 clips [..., samples] -> the model's float input [..., frames, n_mfcc]: MFCC, normalized."""
        return self.normalize(self.mfcc(audio))

    def stream(self, audio: np.ndarray) -> np.ndarray:
        """An int16 stream from its first sample, hop by hop as the firmware sees it -> [frames, n_mfcc]."""
        x = np.ascontiguousarray(np.asarray(audio, dtype=np.int16).reshape(-1))
        capacity = max(0, x.size // self.cfg.hop_samples)
        out = np.zeros((capacity, self.cfg.n_mfcc), dtype=np.float32)
        n = int(self._lib.kws_host_fe_stream(x.ctypes.data, x.size, out.ctypes.data, capacity))
        return out[:n]

    def quantize(self, features: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
        """Float features -> int8 with the firmware's kws_frontend_quantize (TFLite's Quantize)."""
        x = np.ascontiguousarray(np.asarray(features, dtype=np.float32))
        out = np.empty(x.shape, dtype=np.int8)
        self._lib.kws_frontend_quantize(x.ctypes.data, out.ctypes.data, x.size, scale, zero_point)
        return out

    def streamer(self) -> FrontendStream:
        """A front end that keeps its state between blocks of one stream."""
        return FrontendStream(self)

    def logf(self, x: float) -> float:
        return float(self._lib.kws_logf(x))


class FrontendStream:
    """The firmware's front end over a stream fed in blocks: whole hops go in, rows come out; a partial hop
    waits for the next block."""

    def __init__(self, native: NativeFrontend) -> None:
        self._native = native
        self._lib = native._lib
        self._state = ctypes.create_string_buffer(int(self._lib.kws_host_fe_state_bytes()))
        self._lib.kws_frontend_reset(self._state)
        self._pending = np.zeros(0, dtype=np.int16)

    def push(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """int16 samples -> (rows [frames, n_mfcc], produced [hops] bool: which pushed hop made a row)."""
        cfg = self._native.cfg
        x = np.concatenate([self._pending, np.asarray(audio, dtype=np.int16).reshape(-1)])
        hops = x.size // cfg.hop_samples
        self._pending = x[hops * cfg.hop_samples :].copy()
        x = np.ascontiguousarray(x[: hops * cfg.hop_samples])
        rows = np.zeros((hops, cfg.n_mfcc), dtype=np.float32)
        produced = np.zeros(hops, dtype=np.uint8)
        if hops:
            n = self._lib.kws_host_fe_push_hops(
                self._state, x.ctypes.data, hops, rows.ctypes.data, produced.ctypes.data
            )
            rows = rows[:n]
        return rows, produced.astype(bool)


@functools.cache
def native_frontend(cfg: FrontendConfig) -> NativeFrontend:
    """One loaded library per configuration and process."""
    return NativeFrontend(cfg)
