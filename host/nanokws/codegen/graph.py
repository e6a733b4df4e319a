"""Read a `.tflite` flatbuffer into a small, checked graph: tensors (shape, type, quantization, constant
data) and ops in execution order.

Parsing uses the schema classes that ship with LiteRT (no hand-written flatbuffer code; they import in a
fraction of a second, TensorFlow's copy in seconds). Everything a corrupt file could get wrong (an index out
of range, a buffer shorter than its tensor) is checked here, so later stages can trust the graph; model-level
limits (one int8 input and output, static shapes) too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from nanokws.codegen.errors import DynamicShapeError, ExportError, NotInt8Error
from nanokws.tflite.metadata import ModelFileError, parse

TENSOR_TYPES: dict[int, str] = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
OP_NAMES: dict[int, str] = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
NUMPY_TYPES: dict[str, Any] = {
    "INT8": np.int8,
    "UINT8": np.uint8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FLOAT16": np.float16,
    "FLOAT32": np.float32,
    "FLOAT64": np.float64,
    "BOOL": np.bool_,
}

FULL_INT8_HINT = (
    "convert with full-integer quantization and int8 input and output (converter.optimizations = "
    "[tf.lite.Optimize.DEFAULT], a representative_dataset, supported_ops = [TFLITE_BUILTINS_INT8], "
    "inference_input_type = inference_output_type = tf.int8), as nanokws.tflite.convert.to_int8_tflite does"
)
STATIC_BATCH_HINT = (
    "convert from a Keras model built with keras.Input(..., batch_size=1) (weights copied in), as "
    "nanokws.student.models.with_softmax does: a dynamic batch adds shape arithmetic to the graph"
)


@dataclass(frozen=True)
class Quantization:
    scale: tuple[float, ...]  # float32 values, held exactly as Python floats
    zero_point: tuple[int, ...]
    axis: int


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    dtype: str  # schema TensorType name: "INT8", "INT32", "FLOAT32", ...
    shape: tuple[int, ...]
    quant: Quantization | None
    data: np.ndarray | None = field(default=None, compare=False, repr=False)  # constant tensors only

    @property
    def elements(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.elements * np.dtype(NUMPY_TYPES.get(self.dtype, np.int8)).itemsize

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    def describe(self) -> str:
        return f"tensor {self.index} {self.name!r} ({self.dtype} {list(self.shape)})"


@dataclass(frozen=True)
class Op:
    index: int
    name: str  # builtin op name ("CONV_2D"), or "CUSTOM(<name>)"
    inputs: tuple[int, ...]  # -1 marks an omitted optional input
    outputs: tuple[int, ...]
    options: Any  # the schema's *OptionsT object, or None

    def describe(self) -> str:
        return f"op {self.index} ({self.name})"


@dataclass(frozen=True)
class Graph:
    tensors: tuple[Tensor, ...]
    ops: tuple[Op, ...]
    input: int
    output: int
    origin: str

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]


def _op_name(model: schema.ModelT, op: schema.OperatorT) -> str:
    code = model.operatorCodes[op.opcodeIndex]
    # Files from older converters keep codes below 127 in deprecatedBuiltinCode (TFLite's GetBuiltinCode).
    builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
    name = OP_NAMES.get(builtin, f"BUILTIN_{builtin}")
    if name == "CUSTOM":
        custom = code.customCode.decode(errors="replace") if code.customCode else "?"
        return f"CUSTOM({custom})"
    return name


def _tensor_data(model: bytes, m: schema.ModelT, t: schema.TensorT, dtype: str, shape: tuple[int, ...]) -> Any:
    if t.buffer <= 0:  # buffer 0 is the empty sentinel: an activation
        return None
    buffer = m.buffers[t.buffer]
    if buffer.offset and buffer.offset > 1:  # large models keep data after the flatbuffer
        raw = model[buffer.offset : buffer.offset + buffer.size]
        if len(raw) != buffer.size:
            raise IndexError("external buffer beyond the end of the file")
    elif buffer.data is not None and len(buffer.data) > 0:
        raw = bytes(np.asarray(buffer.data, dtype=np.uint8))
    else:
        return None
    if dtype not in NUMPY_TYPES:
        return np.frombuffer(raw, dtype=np.uint8)  # unsupported types are refused later, with the op named
    want = np.dtype(NUMPY_TYPES[dtype]).itemsize * (int(np.prod(shape, dtype=np.int64)) if shape else 1)
    if len(raw) != want:
        raise IndexError(f"buffer {t.buffer} holds {len(raw)} bytes, its tensor needs {want}")
    return np.frombuffer(raw, dtype=NUMPY_TYPES[dtype]).reshape(shape).copy()


def _quantization(t: schema.TensorT) -> Quantization | None:
    q = t.quantization
    if q is None or q.scale is None or len(q.scale) == 0:
        return None
    scales = tuple(float(np.float32(s)) for s in q.scale)
    zero_points = tuple(int(z) for z in q.zeroPoint) if q.zeroPoint is not None else (0,) * len(scales)
    return Quantization(scales, zero_points, int(q.quantizedDimension))


def _read(model: bytes, m: schema.ModelT, origin: str) -> Graph:
    if not m.subgraphs or len(m.subgraphs) != 1:
        raise ExportError(
            f"the model has {len(m.subgraphs or [])} subgraphs; the C exporter compiles exactly one",
            path=origin,
            hint="export a model without control flow (no WHILE, IF or CALL_ONCE ops)",
        )
    g = m.subgraphs[0]
    tensors = []
    for i, t in enumerate(g.tensors or []):
        dtype = TENSOR_TYPES.get(int(t.type), f"TYPE_{t.type}")
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
        name = t.name.decode(errors="replace") if isinstance(t.name, bytes) else str(t.name or "")
        static = all(d >= 0 for d in shape)
        data = _tensor_data(model, m, t, dtype, shape) if static else None
        tensors.append(Tensor(i, name, dtype, shape, _quantization(t), data))
    n = len(tensors)
    ops = []
    for i, op in enumerate(g.operators or []):
        ins = tuple(int(x) for x in (op.inputs if op.inputs is not None else ()))
        outs = tuple(int(x) for x in (op.outputs if op.outputs is not None else ()))
        if any(not -1 <= x < n for x in ins) or any(not 0 <= x < n for x in outs):
            raise IndexError(f"op {i} names a tensor out of range")
        ops.append(Op(i, _op_name(m, op), ins, outs, op.builtinOptions))
    inputs = [int(x) for x in (g.inputs if g.inputs is not None else ())]
    outputs = [int(x) for x in (g.outputs if g.outputs is not None else ())]
    if any(not 0 <= x < n for x in inputs + outputs):
        raise IndexError("a graph input or output is out of range")
    if len(inputs) != 1 or len(outputs) != 1:
        raise ExportError(
            f"the model has {len(inputs)} inputs and {len(outputs)} outputs; the generated API has one of each",
            path=origin,
            hint="export a model with a single input tensor and a single output tensor",
        )
    return Graph(tuple(tensors), tuple(ops), inputs[0], outputs[0], origin)


def _check_model(graph: Graph, m: schema.ModelT) -> None:
    origin = graph.origin
    for role, index in (("input", graph.input), ("output", graph.output)):
        t = graph.tensor(index)
        if t.dtype != "INT8" or t.quant is None:
            what = "a float model" if t.dtype.startswith("FLOAT") else "not int8-quantized"
            raise NotInt8Error(
                f"the model's {role} {t.describe()} is {t.dtype}: {what}; the C kernels are int8 only",
                path=origin,
                hint=FULL_INT8_HINT,
            )
    dynamic_ops = [op for op in graph.ops if op.name in ("SHAPE", "FILL", "BROADCAST_ARGS")]
    if dynamic_ops:
        op = dynamic_ops[0]
        raise DynamicShapeError(
            f"{op.describe()} computes a shape at run time: the model has a dynamic (batch) dimension",
            path=origin,
            hint=STATIC_BATCH_HINT,
        )
    signatures = m.subgraphs[0].tensors or []
    for t in graph.tensors:
        signature = signatures[t.index].shapeSignature
        # A -1 in the batch dimension of the signature alone is harmless (the file fixes its shape to 1,
        # and TFLM runs it so); anywhere else, or in the shape itself, the size is unknown until run time.
        unknown = any(d < 0 for d in t.shape) or (
            signature is not None and len(signature) > 1 and any(int(d) < 0 for d in signature[1:])
        )
        if unknown:
            raise DynamicShapeError(
                f"{t.describe()} has a dynamic shape (signature {[int(d) for d in signature]})"
                if signature is not None
                else f"{t.describe()} has a dynamic shape",
                path=origin,
                hint="give every dimension a fixed size in the Keras model (keras.Input(shape=..., batch_size=1))",
            )


def read_graph(model: bytes, origin: str = "model") -> Graph:
    """Parse and check `model`; raises ModelFileError (unreadable), or an ExportError subclass."""
    m = parse(model, origin)
    try:
        graph = _read(model, m, origin)
    except (IndexError, TypeError, ValueError, AttributeError, OverflowError) as e:
        raise ModelFileError(
            f"corrupt .tflite file: {e}", path=origin, hint="re-create the file; it does not describe a graph"
        ) from e
    _check_model(graph, m)
    return graph
