"""Emulator backends behind one small interface (load an ELF, stream audio in, read the console, get the
exit status), so a Renode backend can sit beside QEMU where Renode is installed (DESIGN.md §6)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from nanokws.errors import NanokwsError, ToolMissingError

INSTALL_QEMU = "install it: sudo apt-get install qemu-system-arm (or `make setup`)"


class EmulatorError(NanokwsError):
    """The emulated firmware failed, hung or could not be started."""


@dataclass(frozen=True)
class EmulatorRun:
    console: str  # what the firmware printed
    status: int  # the firmware's exit status
    seconds: float  # wall time of the emulator


class Emulator(Protocol):
    name: str

    def run(self, elf: Path, audio: np.ndarray, *, scores: bool = False, timeout_s: float = 600) -> EmulatorRun:
        """Run `elf` on int16 `audio` (one stream) until the firmware exits."""
        ...


class Qemu:
    """QEMU's mps2-an386 under `-icount shift=0` (deterministic: one instruction per virtual ns); audio is a
    file the firmware reads through semihosting; its exit status comes back through semihosting."""

    name = "qemu-mps2-an386"

    def __init__(self, binary: str | None = None) -> None:
        found = binary or shutil.which("qemu-system-arm")
        if not found:
            raise ToolMissingError("qemu-system-arm is not installed", hint=INSTALL_QEMU)
        self.binary = found

    def command(self, elf: Path, audio_file: Path, *, scores: bool, board_options: tuple[str, ...] = ()) -> list[str]:
        options = (*(("--scores",) if scores else ()), *board_options)
        args = f"enable=on,target=native,arg=firmware.elf,arg={audio_file}" + "".join(f",arg={o}" for o in options)
        return [
            self.binary, "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "stdio",
            "-icount", "shift=0", "-semihosting-config", args, "-kernel", str(elf),
        ]  # fmt: skip

    def run(
        self,
        elf: Path,
        audio: np.ndarray,
        *,
        scores: bool = False,
        timeout_s: float = 600,
        board_options: tuple[str, ...] = (),
        expect_status: int = 0,
    ) -> EmulatorRun:
        """As Emulator.run; `board_options` go to the emulated board (its fault injection, board.c), and an
        exit status other than `expect_status` is an error."""
        if not elf.is_file():
            raise EmulatorError("no firmware image", path=elf, hint="build it: make firmware")
        with tempfile.TemporaryDirectory(prefix="nanokws-hil-") as work:
            audio_file = Path(work) / "audio.raw"  # no commas or spaces: QEMU's option syntax
            np.ascontiguousarray(audio, dtype="<i2").tofile(audio_file)
            start = time.perf_counter()
            try:
                result = subprocess.run(
                    self.command(elf, audio_file, scores=scores, board_options=board_options),
                    capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout_s, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired as e:
                raise EmulatorError(f"the emulated firmware did not exit within {timeout_s:.0f} s", path=elf) from e
            seconds = time.perf_counter() - start
        console = result.stdout.decode(errors="replace")
        if result.returncode != expect_status:
            raise EmulatorError(
                f"the emulated firmware exited with status {result.returncode}:\n{console[-2000:]}"
                f"{result.stderr.decode(errors='replace')[-2000:]}",
                path=elf,
            )
        return EmulatorRun(console=console, status=result.returncode, seconds=seconds)
