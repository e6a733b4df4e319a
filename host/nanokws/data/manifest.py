"""`data/manifest.jsonl`: one line a clip (path, label, split, source, speaker), the contract between stages."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from nanokws import atomic
from nanokws.errors import DatasetError

SPLITS: tuple[str, ...] = ("train", "validation", "test")
MANIFEST_NAME = "manifest.jsonl"


@dataclass(frozen=True)
class Entry:
    path: str  # relative to the dataset folder, POSIX separators
    label: str  # one of the run's classes
    word: str  # the folder it came from (`bed` for an `_unknown_` clip)
    split: str
    source: str  # synth, gsc or folder
    speaker: str  # the voice identity the split is disjoint on
    engine: str = ""  # the TTS engine for synth clips, else empty
    voice: str = ""  # engine-specific voice id (several voices may share one speaker)


def validate_entry(entry: Entry, root: Path) -> None:
    """Reject entries that escape the dataset folder (absolute paths, `..`) or name an unknown split."""
    p = PurePosixPath(entry.path)
    if p.is_absolute() or ".." in p.parts or "\\" in entry.path or not p.parts:
        raise DatasetError(
            f"manifest names a path outside the dataset folder: {entry.path!r}",
            path=root / MANIFEST_NAME,
            hint="paths in the manifest must be relative to the dataset folder, without '..'",
        )
    if entry.split not in SPLITS:
        raise DatasetError(f"manifest entry {entry.path} has unknown split {entry.split!r}", path=root)


def write_manifest(root: Path, entries: list[Entry]) -> Path:
    lines = [json.dumps(dataclasses.asdict(e), sort_keys=True) for e in entries]
    target = root / MANIFEST_NAME
    atomic.write_text(target, "\n".join(lines) + ("\n" if lines else ""))
    return target


def read_manifest(root: Path) -> list[Entry]:
    path = root / MANIFEST_NAME
    if not path.is_file():
        raise DatasetError(
            "no manifest in the dataset folder",
            path=path,
            hint="create the data first: `host data synth --run ...`",
        )
    entries = []
    fields = {f.name for f in dataclasses.fields(Entry)}
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            entry = Entry(**{k: v for k, v in raw.items() if k in fields})
        except (json.JSONDecodeError, TypeError) as e:
            raise DatasetError(f"manifest line {n} is malformed ({e})", path=path) from e
        validate_entry(entry, root)
        entries.append(entry)
    return entries


def check_labels(entries: list[Entry], labels: tuple[str, ...], root: Path, whose: str) -> None:
    """Refuse a manifest whose clips carry classes outside `labels` (the run's or the model's): naming the
    first clip of each, so the user can see where the stray class came from."""
    known = set(labels)
    stray: dict[str, str] = {}
    for e in entries:
        if e.label not in known:
            stray.setdefault(e.label, e.path)
    if stray:
        found = ", ".join(f"{label!r} (first at {path})" for label, path in sorted(stray.items()))
        raise DatasetError(
            f"the manifest has classes that are not {whose} labels: {found}",
            path=root / MANIFEST_NAME,
            hint=f"{whose} labels are {', '.join(labels)}; relabel those clips (a word outside the keywords is "
            "_unknown_) or train a run with those labels",
        )


def manifest_digest(entries: list[Entry]) -> str:
    """A hash of the manifest's content: later stages key their caches on it."""
    h = hashlib.sha256()
    for e in entries:
        h.update(json.dumps(dataclasses.asdict(e), sort_keys=True).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Summary:
    clips: dict[str, dict[str, int]]  # label -> split -> count
    speakers: dict[str, int]  # split -> distinct speakers
    engines: dict[str, dict[str, int]]  # engine -> split -> count

    @property
    def total(self) -> int:
        return sum(sum(v.values()) for v in self.clips.values())


def summarise(entries: list[Entry], labels: tuple[str, ...]) -> Summary:
    clips = {label: dict.fromkeys(SPLITS, 0) for label in labels}
    engines: dict[str, dict[str, int]] = {}
    speakers: dict[str, set[str]] = {s: set() for s in SPLITS}
    for e in entries:
        clips.setdefault(e.label, dict.fromkeys(SPLITS, 0))[e.split] += 1
        speakers[e.split].add(e.speaker)
        engines.setdefault(e.engine or e.source, dict.fromkeys(SPLITS, 0))[e.split] += 1
    return Summary(clips=clips, speakers={s: len(v) for s, v in speakers.items()}, engines=engines)


def count_by(entries: list[Entry], key: str) -> Counter[str]:
    return Counter(getattr(e, key) for e in entries)
