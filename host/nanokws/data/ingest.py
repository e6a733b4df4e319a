"""Bringing outside audio into a run: normalise each clip (16 kHz, mono, 1 s, int16) and write it, in parallel.

Shared by `host data folder` and `host data gsc`; also holds the standard recipe for `_silence_` and
`_unknown_` (about 10% each: silence cut from background noise, unknown words subsampled).
"""

from __future__ import annotations

import math
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nanokws.audio import load_clip, read_float, resample, to_int16, write_wav
from nanokws.config import FrontendConfig
from nanokws.data import augment
from nanokws.data.manifest import SPLITS, Entry
from nanokws.errors import AudioError, DatasetError
from nanokws.labels import BACKGROUND_NOISE_DIR, SILENCE, UNKNOWN
from nanokws.progress import Reporter

CHUNK = 64
MAX_LISTED = 20


@dataclass(frozen=True)
class Source:
    """One clip to bring in: where it is (a file, or encoded bytes) and what it is."""

    name: str  # shown in messages: the file's path or the data set's file name
    entry: Entry  # its manifest line (entry.path is where it goes in the run)
    path: Path | None = None
    data: bytes | None = None


@dataclass
class IngestStats:
    resampled: Counter[int] = field(default_factory=Counter)  # original rate -> files
    stereo: int = 0
    padded: int = 0
    cropped: int = 0
    bad: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)

    def merge(self, other: IngestStats) -> None:
        self.resampled.update(other.resampled)
        self.stereo += other.stereo
        self.padded += other.padded
        self.cropped += other.cropped
        self.bad += other.bad

    def warnings(self, sample_rate: int) -> list[str]:
        out = []
        if self.resampled:
            rates = ", ".join(f"{n} at {r} Hz" for r, n in sorted(self.resampled.items()))
            out.append(f"resampled to {sample_rate} Hz: {rates}")
        if self.stereo:
            out.append(f"mixed down to mono: {self.stereo} multi-channel files")
        if self.padded:
            out.append(f"zero-padded to the clip length: {self.padded} short files")
        if self.cropped:
            out.append(f"centre-cropped to the clip length: {self.cropped} long files")
        return out


def _ingest_chunk(sources: list[Source], out_dir: str, cfg: FrontendConfig) -> tuple[list[bool], IngestStats]:
    stats = IngestStats()
    ok = []
    for s in sources:
        try:
            clip = load_clip(Path(s.name) if s.path is None else s.path, cfg.sample_rate, cfg.clip_samples, s.data)
        except AudioError as e:
            stats.bad.append((s.name, e.what))
            ok.append(False)
            continue
        if clip.original_rate != cfg.sample_rate:
            stats.resampled[clip.original_rate] += 1
        stats.stereo += clip.original_channels > 1
        n_original = round(clip.original_seconds * cfg.sample_rate)
        stats.padded += n_original < cfg.clip_samples
        stats.cropped += n_original > cfg.clip_samples
        write_wav(Path(out_dir) / s.entry.path, clip.samples, cfg.sample_rate)
        ok.append(True)
    return ok, stats


def ingest(
    sources: list[Source], out_dir: Path, cfg: FrontendConfig, jobs: int, reporter: Reporter
) -> tuple[list[Entry], IngestStats]:
    """Normalise and write every source; unreadable ones are listed in the stats, not written."""
    stats = IngestStats()
    entries: list[Entry] = []
    task = reporter.task("importing clips", len(sources))
    chunks = [sources[i : i + CHUNK] for i in range(0, len(sources), CHUNK)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [(c, pool.submit(_ingest_chunk, c, str(out_dir), cfg)) for c in chunks]
        for chunk, fut in futures:
            ok, chunk_stats = fut.result()
            stats.merge(chunk_stats)
            entries += [s.entry for s, good in zip(chunk, ok, strict=True) if good]
            task.advance(len(chunk))
    return entries, stats


def load_noise(name: str, cfg: FrontendConfig, path: Path | None = None, data: bytes | None = None) -> np.ndarray:
    """A background noise recording of any length, as float at the front end's rate."""
    x, rate, _ = read_float(Path(name) if path is None else path, data)
    return resample(x, rate, cfg.sample_rate)


def write_noises(noises: dict[str, np.ndarray], out_dir: Path, cfg: FrontendConfig) -> None:
    for name, x in noises.items():
        write_wav(out_dir / BACKGROUND_NOISE_DIR / f"{name}.wav", to_int16(x), cfg.sample_rate)


def recipe_count(known: int, percent: float) -> int:
    """How many `_silence_` or `_unknown_` clips go with `known` keyword clips (TF's speech recipe)."""
    return math.ceil(known * percent / 100.0)


def silence_entries(
    noises: list[np.ndarray],
    counts: dict[str, int],
    out_dir: Path,
    cfg: FrontendConfig,
    source: str,
    rng: np.random.Generator,
) -> list[Entry]:
    """Cut `counts[split]` silence clips per split from the background noise and write them."""
    entries = []
    if not noises:
        return entries
    usable = [x for x in noises if x.size >= cfg.clip_samples]
    for split in SPLITS:
        for i in range(counts.get(split, 0)):
            path = f"{SILENCE}/{source}_{split}_nohash_{i}.wav"
            write_wav(out_dir / path, to_int16(augment.silence_clip(usable, cfg.clip_samples, rng)), cfg.sample_rate)
            entries.append(Entry(path, SILENCE, SILENCE, split, source, speaker=f"noise-{split}"))
    return entries


def cap_unknown(sources: list[Source], percent: float, rng: np.random.Generator) -> tuple[list[Source], int]:
    """Keep at most `percent`% (of the keyword clips) `_unknown_` clips per split, drawn at random."""
    kept: list[Source] = []
    dropped = 0
    for split in SPLITS:
        in_split = [s for s in sources if s.entry.split == split]
        unknown = [s for s in in_split if s.entry.label == UNKNOWN]
        known = [s for s in in_split if s.entry.label != UNKNOWN]
        limit = recipe_count(sum(s.entry.label != SILENCE for s in known), percent)
        if len(unknown) > limit:
            pick = sorted(rng.choice(len(unknown), size=limit, replace=False))
            dropped += len(unknown) - limit
            unknown = [unknown[i] for i in pick]
        kept += known + unknown
    return kept, dropped


def unreadable_error(bad: list[tuple[str, str]], where: Path) -> DatasetError:
    """One error naming the unreadable files (the first MAX_LISTED) and the way past them."""
    listed = "\n".join(f"    {name}: {why}" for name, why in bad[:MAX_LISTED])
    more = f"\n    ... and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
    return DatasetError(
        f"{len(bad)} file(s) could not be read:\n{listed}{more}",
        path=where,
        hint="fix or remove them, or pass --skip-bad to leave them out",
    )
