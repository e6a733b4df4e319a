"""`make flash` (tools/flash.sh) picks the right uploader and builds the right command lines.

No board, probe or network: the script runs with DRY_RUN=1 (it prints the commands instead of running
them) inside a scratch copy of the repository layout, with a PATH and HOME that hold only what each test
puts there: fake `bossac` programs that answer --help as Arduino's fork and as Debian's upstream 1.9.1 do,
and a fake `pyocd`."""

from __future__ import annotations

import os
import pty
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLASH_SH = ROOT / "tools" / "flash.sh"
# The programs flash.sh calls besides bossac and pyocd; the test PATH links only these.
SYSTEM_TOOLS = ("dirname", "readlink", "sort", "stty", "sleep", "cat")
PORT = "/dev/ttyACM7"  # never opened: DRY_RUN skips the 1200-baud touch

# What the two kinds of bossac print for --help (first lines; upstream's is Debian's bossa-cli 1.9.1,
# which also exits with status 1 after it). Arduino's fork adds -V/--version and a suffixed version.
UPSTREAM_HELP = """Usage: bossac [OPTION...] [FILE]
Basic Open Source SAM-BA Application (BOSSA) Version 1.9.1
Flash programmer for Atmel SAM devices.
  -a, --arduino-erase   erase and reset via Arduino 1200 baud hack"""
FORK_HELP = """Usage: bossac [OPTION...] [FILE]
Basic Open Source SAM-BA Application (BOSSA) Version 1.9.1-arduino2
Flash programmer for Atmel SAM devices.
  -h, --help            display this help text
  -V, --version         display version info"""


@dataclass(frozen=True)
class Sandbox:
    """A copy of tools/flash.sh in an otherwise empty repository layout, and the environment to run it."""

    root: Path
    bin: Path  # first on PATH: fakes go here
    home: Path
    firmware: Path
    path: str

    def env(self, **extra: str) -> dict[str, str]:
        env = {"PATH": self.path, "HOME": str(self.home), "FIRMWARE": str(self.firmware), "DRY_RUN": "1"}
        env.update(extra)
        return env

    def run(self, **extra: str) -> subprocess.CompletedProcess[str]:
        bash = shutil.which("bash")
        assert bash is not None
        return subprocess.run(
            [bash, str(self.root / "tools" / "flash.sh")],
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=30,
        )


def fake_program(path: Path, help_text: str, status: int = 0) -> Path:
    """An executable that answers --help with help_text and exit status `status` (as bossac does), and
    otherwise writes its arguments, one a line, to <path>.args."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "#!/bin/sh\n"
        f"if [ \"$1\" = --help ]; then\ncat <<'EOF'\n{help_text}\nEOF\nexit {status}\nfi\n"
        'printf "%s\\n" "$@" > "$0.args"\n'
    )
    path.chmod(0o755)
    return path


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    root = tmp_path / "repo"
    (root / "tools").mkdir(parents=True)
    shutil.copy2(FLASH_SH, root / "tools" / "flash.sh")
    firmware = root / ".pio" / "build" / "nano33ble" / "firmware.bin"
    firmware.parent.mkdir(parents=True)
    firmware.write_bytes(b"\x00" * 16)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    system = tmp_path / "system"
    system.mkdir()
    for tool in SYSTEM_TOOLS:
        found = shutil.which(tool)
        assert found, f"{tool} is needed to run tools/flash.sh"
        (system / tool).symlink_to(found)
    home = tmp_path / "home"
    home.mkdir()
    return Sandbox(root, bin_dir, home, firmware, f"{bin_dir}{os.pathsep}{system}")


def commands(result: subprocess.CompletedProcess[str]) -> list[list[str]]:
    """The command lines a dry run printed (comment lines left out)."""
    return [shlex.split(line) for line in result.stdout.splitlines() if line and not line.startswith("#")]


def bossac_command(bossac: Path, port: str, firmware: Path) -> list[str]:
    # Arduino's upload for nano33ble as PlatformIO's nordicnrf52 platform runs it (DESIGN.md §5).
    return [str(bossac), "--port", port.removeprefix("/dev/"), "--write", "--erase", "-U", "--reset", str(firmware)]


def test_arduino_bossac_on_path_touches_the_port_then_writes(sandbox: Sandbox) -> None:
    bossac = fake_program(sandbox.bin / "bossac", FORK_HELP)
    result = sandbox.run(PORT=PORT)
    assert result.returncode == 0, result.stderr
    assert commands(result) == [["stty", "-F", PORT, "1200"], bossac_command(bossac, PORT, sandbox.firmware)]
    assert "bootloader" in result.stdout  # the wait for the bootloader's port is shown, not silently skipped


def test_debian_upstream_bossac_is_refused_with_what_to_install(sandbox: Sandbox) -> None:
    fake_program(sandbox.bin / "bossac", UPSTREAM_HELP, status=1)
    result = sandbox.run(PORT=PORT)
    assert result.returncode != 0
    assert commands(result) == []
    assert "upstream BOSSA 1.9.1" in result.stderr
    assert "Arduino's bossac" in result.stderr and "pyocd" in result.stderr.lower()


def test_upstream_bossac_on_path_gives_way_to_pyocd(sandbox: Sandbox) -> None:
    fake_program(sandbox.bin / "bossac", UPSTREAM_HELP, status=1)
    pyocd = fake_program(sandbox.bin / "pyocd", "pyocd")
    result = sandbox.run(PORT=PORT)
    assert result.returncode == 0, result.stderr
    assert "upstream BOSSA 1.9.1" in result.stderr
    assert commands(result)[-1][0] == str(pyocd)


def test_bossac_given_by_the_user_wins_over_path(sandbox: Sandbox, tmp_path: Path) -> None:
    fake_program(sandbox.bin / "bossac", UPSTREAM_HELP, status=1)
    mine = fake_program(tmp_path / "arduino" / "bossac", FORK_HELP)
    result = sandbox.run(PORT=PORT, BOSSAC=str(mine))
    assert result.returncode == 0, result.stderr
    assert commands(result)[-1] == bossac_command(mine, PORT, sandbox.firmware)


def test_upstream_bossac_given_by_the_user_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    debian = fake_program(tmp_path / "debian" / "bossac", UPSTREAM_HELP, status=1)
    fake_program(sandbox.bin / "pyocd", "pyocd")  # asked for bossac: no quiet fallback to the probe
    result = sandbox.run(PORT=PORT, BOSSAC=str(debian))
    assert result.returncode != 0
    assert commands(result) == []
    assert "without nRF52 support" in result.stderr


@pytest.mark.parametrize(
    "install",
    [
        Path(".platformio/packages/tool-bossac-nordicnrf52/bossac"),
        Path(".arduino15/packages/arduino/tools/bossac/1.9.1-arduino2/bossac"),
    ],
    ids=["platformio", "arduino"],
)
def test_arduino_bossac_is_found_where_its_installers_put_it(sandbox: Sandbox, install: Path) -> None:
    bossac = fake_program(sandbox.home / install, FORK_HELP)
    result = sandbox.run(PORT=PORT)
    assert result.returncode == 0, result.stderr
    assert commands(result)[-1] == bossac_command(bossac, PORT, sandbox.firmware)


def test_pyocd_writes_above_the_bootloader(sandbox: Sandbox) -> None:
    fake_program(sandbox.bin / "bossac", FORK_HELP)  # present, but the probe was asked for
    pyocd = fake_program(sandbox.bin / "pyocd", "pyocd")
    result = sandbox.run(PROBE="pyocd")
    assert result.returncode == 0, result.stderr
    assert commands(result) == [
        [
            str(pyocd), "flash", "--target", "nrf52840", "--erase", "sector", "--base-address", "0x10000",
            str(sandbox.firmware),
        ]
    ]  # fmt: skip


def test_pyocd_is_the_fallback_without_bossac(sandbox: Sandbox) -> None:
    pyocd = fake_program(sandbox.bin / "pyocd", "pyocd")
    result = sandbox.run()
    assert result.returncode == 0, result.stderr
    assert [command[0] for command in commands(result)] == [str(pyocd)]


def test_nothing_installed_explains_both_ways(sandbox: Sandbox) -> None:
    result = sandbox.run(PORT=PORT)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "neither Arduino's bossac nor pyOCD was found" in result.stderr
    assert "arduino-cli core install arduino:mbed_nano" in result.stderr  # how to get the fork
    assert "pip install pyocd" in result.stderr  # and the probe route


def test_bossac_without_a_port_says_how_to_start_the_bootloader(sandbox: Sandbox) -> None:
    if list(Path("/dev").glob("ttyACM*")) or list(Path("/dev/serial/by-id").glob("*Arduino*")):
        pytest.skip("a serial port is attached here: auto-detection would find it")
    fake_program(sandbox.bin / "bossac", FORK_HELP)
    result = sandbox.run()
    assert result.returncode != 0
    assert "press reset twice" in result.stderr


def test_missing_image_says_to_build_it(sandbox: Sandbox) -> None:
    fake_program(sandbox.bin / "pyocd", "pyocd")
    sandbox.firmware.unlink()
    result = sandbox.run(DRY_RUN="0")
    assert result.returncode != 0
    assert "make firmware" in result.stderr


def test_unknown_probe_is_refused(sandbox: Sandbox) -> None:
    result = sandbox.run(PROBE="jlink")
    assert result.returncode != 0
    assert "PROBE=bossac or PROBE=pyocd" in result.stderr


def test_make_flash_runs_the_script_after_building() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "\nflash: firmware\n\t@bash tools/flash.sh\n" in makefile
    phony = next(line for line in makefile.splitlines() if line.startswith(".PHONY:"))
    assert "flash" in phony.split()


def test_without_dry_run_the_port_is_touched_and_bossac_runs(sandbox: Sandbox) -> None:
    # A pseudo-terminal stands in for the board's port: stty can set it to 1200 baud, and it stays
    # where it is, so after the wait the same port is taken (as when the bootloader keeps its name).
    bossac = fake_program(sandbox.bin / "bossac", FORK_HELP)
    controller, port_fd = pty.openpty()
    try:
        port = os.ttyname(port_fd)
        result = sandbox.run(PORT=port, DRY_RUN="0", BOOTLOADER_WAIT_S="1")
    finally:
        os.close(port_fd)
        os.close(controller)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # nothing printed in place of running
    args = Path(f"{bossac}.args").read_text().splitlines()
    assert args == bossac_command(bossac, port, sandbox.firmware)[1:]
