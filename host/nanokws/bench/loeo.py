"""Leave-one-engine-out: train on the clips of all TTS engines but one, test on the one left out.

The synthetic test split flatters (its voices come from engines the model trained on); a held-out engine is
the nearest thing to an unseen human voice this environment has. Each held-out engine gets two sub-runs,
with and without distillation, under `<run>/loeo/`; their clips are the parent run's (linked, not copied).
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nanokws import atomic
from nanokws.bench.loeo_table import loeo_name
from nanokws.data.manifest import Entry, read_manifest, write_manifest
from nanokws.errors import DatasetError
from nanokws.progress import Reporter
from nanokws.rundir import RunDir, open_run
from nanokws.stages.train import TrainOptions, train
from nanokws.student.config import StudentConfig

NOISE_ENGINE = "noise"


@dataclass(frozen=True)
class LoeoResult:
    held_out: str
    distill: bool
    test_clips: int
    float_accuracy: float
    int8_accuracy: float
    per_class: dict[str, float | None]
    teacher_accuracy: float | None = None  # the teacher's on the same held-out clips (distilled runs)


def held_out_entries(entries: list[Entry], engine: str) -> list[Entry]:
    """Train and validate on the other engines (their own splits); test on every clip of `engine`.

    `_silence_` clips keep their splits, so each test set also holds silence the model never saw.
    """
    out = []
    for e in entries:
        if e.engine == engine:
            out.append(dataclasses.replace(e, split="test"))
        elif e.engine == NOISE_ENGINE or e.split != "test":
            out.append(e)
    return out


def _link_data(parent: Path, child: Path, entries: list[Entry]) -> None:
    child.mkdir(parents=True, exist_ok=True)
    for folder in {e.path.split("/")[0] for e in entries}:
        link = child / folder
        if not link.exists():
            os.symlink(parent / folder, link)
    write_manifest(child, entries)


def run_loeo(
    run: RunDir,
    *,
    student: StudentConfig,
    teacher: Any,
    engines: tuple[str, ...] | None,
    reporter: Reporter,
    modes: tuple[bool, ...] = (True, False),
    tag: str = "",
) -> list[LoeoResult]:
    """Train without each engine in `engines` (all by default), distilled and/or not (`modes`), test on it.
    `tag` names a setting, so that several can be compared side by side in one run."""
    parent_run, config = open_run(run.root)
    entries = read_manifest(run.data)
    present = sorted({e.engine for e in entries} - {NOISE_ENGINE, ""})
    engines = engines or tuple(present)
    if len(present) < 2:
        raise DatasetError("leave-one-engine-out needs synthetic data from at least two engines", path=run.data)
    results = []
    for engine in engines:
        if engine not in present:
            raise DatasetError(f"no clips of engine {engine!r} in the run (it has {', '.join(present)})")
        subset = held_out_entries(entries, engine)
        for distill in modes:
            name = f"without-{engine}-{'distilled' if distill else 'hard'}"
            sub, _ = open_run(run.root / "loeo" / tag / name, config)
            _link_data(parent_run.data.resolve(), sub.data, subset)
            reporter.log(f"leave-one-engine-out: {name}")
            opts = TrainOptions(student=dataclasses.replace(student, distill=distill), teacher=teacher)
            metrics = train(sub, config, opts, reporter).metrics
            test = metrics["splits"]["test"]
            results.append(
                LoeoResult(
                    held_out=engine,
                    distill=distill,
                    test_clips=test["clips"],
                    float_accuracy=test["float"]["accuracy"],
                    int8_accuracy=test["int8"]["accuracy"],
                    per_class=test["int8"]["per_class"],
                    teacher_accuracy=(metrics.get("teacher") or {}).get("test_accuracy") if distill else None,
                )
            )
            # after every sub-run, so that an interrupted comparison keeps what it measured
            record_result(run.root / loeo_name(tag), results[-1])
    return results


def record_result(path: Path, result: LoeoResult) -> None:
    """Add `result` to the results file, replacing an earlier one for the same engine and mode; the others
    stay, so that engines of one setting can be measured in separate processes (the file is locked while it
    is read and rewritten)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            rows = json.loads(path.read_text()) if path.is_file() else []
        except json.JSONDecodeError:
            rows = []  # written atomically, so only a hand-edited file gets here
        rows = [r for r in rows if (r.get("held_out"), r.get("distill")) != (result.held_out, result.distill)]
        atomic.write_json(path, [*rows, dataclasses.asdict(result)])
