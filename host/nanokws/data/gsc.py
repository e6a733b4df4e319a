"""`host data gsc`: the real Google Speech Commands v0.01 through `datasets`, mapped to the 12 classes.

Keywords keep their names, the other 20 words become `_unknown_` (subsampled to about 10%), and `_silence_`
is cut from the background-noise recordings (about 10%), as TensorFlow's speech-commands recipe does. The
official test split is kept as published: it was already built with that recipe. Audio is decoded with
soundfile from the encoded bytes (`Audio(decode=False)`): `datasets` 5 would otherwise need torchcodec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nanokws.config import RunConfig
from nanokws.data import ingest
from nanokws.data.manifest import Entry, write_manifest
from nanokws.errors import AudioError, DatasetError
from nanokws.labels import SILENCE, UNKNOWN, class_of
from nanokws.progress import Reporter

HUB_ID = "google/speech_commands"
HUB_CONFIG = "v0.01"
HF_SPLITS: dict[str, str] = {"train": "train", "validation": "validation", "test": "test"}


@dataclass(frozen=True)
class GscResult:
    entries: list[Entry]
    stats: ingest.IngestStats
    unknown_dropped: int


def load_from_hub(cache_dir: Path | None = None) -> Mapping[str, Any]:
    """Download (or reuse the cache of) the real data set; fail with a way forward when offline."""
    import datasets

    try:
        return datasets.load_dataset(HUB_ID, HUB_CONFIG, cache_dir=str(cache_dir) if cache_dir else None)
    except Exception as e:  # the hub raises many kinds when offline: connection, 404 via proxy, offline mode
        raise DatasetError(
            f"could not load {HUB_ID} ({HUB_CONFIG}) from the Hugging Face hub: {type(e).__name__}: {e}"[:600],
            hint="this needs internet access. Offline, download the archive elsewhere, unpack it and run "
            "`host data folder <unpacked folder> --run ...`, or use the synthetic data: `host data synth`",
        ) from e


def _sources(ds: Any, split: str) -> tuple[list[ingest.Source], list[tuple[str, bytes]]]:
    from datasets import Audio

    ds = ds.cast_column("audio", Audio(decode=False))
    names = ds.features["label"].names
    sources: list[ingest.Source] = []
    noises: list[tuple[str, bytes]] = []
    for i, ex in enumerate(ds):
        word = names[ex["label"]]
        audio = ex["audio"]
        data = audio.get("bytes")
        name = ex.get("file") or audio.get("path") or f"{split}-{i}"
        if data is None:
            path = audio.get("path")
            if not path or not Path(path).is_file():
                raise DatasetError(f"example {i} of the {split} split has no audio bytes or file", path=name)
            data = Path(path).read_bytes()
        if word == SILENCE and split != "test":
            noises.append((name, data))  # whole background-noise recordings: silence is cut from them
            continue
        label = SILENCE if word == SILENCE else class_of(word)
        speaker = ex.get("speaker_id") or f"noise-{split}"
        stem = Path(name).stem
        entry = Entry(
            path=f"{word}/{split}_{stem}_{ex.get('utterance_id', 0)}_{i}.wav",
            label=label,
            word=word,
            split=split,
            source="gsc",
            speaker=str(speaker),
        )
        sources.append(ingest.Source(name=name, entry=entry, data=data))
    return sources, noises


def import_gsc(
    splits: Mapping[str, Any],
    out_dir: Path,
    run: RunConfig,
    *,
    recipe_percent: float = 10.0,
    jobs: int = 2,
    reporter: Reporter,
) -> GscResult:
    """Write the data set's splits in the Speech Commands layout with the 12-class mapping."""
    missing = [s for s in HF_SPLITS.values() if s not in splits]
    if missing:
        raise DatasetError(f"the data set lacks the split(s): {', '.join(missing)}")
    rng = np.random.default_rng(run.seed)
    sources: list[ingest.Source] = []
    noise_bytes: list[tuple[str, bytes]] = []
    for ours, theirs in HF_SPLITS.items():
        s, n = _sources(splits[theirs], ours)
        sources += s
        noise_bytes += n
    test = [s for s in sources if s.entry.split == "test"]
    rest, dropped = ingest.cap_unknown([s for s in sources if s.entry.split != "test"], recipe_percent, rng)
    entries, stats = ingest.ingest(rest + test, out_dir, run.frontend, jobs, reporter)
    if stats.bad:
        listed = "; ".join(f"{n}: {w}" for n, w in stats.bad[:10])
        raise DatasetError(f"{len(stats.bad)} clip(s) of the data set could not be decoded: {listed}")
    noises: dict[str, np.ndarray] = {}
    for name, data in noise_bytes:
        try:
            noises[Path(name).stem] = ingest.load_noise(name, run.frontend, data=data)
        except AudioError as e:
            raise DatasetError(f"background noise {name} could not be decoded: {e.what}") from e
    ingest.write_noises(noises, out_dir, run.frontend)
    counts = {
        split: ingest.recipe_count(sum(e.split == split and e.label != UNKNOWN for e in entries), recipe_percent)
        for split in ("train", "validation")
    }
    made = ingest.silence_entries(list(noises.values()), counts, out_dir, run.frontend, "gsc", rng)
    entries = sorted(entries + made, key=lambda e: e.path)
    write_manifest(out_dir, entries)
    return GscResult(entries=entries, stats=stats, unknown_dropped=dropped)
