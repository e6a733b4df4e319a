"""What a report is made from: the run directory's artifacts, read once, with the optional ones tolerated.

The required artifacts (the run's config and metrics.json) raise a clear error when missing; an optional one
(bench.json, hil.json, loeo.json, histories) that is absent is None, and one that cannot be parsed is None
with a note saying why, so the page tells the reader instead of the command failing.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nanokws.bench.loeo_table import Row
from nanokws.bench.loeo_table import rows as loeo_rows
from nanokws.config import RunConfig
from nanokws.data.manifest import Entry, read_manifest
from nanokws.errors import ConfigError, DatasetError
from nanokws.rundir import RunDir, open_run
from nanokws.teacher.ensemble import teacher_history_path

GENERATED_HEADER = Path(__file__).resolve().parents[3] / "firmware" / "generated" / "kws_model.h"


@dataclass(frozen=True)
class GeneratedModel:
    """What `host export` wrote about this run's model into firmware/generated/ (when it was this model)."""

    arena_bytes: int
    weight_bytes: int | None


@dataclass
class RunArtifacts:
    run: RunDir
    config: RunConfig
    metrics: dict[str, Any]
    entries: list[Entry] | None  # the dataset manifest; None when unreadable (see notes)
    dataset_info: dict[str, Any] | None
    student_history: list[dict[str, Any]] | None
    teacher_history: dict[str, Any] | None
    loeo: list[dict[str, Any]] | None
    loeo_settings: list[Row] | None  # every setting of `host bench loeo-table` (loeo.json, loeo-<tag>.json)
    hil: dict[str, Any] | None
    bench: dict[str, Any] | None
    model: bytes | None
    generated: GeneratedModel | None
    notes: dict[str, list[str]] = field(default_factory=dict)  # section id -> problems met while reading

    def note(self, section: str, text: str) -> None:
        self.notes.setdefault(section, []).append(text)

    @property
    def model_sha256(self) -> str | None:
        return hashlib.sha256(self.model).hexdigest() if self.model is not None else None


def _read_json(path: Path, artifacts: RunArtifacts | None = None, section: str = "") -> Any:
    """Parsed JSON, or None if the file is absent; an unreadable file is None with a note on `section`."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        if artifacts is None:
            raise ConfigError(f"cannot read {path.name} ({e})", path=path) from e
        artifacts.note(section, f"{path.name} could not be read ({e}); it is left out")
        return None


def _expect(value: Any, kind: type, artifacts: RunArtifacts, section: str, name: str) -> Any:
    if value is None or isinstance(value, kind):
        return value
    artifacts.note(section, f"{name} does not hold a JSON {kind.__name__}; it is left out")
    return None


def read_generated(header: Path, model_sha256: str | None) -> GeneratedModel | None:
    """The arena and weight sizes of firmware/generated/kws_model.h, if it was generated from this model."""
    if model_sha256 is None or not header.is_file():
        return None
    text = header.read_text(errors="replace")
    if f"sha256 {model_sha256}" not in text:
        return None  # exported from another model
    arena = re.search(r"#define\s+KWS_MODEL_ARENA_BYTES\s+(\d+)", text)
    weights = re.search(r"(\d+) bytes of weights and biases", text)
    if arena is None:
        return None
    return GeneratedModel(int(arena.group(1)), int(weights.group(1)) if weights else None)


def load_artifacts(root: Path, generated_header: Path = GENERATED_HEADER) -> RunArtifacts:
    if not root.exists():
        raise ConfigError("no such run directory", path=root, hint="give the --run directory of `host train`")
    if not (root / "config.json").is_file():
        raise ConfigError(
            "not a run directory (no config.json)", path=root, hint="make one with `host data synth --run ...`"
        )
    run, config = open_run(root)
    metrics = _read_json(run.root / "metrics.json")
    if metrics is None:
        raise ConfigError(
            "the run has no metrics.json: it has not been trained and evaluated yet",
            path=run.root / "metrics.json",
            hint=f"run `host train --run {root}` first",
        )
    if not isinstance(metrics, dict) or not isinstance(metrics.get("splits"), dict):
        raise ConfigError(
            "metrics.json has no per-split results", path=run.root / "metrics.json", hint="run `host train` again"
        )
    a = RunArtifacts(run, config, metrics, None, None, None, None, None, None, None, None, None, None)
    try:
        a.entries = read_manifest(run.data)
    except DatasetError as e:
        a.note("data", f"the dataset manifest could not be read: {e.what}")
    a.dataset_info = _expect(_read_json(run.data / "dataset.json", a, "data"), dict, a, "data", "dataset.json")
    a.student_history = _expect(
        _read_json(run.root / "student_history.json", a, "training"), list, a, "training", "student_history.json"
    )
    teacher = metrics.get("teacher")
    if isinstance(teacher, dict) and isinstance(teacher.get("source"), str):
        path = teacher_history_path(run.root, teacher["source"])
        a.teacher_history = _expect(_read_json(path, a, "training"), dict, a, "training", str(path.relative_to(root)))
    a.loeo = _expect(_read_json(run.root / "loeo.json", a, "loeo"), list, a, "loeo", "loeo.json")
    try:
        a.loeo_settings = loeo_rows(run.root) or None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        a.note("loeo", f"a leave-one-engine-out file could not be read ({type(e).__name__}: {e}); settings left out")
    a.hil = _expect(_read_json(run.root / "hil.json", a, "accuracy"), dict, a, "accuracy", "hil.json")
    a.bench = _expect(_read_json(run.root / "bench.json", a, "budget"), dict, a, "budget", "bench.json")
    model_path = run.root / "model_int8.tflite"
    a.model = model_path.read_bytes() if model_path.is_file() else None
    a.generated = read_generated(generated_header, a.model_sha256)
    return a
