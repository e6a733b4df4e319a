"""The firmware's C under libFuzzer with AddressSanitizer and UBSan, time-bounded for CI (20 s a harness;
`make fuzz` runs them for 10 minutes each and grows the corpus in tests/fuzz/corpus/): the front end on
arbitrary audio, the detector and its console line on arbitrary model outputs and times, the kernels on
random shapes. A crash, a sanitizer report or a failed check inside a harness fails the test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fuzz"))

from fuzzers import HARNESSES, Harness, build, run

CI_SECONDS = 20


@pytest.mark.parametrize("harness", HARNESSES, ids=lambda h: h.name)
def test_fuzzing_finds_no_crash(harness: Harness, tmp_path: Path) -> None:
    binary = build(harness, tmp_path / "bin")
    result = run(harness, binary, CI_SECONDS, grow=False, work=tmp_path)
    assert not result.crashed, result.log[-4000:]
    assert result.executions > 1_000, result.log[-2000:]
