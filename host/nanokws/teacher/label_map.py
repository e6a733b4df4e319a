"""Matching a model's output labels to the run's by name, so a keyword model trained elsewhere plugs in."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any


def normalise(name: str) -> str:
    """`_silence_`, `Silence` and `silence` are one label."""
    return name.strip().strip("_").lower()


def model_labels(id2label: Mapping[Any, str]) -> list[str]:
    """A model's labels in output order (config keys may be ints or strings)."""
    return [str(id2label[k]) for k in sorted(id2label, key=int)]


def has_named_labels(id2label: Mapping[Any, str] | None) -> bool:
    """False for a model without a trained head: `LABEL_0`, `LABEL_1`, ... are the transformers defaults."""
    return bool(id2label) and not all(re.fullmatch(r"LABEL_\d+", str(v)) for v in id2label.values())


def label_mapping(id2label: Mapping[Any, str] | None, labels: Sequence[str]) -> tuple[int, ...] | None:
    """For each run label, the index of the model output of the same name (case and `_` ignored).

    None when some run label has no output. Outputs the run does not use are ignored: their logits are
    dropped, so a 35-word model can teach the 12 classes only if it has `_unknown_` and `_silence_` outputs.
    """
    if id2label is None or not has_named_labels(id2label):
        return None
    by_name: dict[str, int] = {}
    for k, v in id2label.items():
        by_name.setdefault(normalise(str(v)), int(k))
    try:
        return tuple(by_name[normalise(label)] for label in labels)
    except KeyError:
        return None
