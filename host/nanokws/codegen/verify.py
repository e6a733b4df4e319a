"""Compare the compiled model with TFLM, op by op: where the C and the oracle part, and by how much.

The final output alone can hide a wrong intermediate (a softmax that saturates, an average that rounds
the error away), so this compares every op's output tensor: TFLM keeps them all when run with
`kPreserveAllTensors`, the C build reports them through its KWS_MODEL_TRACE hook.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nanokws.codegen.export import CompiledModel
from nanokws.codegen.host_build import ModelLibrary

TFLM_ARENA = 1 << 22  # generous: every tensor is kept


@dataclass(frozen=True)
class OpDiff:
    index: int  # op index in the .tflite file
    op: str
    values: int  # values compared (over all inputs)
    differing: int
    max_abs: int


class TflmTracer:
    """TFLM with every tensor preserved: `trace(x, tensors)` runs one input and returns those tensors."""

    def __init__(self, model: bytes, arena_size: int = TFLM_ARENA) -> None:
        from tflite_micro.python.tflite_micro import runtime

        self._interp = runtime.Interpreter.from_bytes(
            model, arena_size=arena_size, intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors
        )
        self._shape = tuple(self._interp.get_input_details(0)["shape"])

    def trace(self, x: np.ndarray, tensors: list[int]) -> list[np.ndarray]:
        self._interp.set_input(np.asarray(x, dtype=np.int8).reshape(self._shape), 0)
        self._interp.invoke()
        return [np.asarray(self._interp.GetTensor(t, 0)["tensor_data"]).reshape(-1).copy() for t in tensors]


def compare_ops(compiled: CompiledModel, model: bytes, traced: ModelLibrary, inputs: np.ndarray) -> list[OpDiff]:
    """Every op's output, C (a KWS_MODEL_TRACE build) against TFLM, over `inputs`."""
    tensors = [s.output for s in compiled.steps]
    sizes = [compiled.graph.tensor(t).elements for t in tensors]
    tracer = TflmTracer(model)
    values = np.zeros(len(tensors), dtype=np.int64)
    differing = np.zeros(len(tensors), dtype=np.int64)
    max_abs = np.zeros(len(tensors), dtype=np.int64)
    for x in inputs:
        ours = traced.trace(x, sizes)
        theirs = tracer.trace(x, tensors)
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            d = np.abs(a.astype(np.int32) - b.astype(np.int32))
            values[i] += d.size
            differing[i] += int(np.count_nonzero(d))
            max_abs[i] = max(int(max_abs[i]), int(d.max(initial=0)))
    return [
        OpDiff(s.index, s.op, int(values[i]), int(differing[i]), int(max_abs[i])) for i, s in enumerate(compiled.steps)
    ]
