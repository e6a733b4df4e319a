"""The firmware's streaming loop in Python (DESIGN.md §4): the twin that host and firmware are compared on.

Hop by hop as firmware/src/main.c: the C front end (through native.py) makes one row of MFCC per hop once
the first window is full; every `stride_hops` hops with a full set of rows, the window is normalized and
quantized, the model runs (TFLM, the oracle the compiled model equals bit for bit) and the detector
(detector.py) takes its output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nanokws.detector import Detection, Detector
from nanokws.native import native_frontend
from nanokws.tflite.interpreters import TflmInterpreter
from nanokws.tflite.metadata import ModelInfo


@dataclass(frozen=True)
class StreamResult:
    times_ms: np.ndarray  # [inferences] the stream time of each model result
    outputs: np.ndarray  # [inferences, labels] int8
    detections: tuple[Detection, ...]


def hop_ms(info: ModelInfo) -> int:
    return info.frontend.hop_samples * 1000 // info.frontend.sample_rate


def first_frame_hop(info: ModelInfo) -> int:
    """The number of hops pushed when the front end gives its first row."""
    fe = info.frontend
    return -(-fe.window_samples // fe.hop_samples)


def run_stream(audio: np.ndarray, model: bytes, info: ModelInfo) -> StreamResult:
    """Model results and detections of an int16 stream, as the firmware computes them."""
    fe, det = info.frontend, info.detector
    native = native_frontend(fe)
    rows = native.stream(audio)
    first = first_frame_hop(info)
    hops = np.asarray(audio).size // fe.hop_samples
    points = [h for h in range(det.stride_hops, hops + 1, det.stride_hops) if h - first + 1 >= fe.n_frames]
    inputs = None
    if points:
        windows = np.stack([rows[h - first + 1 - fe.n_frames : h - first + 1] for h in points])
        inputs = native.quantize(native.normalize(windows), info.input_scale, info.input_zero_point)
    outputs = (
        TflmInterpreter(model).run(inputs) if inputs is not None else np.zeros((0, len(info.labels)), dtype=np.int8)
    )
    times = np.array([h * hop_ms(info) for h in points], dtype=np.int64)
    detector = Detector(det, info.labels, info.output_zero_point)
    found = (detector.push(int(t), out) for t, out in zip(times, outputs, strict=True))
    return StreamResult(times_ms=times, outputs=outputs, detections=tuple(d for d in found if d is not None))
