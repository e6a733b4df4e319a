"""Compile an int8 `.tflite` model to C: kernels called in order on a statically planned arena, bit-exact
with TFLite Micro (DESIGN.md §3). `export_model` writes the files; `host_build` compiles them for the host.

The names below load on first use: the model compiler reads `.tflite` files with TensorFlow's schema classes,
and the front end's generator (`codegen.frontend_export`, which the host's C front end uses) must not pay
for importing TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nanokws.codegen.errors import DynamicShapeError, ExportError, NotInt8Error, UnsupportedOpError
    from nanokws.codegen.export import MODEL_FILES, CompiledModel, ExportResult, compile_model, export_model

_WHERE = {
    "DynamicShapeError": "errors",
    "ExportError": "errors",
    "NotInt8Error": "errors",
    "UnsupportedOpError": "errors",
    "MODEL_FILES": "export",
    "CompiledModel": "export",
    "ExportResult": "export",
    "compile_model": "export",
    "export_model": "export",
}

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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
