"""Soft labels: the teacher's logits for every clip, cached in `<run>/soft_labels.joblib`.

Rows are keyed by the clip's manifest entry and the bytes of its file, and the whole cache by the teacher's
fingerprint and the label order: a changed teacher recomputes everything, a changed or new clip recomputes
its row only, an unchanged clip is read back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from nanokws.atomic import atomic_path
from nanokws.config import FrontendConfig
from nanokws.data.manifest import Entry
from nanokws.progress import NullReporter, Reporter
from nanokws.stages.features import load_clips
from nanokws.teacher.base import Teacher

CACHE_NAME = "soft_labels.joblib"
FORMAT = 1
BATCH = 256


def entry_key(entry: Entry, data_root: Path) -> str:
    """Identity of one clip: every manifest field and the file's content."""
    h = hashlib.blake2b(json.dumps(dataclasses.asdict(entry), sort_keys=True).encode(), digest_size=20)
    h.update((data_root / entry.path).read_bytes())
    return h.hexdigest()


def _read_cache(path: Path, teacher: Teacher, reporter: Reporter) -> dict[str, tuple[str, np.ndarray]]:
    """path -> (entry key, logits row), or nothing if the cache is absent, unreadable or another teacher's."""
    if not path.is_file():
        return {}
    try:
        cache = joblib.load(path)
        if cache["format"] != FORMAT:
            return {}
        if cache["teacher"] != teacher.fingerprint() or tuple(cache["labels"]) != tuple(teacher.labels):
            reporter.log("soft labels: the teacher changed, recomputing all")
            return {}
        return {p: (k, row) for p, k, row in zip(cache["paths"], cache["keys"], cache["logits"], strict=True)}
    except Exception as e:  # a cache is disposable: any damage means recompute
        reporter.log(f"soft labels: ignoring an unreadable cache ({type(e).__name__}: {e})")
        return {}


def soft_labels(
    run_root: Path,
    teacher: Teacher,
    entries: list[Entry],
    data_root: Path,
    reporter: Reporter | None = None,
) -> np.ndarray:
    """The teacher's logits for `entries`, float32 [len(entries), len(teacher.labels)], in the entries' order.

    Only the rows missing from the cache are computed. The cache keeps the rows of clips not asked for this
    time (so callers asking for different splits do not evict each other) but holds one row per path.
    """
    reporter = reporter or NullReporter()
    path = run_root / CACHE_NAME
    cached = _read_cache(path, teacher, reporter)
    keys = [entry_key(e, data_root) for e in entries]
    out = np.zeros((len(entries), len(teacher.labels)), dtype=np.float32)
    missing = []
    for i, (e, k) in enumerate(zip(entries, keys, strict=True)):
        hit = cached.get(e.path)
        if hit is not None and hit[0] == k:
            out[i] = hit[1]
        else:
            missing.append(i)
    if not missing:
        return out

    frontend = FrontendConfig()
    task = reporter.task("teacher soft labels", len(missing))
    for lo in range(0, len(missing), BATCH):
        idx = missing[lo : lo + BATCH]
        audio = load_clips(data_root, [entries[i] for i in idx], frontend)
        out[idx] = teacher.logits(audio)
        task.advance(len(idx))

    for i in missing:
        cached[entries[i].path] = (keys[i], out[i])
    paths = sorted(cached)
    store: dict[str, Any] = {
        "format": FORMAT,
        "teacher": teacher.fingerprint(),
        "teacher_name": teacher.name,
        "labels": list(teacher.labels),
        "paths": paths,
        "keys": [cached[p][0] for p in paths],
        "logits": np.stack([cached[p][1] for p in paths]).astype(np.float32),
    }
    with atomic_path(path) as tmp:
        joblib.dump(store, tmp)
    return out
