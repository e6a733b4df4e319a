"""`host export` for the model: compile an int8 `.tflite` to C (kws_model.c/.h) and embed the flatbuffer
for TFLM users (model_data.c/.h).

The pipeline is read (graph.py) -> lower each op to a kernel call (lowering.py) -> plan the arena
(planner.py) -> render the templates (render.py). Everything but the final writes is pure, so tests can
compile a model without touching the disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nanokws import atomic
from nanokws.codegen.dsp import DspLayer, align_rows, dsp_layer, dsp_pool
from nanokws.codegen.frontend_export import APP_FILES, FRONTEND_FILES, render_app, render_frontend
from nanokws.codegen.graph import Graph, read_graph
from nanokws.codegen.lowering import Step, lower
from nanokws.codegen.planner import BEFORE_FIRST_STEP, Lifetime, Plan, plan_arena
from nanokws.codegen.render import render, sha256
from nanokws.tflite.metadata import model_info

MODEL_FILES = ("kws_model.h", "kws_model.c", "model_data.h", "model_data.c")
ALL_FILES = MODEL_FILES + FRONTEND_FILES + APP_FILES
MODEL_NAME = "model_int8.tflite"


@dataclass(frozen=True)
class CompiledModel:
    graph: Graph
    steps: tuple[Step, ...]
    plan: Plan

    @property
    def weight_bytes(self) -> int:
        """Weights and biases, as const arrays in flash."""
        return sum(a.nbytes for s in self.steps for a in s.arrays if a.role in ("weights", "bias"))

    @property
    def dsp_layers(self) -> dict[int, DspLayer]:
        """The layers the Cortex-M4 DSP kernels run (by op index); the others keep the portable kernels."""
        return align_rows({s.index: d for s in self.steps if (d := dsp_layer(s)) is not None})[0]

    @property
    def dsp_scratch_bytes(self) -> int:
        """The DSP kernels' scratch in Cortex-M4 builds (RAM beside the arena); 0 without DSP layers."""
        return 2 * max((d.scratch_elements for d in self.dsp_layers.values()), default=0)

    @property
    def parameter_bytes(self) -> int:
        """Per-channel multipliers and shifts, as const arrays in flash."""
        return sum(a.nbytes for s in self.steps for a in s.arrays if a.role in ("multiplier", "shift"))


@dataclass(frozen=True)
class ExportResult:
    files: tuple[Path, ...]
    arena_bytes: int
    dsp_scratch_bytes: int  # Cortex-M4 builds: the DSP kernels' scratch, beside the arena
    weight_bytes: int
    parameter_bytes: int
    model_bytes: int  # the .tflite file
    ops: tuple[str, ...]  # op names, in execution order
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]


def plan_steps(graph: Graph, steps: tuple[Step, ...]) -> Plan:
    first: dict[int, int] = {graph.input: BEFORE_FIRST_STEP}
    last: dict[int, int] = {graph.input: BEFORE_FIRST_STEP}
    for i, step in enumerate(steps):
        for t in step.inputs:
            last[t] = max(last.get(t, i), i)
        first.setdefault(step.output, i)
        last.setdefault(step.output, i)
    last[graph.output] = len(steps)
    lifetimes = [Lifetime(t, graph.tensor(t).nbytes, first[t], last[t]) for t in sorted(first)]
    aliases = [(s.output, s.inputs[0]) for s in steps if s.is_alias]
    return plan_arena(lifetimes, aliases)


def compile_model(model: bytes, origin: str = "model") -> CompiledModel:
    """Read, check, lower and plan `model`; raises ModelFileError or an ExportError subclass."""
    graph = read_graph(model, origin)
    steps = lower(graph)
    return CompiledModel(graph, steps, plan_steps(graph, steps))


def render_model(compiled: CompiledModel, model: bytes, origin: str) -> dict[str, str]:
    """The generated files' text by file name."""
    g = compiled.graph
    inputs = {"model": (origin, sha256(model))}
    dsp = compiled.dsp_layers
    context = {
        "steps": compiled.steps,
        "plan": compiled.plan,
        "offsets": compiled.plan.offsets,
        "tensors": g.tensors,
        "input": g.tensor(g.input),
        "output": g.tensor(g.output),
        "ops": [s.op for s in compiled.steps],
        "arena_bytes": compiled.plan.arena_bytes,
        "weight_bytes": compiled.weight_bytes,
        "dsp": dsp,
        "dsp_scratch": compiled.dsp_scratch_bytes // 2,
        "dsp_align": align_rows(dsp)[1],
        "dsp_pools": {s.index for s in compiled.steps if dsp_pool(s)},
        "data": np.frombuffer(model, dtype=np.uint8),
        "size": len(model),
    }
    return {name: render(f"{name}.j2", inputs, context) for name in MODEL_FILES}


def render_all(tflite_bytes: bytes, origin: str) -> tuple[CompiledModel, dict[str, str]]:
    """Everything the firmware needs from one model: the compiled model, the front end's tables and the
    application's labels and detector, the last two from the run config in the model's metadata."""
    compiled = compile_model(tflite_bytes, origin)
    info = model_info(tflite_bytes, origin)
    model_input = {"model": (origin, sha256(tflite_bytes))}
    files = render_model(compiled, tflite_bytes, origin)
    files |= render_frontend(info.frontend, model_input)
    files |= render_app(info.labels, info.detector, model_input)
    return compiled, files


def export_model(tflite_bytes: bytes, out_dir: Path, origin: str) -> ExportResult:
    """Compile `tflite_bytes` to C in `out_dir` (the changed files written atomically, all or none),
    with the front end's tables and the application's parameters (ALL_FILES).

    `origin` names the model in the generated files' headers (with its sha256); pass a path relative to
    the run directory so that regenerating elsewhere gives identical bytes. The model itself is copied
    into `out_dir` as MODEL_NAME.
    """
    compiled, rendered = render_all(tflite_bytes, origin)
    # The model beside its C: what the emulator's results are compared with, and what regenerates the rest.
    contents = {out_dir / name: text.encode("utf-8") for name, text in rendered.items()}
    contents[out_dir / MODEL_NAME] = tflite_bytes
    # All or nothing: the generated files only make sense together (a full disk leaves the old set whole).
    atomic.write_all({p: d for p, d in contents.items() if not (p.is_file() and p.read_bytes() == d)})
    files = list(contents)
    g = compiled.graph
    return ExportResult(
        files=tuple(files),
        arena_bytes=compiled.plan.arena_bytes,
        dsp_scratch_bytes=compiled.dsp_scratch_bytes,
        weight_bytes=compiled.weight_bytes,
        parameter_bytes=compiled.parameter_bytes,
        model_bytes=len(tflite_bytes),
        ops=tuple(s.op for s in compiled.steps),
        input_shape=g.tensor(g.input).shape,
        output_shape=g.tensor(g.output).shape,
    )
