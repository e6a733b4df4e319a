"""The data stage: build `runs/<name>/data/` from one source, atomically, and skip when up to date."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nanokws.atomic import atomic_dir, write_json
from nanokws.config import RunConfig, SynthConfig, dataclass_to_json
from nanokws.data import folder, gsc, synth
from nanokws.data.manifest import Entry, read_manifest
from nanokws.progress import Reporter
from nanokws.rundir import RunDir

INFO_NAME = "dataset.json"


@dataclass(frozen=True)
class DataOutcome:
    entries: list[Entry]
    skipped: bool  # True: the data was already up to date
    seconds: float = 0.0
    notes: tuple[str, ...] = ()


def _stored_info(run: RunDir) -> dict[str, Any] | None:
    try:
        info = json.loads((run.data / INFO_NAME).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    info.pop("clips", None)
    info.pop("seconds", None)
    return info


def _current(run: RunDir, info: dict[str, Any], force: bool) -> DataOutcome | None:
    """The stored data, if it was made from `info` (and not `force`); None when it must be (re)built."""
    info = json.loads(json.dumps(info))  # as it reads back from disk: tuples become lists
    if not force and _stored_info(run) == info and (run.data / "manifest.jsonl").is_file():
        return DataOutcome(entries=read_manifest(run.data), skipped=True)
    return None


def _build(
    run: RunDir,
    info: dict[str, Any],
    force: bool,
    make: Callable[[Path], tuple[list[Entry], float, tuple[str, ...]]],
) -> DataOutcome:
    current = _current(run, info, force)
    if current is not None:
        return current
    with atomic_dir(run.data) as tmp:
        entries, seconds, notes = make(tmp)
        write_json(tmp / INFO_NAME, info | {"clips": len(entries), "seconds": round(seconds, 2)})
    return DataOutcome(entries=entries, skipped=False, seconds=seconds, notes=notes)


def synth_data(
    run: RunDir, config: RunConfig, synth_cfg: SynthConfig, *, jobs: int, force: bool, reporter: Reporter
) -> DataOutcome:
    info = {"source": "synth", "synth": dataclass_to_json(synth_cfg), "run": config.to_dict()}

    def make(tmp: Path) -> tuple[list[Entry], float, tuple[str, ...]]:
        result = synth.synthesize(tmp, synth_cfg, config, jobs=jobs, reporter=reporter)
        note = f"{result.renders} TTS renders, {result.clips_per_second:.1f} clips/s on {jobs} worker(s)"
        return result.entries, result.seconds, (note,)

    return _build(run, info, force, make)


def _fingerprint(src: Path) -> str:
    """Names, sizes and modification times of every file under `src`: re-import when any changes."""
    h = hashlib.sha256()
    if src.is_dir():
        for p in sorted(src.rglob("*")):
            if p.is_file():
                st = p.stat()
                h.update(f"{p.relative_to(src)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def folder_data(
    run: RunDir,
    config: RunConfig,
    src: Path,
    *,
    skip_bad: bool,
    recipe_percent: float | None,
    jobs: int,
    force: bool,
    reporter: Reporter,
) -> DataOutcome:

    folder.scan(src, config)  # fail early on a bad folder, before anything is compared or written
    info = {
        "source": "folder",
        "folder": str(src.resolve()),
        "fingerprint": _fingerprint(src),
        "skip_bad": skip_bad,
        "recipe_percent": recipe_percent,
        "run": config.to_dict(),
    }

    def make(tmp: Path) -> tuple[list[Entry], float, tuple[str, ...]]:
        start = time.perf_counter()
        result = folder.import_folder(
            src, tmp, config, skip_bad=skip_bad, recipe_percent=recipe_percent, jobs=jobs, reporter=reporter
        )
        notes = list(result.stats.warnings(config.frontend.sample_rate))
        if result.stats.bad:
            notes.append(f"skipped {len(result.stats.bad)} unreadable file(s) (--skip-bad)")
        if result.unknown_dropped:
            notes.append(f"left out {result.unknown_dropped} `_unknown_` clips to keep that class near 10%")
        if result.silence_made:
            notes.append(f"cut {result.silence_made} `_silence_` clips from the background noise")
        return result.entries, time.perf_counter() - start, tuple(notes)

    return _build(run, info, force, make)


def gsc_data(
    run: RunDir, config: RunConfig, *, cache_dir: Path | None, jobs: int, force: bool, reporter: Reporter
) -> DataOutcome:

    info = {"source": "gsc", "hub": f"{gsc.HUB_ID}:{gsc.HUB_CONFIG}", "run": config.to_dict()}
    current = _current(run, info, force)  # checked before the download, not only before the import
    if current is not None:
        return current
    splits = gsc.load_from_hub(cache_dir)

    def make(tmp: Path) -> tuple[list[Entry], float, tuple[str, ...]]:
        start = time.perf_counter()
        result = gsc.import_gsc(splits, tmp, config, jobs=jobs, reporter=reporter)
        notes = list(result.stats.warnings(config.frontend.sample_rate))
        return result.entries, time.perf_counter() - start, tuple(notes)

    return _build(run, info, force, make)
