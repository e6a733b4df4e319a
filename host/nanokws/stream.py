"""The firmware's streaming loop in Python (DESIGN.md §4): the twin that host and firmware are compared on.

Hop by hop as firmware/src/main.c: the C front end (through native.py) makes one row of MFCC per hop once
the first window is full; every `stride_hops` hops with a full set of rows, the window is normalized and
quantized, the model runs (TFLM, the oracle the compiled model equals bit for bit) and the detector
(detector.py) takes its output. `StreamDetector` takes a stream in blocks of any size (`host spot` feeds
hours of audio that way); `run_stream` feeds one array.
"""

from __future__ import annotations

from collections import deque
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


class StreamDetector:
    """One stream, fed in blocks: what the firmware would print for it, block by block."""

    def __init__(self, model: bytes, info: ModelInfo) -> None:
        self.info = info
        self._native = native_frontend(info.frontend)
        self._frontend = self._native.streamer()
        self._rows: deque[np.ndarray] = deque(maxlen=info.frontend.n_frames)
        self._frames = 0
        self.hops = 0
        self._interpreter = TflmInterpreter(model)
        self._detector = Detector(info.detector, info.labels, info.output_zero_point)

    def feed(self, audio: np.ndarray) -> StreamResult:
        fe, stride = self.info.frontend, self.info.detector.stride_hops
        rows, produced = self._frontend.push(audio)
        windows, times, k = [], [], 0
        for made in produced:
            self.hops += 1
            if made:
                self._rows.append(rows[k])
                k += 1
                self._frames += 1
            if self._frames >= fe.n_frames and self.hops % stride == 0:
                windows.append(np.stack(self._rows))
                times.append(self.hops * fe.hop_ms)  # as main.c: hops x hop length
        if not windows:
            empty = np.zeros((0, len(self.info.labels)), dtype=np.int8)
            return StreamResult(np.zeros(0, dtype=np.int64), empty, ())
        inputs = self._native.quantize(
            self._native.normalize(np.stack(windows)), self.info.input_scale, self.info.input_zero_point
        )
        outputs = self._interpreter.run(inputs)
        found = (self._detector.push(t, out) for t, out in zip(times, outputs, strict=True))
        return StreamResult(np.array(times, dtype=np.int64), outputs, tuple(d for d in found if d is not None))


def run_stream(audio: np.ndarray, model: bytes, info: ModelInfo) -> StreamResult:
    """Model results and detections of an int16 stream, as the firmware computes them."""
    return StreamDetector(model, info).feed(audio)
