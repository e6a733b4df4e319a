"""The firmware builds with PlatformIO from the repository alone (no registry, no network),
its Nano 33 BLE image starts above Arduino's bootloader, and its emulator image runs in
QEMU on audio from a file and exits with status 0."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from nanokws.hil.console import parse_console
from nanokws.hil.emulator import Qemu

ROOT = Path(__file__).resolve().parents[1]
TOOLCHAIN_BIN = ROOT / "firmware" / "platformio" / "packages" / "toolchain-gccarmnoneeabi-system" / "bin"
ENVS = ("emu", "nano33ble")

APP_START = 0x10000  # Arduino's bootloader owns the flash below; bossac writes here
FLASH_END = 0x100000  # nRF52840: 1 MB
RAM_START, RAM_END = 0x20000000, 0x20040000  # 256 KB

BUILD_TIMEOUT_S = 300  # a build takes about a second; a registry lookup hangs ~60 s, then fails
QEMU_TIMEOUT_S = 30  # the skeleton runs in well under a second


@dataclass(frozen=True)
class Build:
    result: subprocess.CompletedProcess[str]
    build_dir: Path

    def artifact(self, env: str, suffix: str) -> Path:
        return self.build_dir / env / f"firmware{suffix}"


def run_pio(build_root: Path, prefix: tuple[str, ...] = ()) -> Build:
    """`pio run` for ENVS with a fresh core and build directory under build_root."""
    env = dict(os.environ)
    env.update(
        PLATFORMIO_CORE_DIR=str(build_root / "core"),
        PLATFORMIO_BUILD_DIR=str(build_root / "build"),
        PLATFORMIO_SETTING_ENABLE_TELEMETRY="no",
        PLATFORMIO_DISABLE_UPGRADE_CHECK="true",
    )
    command = [*prefix, sys.executable, "-m", "platformio", "run"]
    for name in ENVS:
        command += ["-e", name]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    return Build(result, build_root / "build")


def toolchain(tool: str) -> str:
    return str(TOOLCHAIN_BIN / f"arm-none-eabi-{tool}")


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    setup = subprocess.run(["bash", str(ROOT / "tools" / "pio_setup.sh")], capture_output=True, text=True, timeout=60)
    assert setup.returncode == 0, f"tools/pio_setup.sh failed:\n{setup.stderr}"
    return run_pio(tmp_path_factory.mktemp("pio"))


def test_pio_builds_emu_and_nano33ble(build: Build) -> None:
    assert build.result.returncode == 0, build.result.stdout[-4000:] + build.result.stderr[-4000:]
    for env in ENVS:
        for suffix in (".elf", ".bin", ".hex", ".map"):
            assert build.artifact(env, suffix).is_file(), f"{env}: no firmware{suffix}"


def test_pio_build_needs_no_network(build: Build, tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    if not unshare or subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot drop the network here (`unshare -rn` is not permitted)")
    offline = run_pio(tmp_path, prefix=(unshare, "-rn"))
    assert offline.result.returncode == 0, offline.result.stdout[-4000:] + offline.result.stderr[-4000:]


def section_address(elf: Path, name: str) -> int:
    sections = subprocess.run(
        [toolchain("readelf"), "-SW", str(elf)], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(rf"\]\s+{re.escape(name)}\s+\S+\s+([0-9a-f]+)", sections)
    assert match, f"no {name} section in {elf}"
    return int(match.group(1), 16)


def symbol_address(elf: Path, name: str) -> int:
    symbols = subprocess.run([toolchain("nm"), str(elf)], capture_output=True, text=True, check=True).stdout
    match = re.search(rf"^([0-9a-f]+) \w {re.escape(name)}$", symbols, re.MULTILINE)
    assert match, f"no symbol {name} in {elf}"
    return int(match.group(1), 16)


def test_nano33ble_vector_table_is_at_0x10000(build: Build) -> None:
    elf = build.artifact("nano33ble", ".elf")
    assert section_address(elf, ".isr_vector") == APP_START
    # The bootloader jumps through the table's first two words: initial SP, then reset.
    binary = build.artifact("nano33ble", ".bin").read_bytes()  # starts at the lowest flash address
    initial_sp = int.from_bytes(binary[0:4], "little")
    reset_vector = int.from_bytes(binary[4:8], "little")
    assert RAM_START < initial_sp <= RAM_END
    assert reset_vector == symbol_address(elf, "Reset_Handler") | 1  # Thumb bit


def test_nano33ble_image_lies_above_the_bootloader(build: Build) -> None:
    elf = build.artifact("nano33ble", ".elf")
    assert APP_START <= symbol_address(elf, "Reset_Handler") < FLASH_END
    headers = subprocess.run([toolchain("readelf"), "-lW", str(elf)], capture_output=True, text=True, check=True).stdout
    loads = re.findall(r"^\s*LOAD\s+\S+\s+\S+\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)", headers, re.MULTILINE)
    written = [(int(addr, 16), int(size, 16)) for addr, size in loads if int(size, 16) > 0]
    assert written, "no loadable bytes in the image"
    for address, size in written:  # PhysAddr is where the bytes go in flash
        assert address >= APP_START, hex(address)
        assert address + size <= FLASH_END, hex(address + size)


def test_emu_streams_audio_from_a_file_and_exits_zero(build: Build) -> None:
    # QEMU only exits when the firmware asks through semihosting, so status 0 within the timeout proves
    # board_exit(0) ran after the whole file was read: 1 s of silence is 50 hops and 3 model results.
    run = Qemu().run(build.artifact("emu", ".elf"), np.zeros(16000, dtype=np.int16), timeout_s=QEMU_TIMEOUT_S)
    console = parse_console(run.console)
    assert run.status == 0 and console.labels == 12
    assert console.summary["hops"] == 50 and console.summary["inferences"] == 1 and console.summary["overruns"] == 0
    assert console.detections == []


def test_emu_without_an_audio_file_fails_with_a_message(build: Build) -> None:
    qemu = Qemu()
    command = qemu.command(build.artifact("emu", ".elf"), Path("/nonexistent/audio.raw"), scores=False)
    result = subprocess.run(command, capture_output=True, text=True, timeout=QEMU_TIMEOUT_S, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert "cannot open the audio file" in result.stdout


def test_nano33ble_starts_the_watchdog_and_feeds_it_every_hop(build: Build) -> None:
    """The watchdog (nRF52840 WDT at 0x40010000) is configured and started, and the main loop reloads it
    on every pass: a loop that hangs resets the board within BOARD_WATCHDOG_MS."""
    elf = build.artifact("nano33ble", ".elf")
    text = subprocess.run([toolchain("objdump"), "-d", "--no-show-raw-insn", str(elf)], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    functions = dict(re.findall(r"^[0-9a-f]+ <(\w+)>:\n(.*?)(?=\n\n)", text, re.MULTILINE | re.DOTALL))
    start, feed = functions["board_watchdog_start"], functions["board_watchdog_feed"]
    assert ".word\t0x40010000" in start and ".word\t0x40010000" in feed  # the WDT's base
    for offset in ("#1292", "#1284", "#1288"):  # CONFIG (0x50c), CRV (0x504), RREN (0x508)
        assert offset in start
    assert "#65536" in start  # CRV: 2 s of the 32.768 kHz clock
    assert "#1536" in feed and ".word\t0x6e524635" in feed  # RR[0] (0x600) gets the reload value
    main = functions["main"]
    assert "<board_watchdog_start>" in main
    # Fed inside the audio loop: a call between the loop's read and its branch back.
    assert main.count("<board_watchdog_feed>") >= 1
