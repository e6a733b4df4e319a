"""The reference interpreters, each behind `run(int8 inputs) -> int8 outputs`.

TFLM is the oracle for the firmware. LiteRT runs with its reference op resolver: its default XNNPACK path
differs from TFLM in the last bit on a few percent of outputs (DESIGN.md §3).
"""

from __future__ import annotations

import numpy as np

DEFAULT_ARENA = 256 * 1024


class TflmInterpreter:
    def __init__(self, model: bytes, arena_size: int = DEFAULT_ARENA) -> None:
        from tflite_micro.python.tflite_micro import runtime

        self._interp = runtime.Interpreter.from_bytes(model, arena_size=arena_size)
        self._shape = tuple(self._interp.get_input_details(0)["shape"])

    def run(self, inputs: np.ndarray) -> np.ndarray:
        outs = []
        for x in inputs:
            # TFLM's planner reuses the input's memory for later activations: set it before every invoke
            self._interp.set_input(x.reshape(self._shape).astype(np.int8), 0)
            self._interp.invoke()
            outs.append(np.array(self._interp.get_output(0)).reshape(-1))
        return np.stack(outs)


class LiteRtInterpreter:
    def __init__(self, model: bytes) -> None:
        from ai_edge_litert import interpreter as litert

        self._interp = litert.Interpreter(
            model_content=model, experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF, num_threads=1
        )
        self._interp.allocate_tensors()
        self._in = self._interp.get_input_details()[0]
        self._out = self._interp.get_output_details()[0]

    def run(self, inputs: np.ndarray) -> np.ndarray:
        outs = []
        for x in inputs:
            self._interp.set_tensor(self._in["index"], x.reshape(self._in["shape"]).astype(np.int8))
            self._interp.invoke()
            outs.append(self._interp.get_tensor(self._out["index"]).reshape(-1).copy())
        return np.stack(outs)
