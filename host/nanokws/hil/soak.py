"""A long run of the firmware in the emulator (`host soak`): minutes of audio with keywords at known times,
compared with the Python twin detection for detection, time stamp included, so that a drift of even one
hop shows; and the firmware's own accounts (hops, inferences, overruns) checked against the audio's length.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from nanokws.data.streams import make_stream
from nanokws.hil.emulator import Emulator
from nanokws.hil.harness import compare_on_stream
from nanokws.tflite.metadata import ModelInfo


@dataclass(frozen=True)
class SoakReport:
    seconds: float  # of audio
    keywords_inserted: int
    firmware_detections: int
    twin_detections: int
    mismatches: int  # detection lines that differ (position by position), plus any difference in count
    hops: int
    expected_hops: int
    inferences: int
    expected_inferences: int
    overruns: int
    restarts: int  # boots after the first (a watchdog reset, say): must be none
    found: int  # inserted keywords the firmware reported, right label, within the clip's second
    wall_seconds: float

    @property
    def passed(self) -> bool:
        return (
            self.mismatches == 0
            and self.hops == self.expected_hops
            and self.inferences == self.expected_inferences
            and self.overruns == 0
            and self.restarts == 0
        )

    def to_dict(self) -> dict[str, float | int | bool]:
        return asdict(self) | {"passed": self.passed}


def soak(emulator: Emulator, elf: Path, model: bytes, info: ModelInfo, clips: np.ndarray, labels: list[str],
         seconds: float, seed: int = 42) -> SoakReport:  # fmt: skip
    """Run `seconds` of a stream of `clips` (keywords every ~3 s over noise) through the firmware and its
    twin."""
    fe = info.frontend
    audio, events = make_stream(clips, labels, seconds=seconds, sample_rate=fe.sample_rate, seed=seed)
    start = time.perf_counter()
    result = compare_on_stream(emulator, elf, audio, model, info)
    wall = time.perf_counter() - start
    firmware, twin = result.firmware, result.twin
    mismatches = sum(a != b for a, b in zip(firmware, twin, strict=False)) + abs(len(firmware) - len(twin))
    end = result.console.summary
    hops = len(audio) // fe.hop_samples
    # The firmware runs the model on hops that are multiples of the stride, once its window is full: the
    # first row needs a whole analysis window of hops, then one row a hop.
    first_hop = fe.n_frames + -(-fe.window_samples // fe.hop_samples) - 1
    stride = info.detector.stride_hops
    expected_inferences = sum(1 for h in range(first_hop, hops + 1) if h % stride == 0)
    detections = [line.split() for line in firmware]
    found = sum(any(d[1] == e.label and e.start_ms <= int(d[0]) <= e.end_ms + 1000 for d in detections) for e in events)
    return SoakReport(
        seconds=len(audio) / fe.sample_rate,
        keywords_inserted=len(events),
        firmware_detections=len(firmware),
        twin_detections=len(twin),
        mismatches=mismatches,
        hops=int(end.get("hops", -1)),
        expected_hops=hops,
        inferences=int(end.get("inferences", -1)),
        expected_inferences=expected_inferences,
        overruns=max(int(end.get("overruns", -1)), len(result.console.overruns)),
        restarts=result.console.boots - 1,
        found=found,
        wall_seconds=round(wall, 1),
    )
