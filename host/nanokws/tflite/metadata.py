"""nanokws metadata inside the `.tflite` flatbuffer: the front end and labels the model was trained with.

Stored as a named metadata buffer (`nanokws`, JSON), the standard TFLite mechanism, so a `.tflite` file is
self-describing: `host eval` and `host export` take the front end and labels from the model itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

from nanokws.config import DetectorConfig, FrontendConfig, RunConfig
from nanokws.errors import NanokwsError

METADATA_NAME = "nanokws"
FILE_IDENTIFIER = b"TFL3"


class ModelFileError(NanokwsError):
    """A `.tflite` file that cannot be used."""


def parse(model: bytes, origin: str = "model") -> schema.ModelT:
    if len(model) < 8 or model[4:8] != FILE_IDENTIFIER:
        raise ModelFileError(
            "not a TFLite flatbuffer (no TFL3 identifier)", path=origin, hint="give a .tflite file made by TFLite"
        )
    try:
        return schema.ModelT.InitFromObj(schema.Model.GetRootAs(model, 0))
    except Exception as e:  # a truncated or corrupt flatbuffer raises from deep inside the generated code
        raise ModelFileError(f"corrupt or truncated .tflite file ({type(e).__name__})", path=origin) from e


def with_metadata(model: bytes, payload: dict[str, Any]) -> bytes:
    """Return `model` with the `nanokws` metadata buffer set to `payload` (replacing an old one)."""
    m = parse(model)
    data = np.frombuffer(json.dumps(payload, sort_keys=True).encode(), dtype=np.uint8)
    buffer = schema.BufferT()
    buffer.data = data
    m.buffers = list(m.buffers or [])
    m.metadata = [md for md in (m.metadata or []) if md.name.decode() != METADATA_NAME]
    m.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(m.buffers) - 1
    m.metadata.append(entry)
    builder = flatbuffers.Builder(len(model) + data.size + 1024)
    builder.Finish(m.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def read_metadata(model: bytes, origin: str = "model") -> dict[str, Any] | None:
    m = parse(model, origin)
    for md in m.metadata or []:
        name = md.name.decode() if isinstance(md.name, bytes) else md.name
        if name == METADATA_NAME:
            return json.loads(bytes(m.buffers[md.buffer].data).decode())
    return None


@dataclass(frozen=True)
class ModelInfo:
    """What a deployable model needs around it: its labels and front end, and its tensors' quantization."""

    labels: tuple[str, ...]
    frontend: FrontendConfig
    detector: DetectorConfig
    input_scale: float
    input_zero_point: int
    output_scale: float
    output_zero_point: int
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    has_metadata: bool


def model_info(model: bytes, origin: str = "model") -> ModelInfo:
    """Read labels and front end from the metadata (defaults for foreign models) and the I/O quantization."""
    m = parse(model, origin)
    if not m.subgraphs or len(m.subgraphs) != 1:
        raise ModelFileError("expected exactly one subgraph", path=origin)
    g = m.subgraphs[0]
    if len(g.inputs) != 1 or len(g.outputs) != 1:
        raise ModelFileError("expected one input and one output tensor", path=origin)
    t_in, t_out = g.tensors[g.inputs[0]], g.tensors[g.outputs[0]]
    for t, what in ((t_in, "input"), (t_out, "output")):
        if t.type != schema.TensorType.INT8 or t.quantization is None or t.quantization.scale is None:
            raise ModelFileError(
                f"the model's {what} is not int8-quantized",
                path=origin,
                hint="convert with full-integer quantization (int8 input and output): `host train --stage quantize`",
            )
    meta = read_metadata(model, origin)
    run = RunConfig.from_dict(meta["run"]) if meta else RunConfig()
    return ModelInfo(
        labels=run.labels,
        frontend=run.frontend,
        detector=run.detector,
        input_scale=float(t_in.quantization.scale[0]),
        input_zero_point=int(t_in.quantization.zeroPoint[0]),
        output_scale=float(t_out.quantization.scale[0]),
        output_zero_point=int(t_out.quantization.zeroPoint[0]),
        input_shape=tuple(int(d) for d in t_in.shape),
        output_shape=tuple(int(d) for d in t_out.shape),
        has_metadata=meta is not None,
    )


def quantize_input(features: np.ndarray, info: ModelInfo) -> np.ndarray:
    """Float features -> the model's int8 input with the firmware's own function (kws_frontend_quantize,
    through native.py), which does what TFLite's reference Quantize does: divide by the scale, round half
    away from zero, add the zero point, saturate."""
    from nanokws.native import native_frontend

    return native_frontend(info.frontend).quantize(features, info.input_scale, info.input_zero_point)


def dequantize_output(q: np.ndarray, info: ModelInfo) -> np.ndarray:
    return (q.astype(np.float32) - info.output_zero_point) * info.output_scale
