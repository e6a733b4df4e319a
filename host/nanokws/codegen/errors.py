"""Why a model cannot be compiled to C: each error names the op or tensor at fault and what to change.

A file that is not a readable `.tflite` at all raises `nanokws.tflite.metadata.ModelFileError`.
"""

from __future__ import annotations

from nanokws.errors import NanokwsError


class ExportError(NanokwsError):
    """A readable `.tflite` model that the C exporter cannot compile."""


class UnsupportedOpError(ExportError):
    """An op outside the supported set, or a supported op used in a way the kernels do not cover."""


class NotInt8Error(ExportError):
    """A float (or otherwise not int8-quantized) model or tensor."""


class DynamicShapeError(ExportError):
    """A tensor whose shape is not known at export time."""
