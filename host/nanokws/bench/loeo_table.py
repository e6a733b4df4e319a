"""The leave-one-engine-out results of every setting of a run side by side: `<run>/loeo.json` (the default
setting) and each `<run>/loeo-<tag>.json` written by `host bench loeo --tag`, one row per setting and mode,
one column per held-out engine and their mean, as text or Markdown."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


def loeo_name(tag: str) -> str:
    """The results file of a setting: loeo.json untagged, loeo-<tag>.json otherwise."""
    return f"loeo-{tag}.json" if tag else "loeo.json"


@dataclass(frozen=True)
class Row:
    setting: str
    mode: str  # "distilled", "hard" or "teacher"
    accuracy: dict[str, float]  # held-out engine -> int8 accuracy (the teacher's, for the teacher row)

    @property
    def model(self) -> str:
        return "teacher" if self.mode == "teacher" else f"int8 student, {self.mode}"

    def mean(self, engines: list[str]) -> float | None:
        """The mean over `engines`; None unless the row has all of them (a partial mean would not compare)."""
        if not engines or not all(e in self.accuracy for e in engines):
            return None
        return sum(self.accuracy[e] for e in engines) / len(engines)


def settings(run_root: Path) -> list[tuple[str, Path]]:
    found = [("default", run_root / loeo_name(""))] if (run_root / loeo_name("")).is_file() else []
    for path in sorted(run_root.glob("loeo-*.json")):
        found.append((path.stem.removeprefix("loeo-"), path))
    return found


def rows(run_root: Path) -> list[Row]:
    out: list[Row] = []
    for setting, path in settings(run_root):
        results = json.loads(path.read_text())
        for mode, distill in (("distilled", True), ("hard", False)):
            acc = {r["held_out"]: r["int8_accuracy"] for r in results if r["distill"] == distill}
            if acc:
                out.append(Row(setting, mode, acc))
        teacher = {r["held_out"]: r["teacher_accuracy"] for r in results if r.get("teacher_accuracy") is not None}
        if teacher:
            out.append(Row(setting, "teacher", teacher))
    return out


def markdown(table: list[Row]) -> str:
    engines = sorted({e for r in table for e in r.accuracy})
    lines = [
        "| setting | model | " + " | ".join(engines) + " | mean |",
        "|---|---|" + "---:|" * (len(engines) + 1),
    ]
    for r in table:
        cells = [f"{r.accuracy[e]:.3f}" if e in r.accuracy else "-" for e in engines]
        mean = r.mean(engines)
        cells.append("-" if mean is None else f"{mean:.3f}")
        lines.append(f"| {r.setting} | {r.model} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
