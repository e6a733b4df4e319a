"""A stage's peak memory counts native allocations (numpy here, TensorFlow in `host train`) and starts anew
for each stage."""

from __future__ import annotations

import numpy as np

from nanokws import peak_memory


def test_peak_sees_a_native_allocation_and_starts_anew_after_a_reset() -> None:
    assert peak_memory.reset(), "this Linux cannot reset the high-water mark (/proc/self/clear_refs)"
    before = peak_memory.peak_mb(True)
    block = np.ones(300 * 2**20 // 8)  # 300 MB, touched
    during = peak_memory.peak_mb(True)
    del block
    assert during - before >= 290
    assert peak_memory.reset()
    assert peak_memory.peak_mb(True) < during - 250


def test_without_a_reset_the_peak_is_the_process_peak_so_far() -> None:
    block = np.ones(100 * 2**20 // 8)
    resident = peak_memory.peak_mb(True)
    del block
    assert peak_memory.peak_mb(False) >= resident - 1
