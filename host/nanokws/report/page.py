"""The report page as data: sections of notes, tables, figures and clips, which the template lays out.

Notes may quote a command between backticks; the template sets those in code type.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    title: str
    src: str  # a data: URI
    kind: str  # "confusion" or "curves": the template sizes them differently


@dataclass(frozen=True)
class ClipView:
    path: str
    true_label: str
    predicted: str
    score: float  # the model's output for the predicted class (dequantized softmax)
    true_score: float
    source: str  # engine / voice, or the data source
    src: str | None  # a data:audio/wav URI; None when the audio could not be read
    problem: str = ""


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    measured: bool  # False: the section says what is missing and how to make it
    notes: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()
    clips: tuple[ClipView, ...] = ()


@dataclass(frozen=True)
class Headline:
    label: str
    value: str


@dataclass(frozen=True)
class Page:
    title: str
    run: str
    model_sha256: str
    headlines: tuple[Headline, ...]
    sections: tuple[Section, ...]


def pct(x: Any) -> str:
    """An accuracy in [0, 1] as a percentage; a dash for a missing one."""
    if not isinstance(x, int | float) or isinstance(x, bool) or math.isnan(x):
        return "-"
    return f"{100 * x:.1f}%"


def points(x: float) -> str:
    """A difference of two accuracies in percentage points, with its sign."""
    return f"{100 * x:+.1f} pp"


def value(v: Any) -> str:
    """Any JSON value, readably: thousands separators for integers, 4 significant digits for floats."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
    if isinstance(v, str):
        return v
    return json.dumps(v, sort_keys=True)


def byte_size(v: Any) -> str:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return f"{v:,.0f} B ({v / 1024:.1f} KiB)"
    return value(v)


def key_values(d: dict[str, Any], caption: str = "", bytes_keys: bool = True) -> Table:
    """A two-column table of a JSON object; keys that name bytes are shown in bytes and KiB too."""
    rows = []
    for k, v in d.items():
        shown = byte_size(v) if bytes_keys and "bytes" in k else value(v)
        rows.append((k.replace("_", " "), shown))
    return Table(("measure", "value"), tuple(rows), caption)
