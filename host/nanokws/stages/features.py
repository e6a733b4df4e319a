"""The front-end stage: MFCC features of every clip in the manifest, cached as `features.npz`.

The features are the firmware's: the C front end compiled for the host (native.py), DESIGN.md §2. The
cache is keyed by the manifest's digest, the front-end configuration and the front end's compiled library
(its sources and tables), so it is recomputed exactly when one of them changes.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from nanokws import atomic
from nanokws.audio import read_wav_int16
from nanokws.config import FrontendConfig, RunConfig
from nanokws.data.manifest import Entry, check_labels, manifest_digest, read_manifest
from nanokws.errors import DatasetError
from nanokws.native import native_frontend
from nanokws.progress import Reporter
from nanokws.rundir import RunDir

BATCH = 256


@dataclass(frozen=True)
class FeaturesOutcome:
    features: np.ndarray  # [clips, frames, n_mfcc] float32
    entries: list[Entry]
    key: str  # identifies the manifest and front end these features came from
    skipped: bool
    seconds: float = 0.0

    @property
    def clips_per_second(self) -> float:
        return len(self.entries) / self.seconds if self.seconds > 0 else float("inf")


def cache_key(entries: list[Entry], cfg: FrontendConfig) -> str:
    h = hashlib.sha256(manifest_digest(entries).encode())
    h.update(json.dumps(asdict(cfg), sort_keys=True).encode())
    h.update(native_frontend(cfg).path.parent.name.encode())  # the library's source and table hash
    return h.hexdigest()


def load_clips(root: Path, entries: list[Entry], cfg: FrontendConfig) -> np.ndarray:
    """The manifest's clips as int16 [clips, samples]; they were normalised when the data was made."""
    out = np.zeros((len(entries), cfg.clip_samples), dtype=np.int16)
    for i, e in enumerate(entries):
        x, rate = read_wav_int16(root / e.path)
        if rate != cfg.sample_rate or x.ndim != 1 or x.size != cfg.clip_samples:
            raise DatasetError(
                f"clip is not {cfg.sample_rate} Hz mono of {cfg.clip_samples} samples",
                path=root / e.path,
                hint="re-create the data with `host data ... --force`",
            )
        out[i] = x
    return out


def compute_features(run: RunDir, config: RunConfig, *, force: bool, reporter: Reporter) -> FeaturesOutcome:
    entries = read_manifest(run.data)
    check_labels(entries, config.labels, run.data, "the run's")
    key = cache_key(entries, config.frontend)
    if not force and run.features.is_file():
        with np.load(run.features) as cached:
            if str(cached["key"]) == key:
                return FeaturesOutcome(features=cached["features"], entries=entries, key=key, skipped=True)
    start = time.perf_counter()
    feats = np.zeros((len(entries), config.frontend.n_frames, config.frontend.n_mfcc), dtype=np.float32)
    frontend = native_frontend(config.frontend)
    task = reporter.task("computing MFCC", len(entries))
    for lo in range(0, len(entries), BATCH):
        batch = entries[lo : lo + BATCH]
        feats[lo : lo + len(batch)] = frontend.features(load_clips(run.data, batch, config.frontend))
        task.advance(len(batch))
    seconds = time.perf_counter() - start
    buf = io.BytesIO()
    np.savez(buf, features=feats, key=np.array(key), paths=np.array([e.path for e in entries]))
    atomic.write_bytes(run.features, buf.getvalue())
    return FeaturesOutcome(features=feats, entries=entries, key=key, skipped=False, seconds=seconds)
