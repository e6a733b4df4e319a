"""The on-device budget: what `host bench` measured (bench.json), else what the run itself knows (model size,
the exported arena, the emulator's instruction counts) and an estimate of the load at 64 MHz."""

from __future__ import annotations

from typing import Any

from nanokws.report.inputs import RunArtifacts
from nanokws.report.page import Section, Table, byte_size, key_values, value

CLOCK_HZ = 64_000_000  # the nRF52840's
MODEL_KEYS = ("macs", "instructions", "macs_per_instruction", "kernels")  # first, in this order


def _models_table(models: dict[str, Any], notes: list[str]) -> Table | None:
    rows = {name: m for name, m in models.items() if isinstance(m, dict)}
    if len(rows) < len(models):
        notes.append("bench.json: some entries of `models` are not objects; they are left out.")
    if not rows:
        return None
    keys = [k for k in MODEL_KEYS if any(k in m for m in rows.values())]
    keys += [k for m in rows.values() for k in m if k not in keys]
    keys = list(dict.fromkeys(keys))
    body = tuple((name, *(value(m.get(k)) for k in keys)) for name, m in rows.items())
    return Table(("model", *(k.replace("_", " ") for k in keys)), body, "per model (bench.json)")


def bench_tables(bench: dict[str, Any], notes: list[str]) -> list[Table]:
    """Every part of bench.json that is there, whatever else it holds."""
    tables, scalars = [], {}
    for key, part in bench.items():
        if key == "models" and isinstance(part, dict):
            table = _models_table(part, notes)
            tables += [table] if table else []
        elif isinstance(part, dict):
            tables.append(key_values(part, f"{key} (bench.json)"))
        else:
            scalars[key] = part
    if scalars:
        tables.append(key_values(scalars, "other figures (bench.json)"))
    return tables


def _hil_counts(a: RunArtifacts) -> tuple[float, float] | None:
    hil = a.hil or {}
    if hil.get("model_sha256") not in (None, a.model_sha256):
        return None  # measured on another model
    per_inference, per_hop = hil.get("instructions_per_inference"), hil.get("instructions_per_hop")
    if isinstance(per_inference, int | float) and isinstance(per_hop, int | float):
        return float(per_inference), float(per_hop)
    return None


def known_table(a: RunArtifacts) -> Table | None:
    """What the run knows about the device cost without `host bench`."""
    rows = []
    sizes = a.metrics.get("sizes") if isinstance(a.metrics.get("sizes"), dict) else {}
    if "tflite_bytes" in sizes:
        rows.append(("int8 model (.tflite)", byte_size(sizes["tflite_bytes"])))
    if "student_parameters" in sizes:
        rows.append(("student parameters", value(sizes["student_parameters"])))
    if a.generated is not None:
        rows.append(("activation arena, RAM (firmware/generated/kws_model.h)", byte_size(a.generated.arena_bytes)))
        if a.generated.weight_bytes is not None:
            rows.append(("weights and biases, flash (kws_model.h)", byte_size(a.generated.weight_bytes)))
    counts = _hil_counts(a)
    if counts is not None:
        per_inference, per_hop = counts
        stride, hop_s = a.config.detector.stride_hops, a.config.frontend.hop_ms / 1000
        rows.append(("instructions per inference (emulator, hil.json)", value(per_inference)))
        rows.append(("instructions per hop, front end (emulator, hil.json)", value(per_hop)))
        load = (per_hop + per_inference / stride) / (CLOCK_HZ * hop_s)
        rows.append(
            (f"estimated load at {CLOCK_HZ // 1_000_000} MHz (1 instruction = 1 cycle; model every {stride} hops)",
             f"{100 * load:.0f}% of real time")
        )  # fmt: skip
    return Table(("measure", "value"), tuple(rows), "known from the run") if rows else None


def budget_section(a: RunArtifacts) -> Section:
    notes = list(a.notes.get("budget", []))
    tables = []
    if isinstance(a.bench, dict):
        tables += bench_tables(a.bench, notes)
    else:
        notes.append(f"Flash, RAM and instructions per inference not measured: run `host bench --run {a.run.root}`.")
    known = known_table(a)
    if known is not None:
        tables.append(known)
    if _hil_counts(a) is not None:
        notes.append("The load is an estimate: the emulator counts instructions, and a Cortex-M4 needs at least a "
                     "cycle for each, more for loads and branches.")  # fmt: skip
    return Section("budget", "On-device budget", a.bench is not None, tuple(notes), tuple(tables))
