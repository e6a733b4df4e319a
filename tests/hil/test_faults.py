"""Faults in the real `emu` firmware image, injected through the emulated board's options
(firmware/boards/emu/board.c): a stalled audio source is reset by the watchdog, and the firmware then runs
the stream again with the same results as a run that never stalled; a stack overflow hits the MPU guard
below the stack and is reported, instead of running on through memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nanokws.data.streams import make_stream
from nanokws.hil.console import parse_console
from nanokws.hil.emulator import Qemu
from nanokws.hil.firmware import build_image

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_image("emu", tmp_path_factory.mktemp("pio-build"))


@pytest.fixture(scope="module")
def stream(small_synth) -> np.ndarray:
    from nanokws.audio import read_wav_int16

    root, result = small_synth
    keywords = [e for e in result.entries if not e.label.startswith("_")][:4]
    clips = np.stack([read_wav_int16(root / e.path)[0] for e in keywords])
    audio, _ = make_stream(clips, [e.label for e in keywords], seconds=8, sample_rate=16000)
    return audio


def test_a_stalled_audio_source_is_reset_by_the_watchdog_and_the_firmware_starts_over(
    elf: Path, stream: np.ndarray
) -> None:
    normal = parse_console(Qemu().run(elf, stream, scores=True).console)
    assert normal.boots == 1 and normal.watchdog_restarts == 0

    # The audio stops 4 s in. The watchdog's warning (NMI) comes 1 s later and its reset 1 s after that: 2e9
    # emulated instructions of waiting. After the reset the board delivers audio again, from the start.
    run = Qemu().run(elf, stream, scores=True, board_options=("--stall-at-ms=4000",), timeout_s=120)
    stalled = parse_console(run.console)
    assert stalled.boots == 2 and stalled.watchdog_restarts == 1, run.console
    first_boot = run.console.split("restarted by the watchdog")[0]
    assert first_boot.count("\nscores ") > 0 and "\nend " not in first_boot  # it did hang part-way
    # The second boot is a whole, ordinary run: the same outputs, detections and counts.
    assert stalled.scores == normal.scores and stalled.detections == normal.detections
    assert {k: stalled.summary[k] for k in ("hops", "inferences", "overruns")} == {
        k: normal.summary[k] for k in ("hops", "inferences", "overruns")
    }


def test_a_stack_overflow_hits_the_guard_and_is_reported(elf: Path, stream: np.ndarray) -> None:
    run = Qemu().run(elf, stream[:16000], board_options=("--overflow-stack",), expect_status=1, timeout_s=60)
    assert run.console.splitlines()[-1] == "nanokws: stack overflow", run.console
