"""Clips to model inputs: trimming, the feature extractor in a batched `datasets.map`, padding per batch.

The feature extractor normalises each clip on its own (in `map`, unpadded); `PadCollator` pads a training
batch to its longest clip and adds the attention mask when the model takes one, so padding never changes
what the model computes for a clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch
from transformers import SequenceFeatureExtractor

from nanokws.audio import read_wav_int16, to_float
from nanokws.data.manifest import Entry
from nanokws.errors import DatasetError
from nanokws.teacher.trim import trim_silence

SAMPLE_RATE = 16000
MAP_BATCH = 256


@dataclass(frozen=True)
class Preprocessing:
    """What is done to a clip before the feature extractor; part of a teacher's identity."""

    trim_db: float | None = None  # None: whole clips
    min_trimmed_samples: int = 0

    def apply(self, clip: np.ndarray) -> np.ndarray:
        """int16 clip -> float32 samples in [-1, 1), trimmed if configured."""
        if self.trim_db is not None:
            clip = trim_silence(clip, self.trim_db, self.min_trimmed_samples)
        return to_float(clip)


def read_clip(path: Path) -> np.ndarray:
    """A 16 kHz mono clip of the run's dataset as int16."""
    try:
        x, rate = read_wav_int16(path)
    except Exception as e:  # soundfile raises several types; its message says what is wrong
        raise DatasetError(f"cannot read the clip ({e})", path=path, hint="re-create the data") from e
    if rate != SAMPLE_RATE or x.ndim != 1:
        raise DatasetError(f"clip is not {SAMPLE_RATE} Hz mono", path=path, hint="re-create the data")
    return x


def prepare_batch(
    batch: dict[str, list[Any]], *, root: str, extractor: SequenceFeatureExtractor, pre: Preprocessing
) -> dict[str, Any]:
    """The `datasets.map` function: read, trim and normalise a batch of clips (no padding here)."""
    clips = [pre.apply(read_clip(Path(root) / p)) for p in batch["path"]]
    features = extractor(clips, sampling_rate=SAMPLE_RATE, return_attention_mask=False)
    return {"input_values": features["input_values"], "labels": batch["labels"]}


def make_dataset(
    entries: list[Entry],
    root: Path,
    labels: tuple[str, ...],
    extractor: SequenceFeatureExtractor,
    pre: Preprocessing,
) -> datasets.Dataset:
    """The clips of `entries` as model inputs (`input_values`, `labels`), in memory."""
    ds = datasets.Dataset.from_dict(
        {"path": [e.path for e in entries], "labels": [labels.index(e.label) for e in entries]}
    )
    ds = ds.map(
        prepare_batch,
        batched=True,
        batch_size=MAP_BATCH,
        remove_columns=["path"],
        fn_kwargs={"root": str(root), "extractor": extractor, "pre": pre},
        desc="teacher inputs",
    )
    return ds.with_format("numpy")


@dataclass(frozen=True)
class PadCollator:
    """Pads a batch to its longest clip, with the attention mask if the model's extractor asks for one."""

    extractor: SequenceFeatureExtractor

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = self.extractor.pad(
            [{"input_values": r["input_values"]} for r in rows],
            padding=True,
            return_attention_mask=bool(self.extractor.return_attention_mask),
            return_tensors="pt",
        )
        out = dict(batch)
        out["labels"] = torch.tensor([int(r["labels"]) for r in rows], dtype=torch.long)
        return out
