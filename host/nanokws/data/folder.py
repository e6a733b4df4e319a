"""`host data folder DIR`: a user's own recordings in the Speech Commands layout (`<word>/<file>`).

Folders named after a keyword are that class, `_silence_` is silence, `_background_noise_` holds noise
recordings, and any other word is `_unknown_`. Splits follow `validation_list.txt` / `testing_list.txt` when
the folder has them (as the real data set does), otherwise a stable hash of the speaker (`<speaker>_nohash_`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nanokws.config import RunConfig
from nanokws.data import ingest
from nanokws.data.manifest import SPLITS, Entry, write_manifest
from nanokws.data.splits import gsc_hash_name, split_of
from nanokws.errors import AudioError, DatasetError
from nanokws.labels import BACKGROUND_NOISE_DIR, SILENCE, UNKNOWN, class_of
from nanokws.progress import Reporter

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif"})


@dataclass(frozen=True)
class FolderResult:
    entries: list[Entry]
    stats: ingest.IngestStats
    unknown_dropped: int
    silence_made: int


def _audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def _list_file(src: Path, name: str) -> set[str]:
    p = src / name
    return set(p.read_text().split()) if p.is_file() else set()


def scan(src: Path, run: RunConfig) -> tuple[list[ingest.Source], list[Path]]:
    """The clips of a dataset folder with their class and split, and its background noise files."""
    if not src.exists():
        raise DatasetError("dataset folder not found", path=src, hint="check the path")
    if not src.is_dir():
        raise DatasetError(
            "the dataset path is a file, not a folder",
            path=src,
            hint="give the folder that holds <word>/ folders",
        )
    word_dirs = sorted(p for p in src.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not word_dirs:
        raise DatasetError(
            "the dataset folder has no class folders",
            path=src,
            hint="arrange clips as <word>/<speaker>_nohash_<n>.wav (the Speech Commands layout)",
        )
    validation, testing = _list_file(src, "validation_list.txt"), _list_file(src, "testing_list.txt")
    sources: list[ingest.Source] = []
    noise_files: list[Path] = []
    for d in word_dirs:
        files = _audio_files(d)
        if d.name == BACKGROUND_NOISE_DIR:
            noise_files = files
            continue
        if not files:
            raise DatasetError(
                f"class folder '{d.name}' holds no audio files ({', '.join(sorted(AUDIO_SUFFIXES))})",
                path=d,
                hint="add recordings to it or remove the empty folder",
            )
        label = SILENCE if d.name == SILENCE else class_of(d.name, run.labels)
        for f in files:
            rel = f"{d.name}/{f.name}"
            speaker = gsc_hash_name(f.name)
            if rel in validation:
                split = "validation"
            elif rel in testing:
                split = "test"
            else:
                split = split_of(f"{d.name}/{speaker}" if label == SILENCE else speaker, run.split)
            out = f"{d.name}/{Path(f.name).stem}.wav"
            entry = Entry(path=out, label=label, word=d.name, split=split, source="folder", speaker=speaker)
            sources.append(ingest.Source(name=str(f), entry=entry, path=f))
    if not sources:
        raise DatasetError("the dataset folder holds no clips outside _background_noise_", path=src)
    return sources, noise_files


def import_folder(
    src: Path,
    out_dir: Path,
    run: RunConfig,
    *,
    skip_bad: bool = False,
    recipe_percent: float | None = 10.0,
    jobs: int = 2,
    reporter: Reporter,
) -> FolderResult:
    """Normalise the folder's clips into `out_dir` and write the manifest.

    Unreadable files fail the import (listed by name) unless `skip_bad`. With `recipe_percent`, `_unknown_`
    is capped at that share of the keyword clips, and `_silence_` is cut from the background noise to the
    same share when the folder has no `_silence_` class; None keeps the folder as it is.
    """
    rng = np.random.default_rng(run.seed)
    sources, noise_files = scan(src, run)
    dropped = 0
    if recipe_percent is not None:
        sources, dropped = ingest.cap_unknown(sources, recipe_percent, rng)
    entries, stats = ingest.ingest(sources, out_dir, run.frontend, jobs, reporter)
    noises = {}
    for f in noise_files:
        try:
            noises[f.stem] = ingest.load_noise(str(f), run.frontend, path=f)
        except AudioError as e:
            stats.bad.append((str(f), e.what))
    if stats.bad and not skip_bad:
        raise ingest.unreadable_error(stats.bad, src)
    ingest.write_noises(noises, out_dir, run.frontend)
    made: list[Entry] = []
    if not any(e.label == SILENCE for e in entries) and noises and recipe_percent is not None:
        counts = {
            split: ingest.recipe_count(sum(e.split == split and e.label != UNKNOWN for e in entries), recipe_percent)
            for split in SPLITS
        }
        made = ingest.silence_entries(list(noises.values()), counts, out_dir, run.frontend, "folder", rng)
    entries = sorted(entries + made, key=lambda e: e.path)
    write_manifest(out_dir, entries)
    return FolderResult(entries=entries, stats=stats, unknown_dropped=dropped, silence_made=len(made))
