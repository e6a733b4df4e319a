"""Compile an int8 `.tflite` model to C: kernels called in order on a statically planned arena, bit-exact
with TFLite Micro (DESIGN.md §3). `export_model` writes the files; `host_build` compiles them for the host."""

from nanokws.codegen.errors import DynamicShapeError, ExportError, NotInt8Error, UnsupportedOpError
from nanokws.codegen.export import MODEL_FILES, CompiledModel, ExportResult, compile_model, export_model

__all__ = [
    "MODEL_FILES",
    "CompiledModel",
    "DynamicShapeError",
    "ExportError",
    "ExportResult",
    "NotInt8Error",
    "UnsupportedOpError",
    "compile_model",
    "export_model",
]
