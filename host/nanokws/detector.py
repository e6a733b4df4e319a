"""The streaming detector's Python twin: the same integer arithmetic as firmware/lib/kws/kws_detector.c, so
host and firmware report the same detections on the same stream (DESIGN.md §4)."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nanokws.config import DetectorConfig


@dataclass(frozen=True)
class Detection:
    time_ms: int
    label: str
    score: int  # the averaged score, 0..255

    def line(self) -> str:
        """The firmware's report line (without the newline): "<time_ms> <label> <score>"."""
        hundredths = (self.score * 100 + 127) // 255
        return f"{self.time_ms} {self.label} {hundredths // 100}.{hundredths % 100:02d}"


class Detector:
    """Feed it each model result in time order; it returns a Detection when a keyword is reported."""

    def __init__(self, cfg: DetectorConfig, labels: Sequence[str], output_zero_point: int) -> None:
        self.cfg = cfg
        self.labels = tuple(labels)
        self.zero_point = output_zero_point
        self._results: deque[tuple[int, np.ndarray]] = deque()
        self._last_report_ms: int | None = None

    def push(self, time_ms: int, output: np.ndarray) -> Detection | None:
        scores = np.clip(np.asarray(output, dtype=np.int32) - self.zero_point, 0, 255)
        self._results.append((time_ms, scores))
        while self._results and self._results[0][0] + self.cfg.window_ms <= time_ms:
            self._results.popleft()
        if len(self._results) < self.cfg.min_results:
            return None
        averages = np.sum([s for _, s in self._results], axis=0) // len(self._results)
        top = int(np.argmax(averages))  # the first label wins a tie, as in C
        if self.labels[top].startswith("_") or averages[top] < self.cfg.threshold:
            return None
        if self._last_report_ms is not None and time_ms - self._last_report_ms < self.cfg.suppression_ms:
            return None
        self._last_report_ms = time_ms
        return Detection(time_ms, self.labels[top], int(averages[top]))
