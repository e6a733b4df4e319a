"""Parse the firmware's console (firmware/src/main.c documents the lines) into results."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from nanokws.errors import NanokwsError

READY = re.compile(r"^nanokws ready (\d+) labels, model every (\d+) ms$")
SCORES = re.compile(r"^scores (\d+)((?: -?\d+)+)$")
DETECTION = re.compile(r"^(\d+) (\S+) (\d\.\d\d)$")
OVERRUN = re.compile(r"^overrun (\d+)$")
END = re.compile(r"^end((?: \w+=\d+)+)$")
WATCHDOG = "restarted by the watchdog"


class ConsoleError(NanokwsError):
    """Firmware output that does not follow the console protocol."""


@dataclass
class Console:
    labels: int = 0
    stride_ms: int = 0
    score_times_ms: list[int] = field(default_factory=list)
    scores: list[list[int]] = field(default_factory=list)
    detections: list[str] = field(default_factory=list)  # the lines, "<time_ms> <label> <score>"
    overruns: list[int] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)
    boots: int = 0  # "ready" lines: more than one means the firmware restarted; the results are the last boot's
    watchdog_restarts: int = 0

    @property
    def outputs(self) -> np.ndarray:
        """The model's int8 outputs [results, labels] (runs with scores on)."""
        return np.array(self.scores, dtype=np.int8).reshape(len(self.scores), self.labels)


def parse_console(text: str) -> Console:
    console = Console()
    for number, line in enumerate(text.splitlines(), start=1):
        if m := READY.match(line):
            console = Console(boots=console.boots + 1, watchdog_restarts=console.watchdog_restarts)
            console.labels, console.stride_ms = int(m[1]), int(m[2])
        elif line == WATCHDOG:
            console.watchdog_restarts += 1
        elif m := SCORES.match(line):
            console.score_times_ms.append(int(m[1]))
            console.scores.append([int(v) for v in m[2].split()])
        elif DETECTION.match(line):
            console.detections.append(line)
        elif m := OVERRUN.match(line):
            console.overruns.append(int(m[1]))
        elif m := END.match(line):
            console.summary = {k: int(v) for k, v in (kv.split("=") for kv in m[1].split())}
        elif line.strip():
            raise ConsoleError(f"line {number} of the firmware's output is not in its protocol: {line[:200]!r}")
    if not console.labels:
        raise ConsoleError("the firmware never said it was ready", hint="did it start? see its output above")
    if any(len(s) != console.labels for s in console.scores):
        raise ConsoleError("a scores line does not have one value per label")
    return console
