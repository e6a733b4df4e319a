"""The peak resident memory of this process over a stretch of work (one `host train` stage).

Linux keeps the process's high-water mark of resident memory (VmHWM in /proc/self/status), and writing 5 to
/proc/self/clear_refs resets it: that measures a stage's peak with native allocations (TensorFlow, torch,
CTranslate2) included and costs nothing while the stage runs. Tracing Python's allocations instead
(tracemalloc) saw only a part of it and slowed the student's training by about a quarter.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def reset() -> bool:
    """Start a new high-water mark; False where this system cannot (then `peak` reports the process's)."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return _high_water_kb() is not None


def peak_mb(was_reset: bool) -> float:
    """The high-water mark of resident memory in MB since `reset`; where it could not be reset, the process's
    peak since it started (an upper bound of the stage's)."""
    kb = _high_water_kb() if was_reset else None
    if kb is None:
        raw = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux, bytes on macOS
        kb = raw // 1024 if sys.platform == "darwin" else raw
    return round(kb / 1024, 1)


def _high_water_kb() -> int | None:
    try:
        lines = _STATUS.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None
