"""The Nano 33 BLE image in Renode (DESIGN.md §6).

Where Renode is installed, tests/renode/nano33ble.robot runs the image on Renode's upstream
arduino_nano_33_ble platform with a recorded "yes" as the microphone and waits for the detection on
UARTE0. Everywhere, without Renode, the script's paths are checked against what the PlatformIO build and
this file produce, and the board layer's peripherals against what that upstream platform models, so the
image cannot drift onto hardware Renode does not emulate.

Audio file convention: the microphone is raw mono PCM, 16 kHz, signed 16-bit little-endian, no header
(what Renode's `sysbus.pdm SetInputFile` reads); this file writes it to build/renode/yes.s16le, the
default of nano33ble.resc and nano33ble.robot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
RENODE_DIR = ROOT / "tests" / "renode"
RESC = RENODE_DIR / "nano33ble.resc"
ROBOT = RENODE_DIR / "nano33ble.robot"
BOARD = ROOT / "firmware" / "boards" / "nano33ble"
ELF = ROOT / ".pio" / "build" / "nano33ble" / "firmware.elf"  # PlatformIO: <build_dir>/<env>/firmware.elf
AUDIO = ROOT / "build" / "renode" / "yes.s16le"
SAMPLE_RATE = 16000

# Renode's upstream platform, as facts: platforms/cpus/nrf52840.repl and
# platforms/boards/arduino_nano_33_ble.repl of renode/renode (master, 2025).
UPSTREAM_BASES = {
    "uart0": 0x40002000,  # UART.NRF52840_UART, easyDMA: true, -> nvic@2
    "clock": 0x40000000,  # Miscellaneous.NRF_CLOCK
    "pdm": 0x4001D000,  # Sound.NRF52840_PDM, -> nvic@29
    "gpio0": 0x50000500,  # GPIOPort.NRF52840_GPIO
    "gpio1": 0x50000800,  # GPIOPort.NRF52840_GPIO
    "wdt": 0x40010000,  # Timers.NRF52840_Watchdog, -> nvic@16
}
UPSTREAM_PDM_IRQ = 29
UPSTREAM_FLASH = (0x00000000, 0x100000)  # flash: Memory.MappedMemory, size 0x100000
UPSTREAM_RAM = (0x20000000, 0x40000)  # ram: Memory.MappedMemory, size 0x40000
UPSTREAM_LED_PINS = {"LED_RED_PIN": 24, "LED_GREEN_PIN": 16, "LED_BLUE_PIN": 6}  # gpio0 -> led_red/green/blue
# NRF52840_GPIO numbers its registers from OUT = 0x04 where the PS numbers them from the port's base
# (OUT = 0x504), so the model sits 0x500 above each port's base (P0 0x50000000, P1 0x50000300).
RENODE_GPIO_SHIFT = 0x500
RENODE_GPIO_REGISTERS = {0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x1C, 0x20, 0x24}  # OUT .. DETECTMODE
RENODE_GPIO_PIN_CNF = 0x200  # PinConfigure, 32 registers

# Where each register base of the board layer must sit in the upstream platform.
BOARD_BASES = {
    "CLOCK_BASE": UPSTREAM_BASES["clock"],
    "UARTE0_BASE": UPSTREAM_BASES["uart0"],
    "PDM_BASE": UPSTREAM_BASES["pdm"],
    "GPIO_P0_BASE": UPSTREAM_BASES["gpio0"] - RENODE_GPIO_SHIFT,
    "GPIO_P1_BASE": UPSTREAM_BASES["gpio1"] - RENODE_GPIO_SHIFT,
    "WDT_BASE": UPSTREAM_BASES["wdt"],
}


def defines(path: Path) -> dict[str, int]:
    """The object-like `#define NAME <integer>` macros of a C header."""
    pattern = re.compile(r"^#define\s+(\w+)\s+\(?(0x[0-9A-Fa-f]+|\d+)u?\)?(?:\s|$)", re.MULTILINE)
    return {name: int(value, 0) for name, value in pattern.findall(path.read_text())}


def script_variable(text: str, name: str) -> str:
    """The default a .resc gives a variable (`$name?=value`)."""
    match = re.search(rf"^\${name}\?=(\S+)$", text, re.MULTILINE)
    assert match, f"no default for ${name}"
    return match.group(1)


def robot_variable(name: str) -> str:
    match = re.search(rf"^\$\{{{name}\}}\s+(\S.*)$", ROBOT.read_text(), re.MULTILINE)
    assert match, f"no ${{{name}}} in {ROBOT.name}"
    return match.group(1).strip()


def write_pcm(path: Path, samples: np.ndarray) -> Path:
    """Write int16 samples as the raw s16le PCM that Renode's PDM model reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.asarray(samples, dtype="<i2").tobytes())
    return path


def yes_stream(clip: np.ndarray, lead_s: float = 1.0, tail_s: float = 1.5) -> np.ndarray:
    """The clip between silences: the front end fills its window before it, the detector's averaging
    window and refractory period play out after it."""
    silence = np.zeros(int(lead_s * SAMPLE_RATE), dtype=np.int16)
    return np.concatenate([silence, clip.astype(np.int16), np.zeros(int(tail_s * SAMPLE_RATE), dtype=np.int16)])


# ---- Without Renode: the script, the build and the board layer agree with the upstream platform ----------


def test_resc_loads_the_elf_that_platformio_builds() -> None:
    elf = script_variable(RESC.read_text(), "elf")
    assert elf.startswith("$ORIGIN/"), "the default must not depend on Renode's working directory"
    assert (RENODE_DIR / elf.removeprefix("$ORIGIN/")).resolve() == ELF
    ini = (ROOT / "platformio.ini").read_text()
    assert re.search(r"^\[env:nano33ble\]$", ini, re.MULTILINE)
    assert not re.search(r"^build_dir\s*=", ini, re.MULTILINE), "PlatformIO builds into .pio/build by default"
    assert Path(robot_variable("ELF").replace("${CURDIR}", str(RENODE_DIR))).resolve() == ELF


def test_resc_microphone_is_the_file_this_test_writes(tmp_path: Path) -> None:
    audio = script_variable(RESC.read_text(), "audio")
    assert (RENODE_DIR / audio.removeprefix("$ORIGIN/")).resolve() == AUDIO
    assert Path(robot_variable("AUDIO").replace("${CURDIR}", str(RENODE_DIR))).resolve() == AUDIO
    assert "sysbus.pdm SetInputFile $audio" in RESC.read_text()
    clip = np.array([0, 1, -1, 32767, -32768], dtype=np.int16)
    pcm = write_pcm(tmp_path / "yes.s16le", yes_stream(clip, lead_s=0.001, tail_s=0.002))
    data = pcm.read_bytes()
    assert len(data) == 2 * (16 + 5 + 32)
    assert data[32:42] == b"\x00\x00\x01\x00\xff\xff\xff\x7f\x00\x80"  # little-endian, two's complement


def test_resc_loads_the_upstream_board_and_starts_at_the_image_vector_table() -> None:
    text = RESC.read_text()
    assert script_variable(text, "platform") == "@platforms/boards/arduino_nano_33_ble.repl"
    assert "machine LoadPlatformDescription $platform" in text
    assert "ApplySVD" in text  # the comment telling offline users what to strip
    # Nothing sits below the image in Renode (no bootloader): the core starts from our table.
    assert 'VectorTableOffset `sysbus GetSymbolAddress "__vector_table__"`' in text
    sections = (ROOT / "firmware" / "boards" / "cortex_m4f" / "sections.ld").read_text()
    assert re.search(r"\.isr_vector :\s*\{\s*__vector_table__ = \.;", sections)
    assert "showAnalyzer sysbus.uart0" in text


def test_board_layer_uses_only_peripherals_the_upstream_platform_models() -> None:
    header = defines(BOARD / "nrf52840.h")
    bases = {name: value for name, value in header.items() if name.endswith("_BASE")}
    assert bases == BOARD_BASES
    # Register addresses live in nrf52840.h only: none spelled out in the board's C files.
    for source in sorted(BOARD.glob("*.c")):
        stray = re.findall(r"0x[45][0-9A-Fa-f]{7}", source.read_text())
        assert not stray, f"{source.name} names peripheral addresses outside nrf52840.h: {stray}"


def test_board_gpio_registers_exist_in_renodes_gpio_model() -> None:
    header = defines(BOARD / "nrf52840.h")
    for name in ("GPIO_OUTSET", "GPIO_OUTCLR", "GPIO_DIRSET"):
        assert header[name] - RENODE_GPIO_SHIFT in RENODE_GPIO_REGISTERS, name
    pin_cnf = re.search(
        r"#define GPIO_PIN_CNF\(pin\) \((0x[0-9A-Fa-f]+)u \+ 4u \* \(pin\)\)", (BOARD / "nrf52840.h").read_text()
    )
    assert pin_cnf and int(pin_cnf.group(1), 16) - RENODE_GPIO_SHIFT == RENODE_GPIO_PIN_CNF


def test_pdm_interrupt_is_the_upstream_one_and_in_the_vector_table() -> None:
    assert defines(BOARD / "nrf52840.h")["PDM_IRQN"] == UPSTREAM_PDM_IRQ
    startup = (BOARD / "startup.c").read_text()
    assert re.search(r"\[IRQ_VECTOR\(PDM_IRQN\)\] = PDM_IRQHandler", startup)
    assert re.search(r"#define IRQ_VECTOR\(irq\) \(15 \+ \(irq\)\)", startup)  # handler[0] is vector 1


def test_leds_are_on_the_pins_renode_wires_to_its_leds() -> None:
    pins = defines(BOARD / "pins.h")
    assert {name: pins[name] for name in UPSTREAM_LED_PINS} == UPSTREAM_LED_PINS


def test_memory_map_fits_the_upstream_platform() -> None:
    script = (BOARD / "nano33ble.ld").read_text()
    regions = {
        name: (int(origin, 0), int(length[:-1], 0) * 1024 if length.endswith("K") else int(length, 0))
        for name, origin, length in re.findall(r"(\w+) \(\w+\) : ORIGIN = (\w+), LENGTH = (\w+)", script)
    }
    assert regions["FLASH"][0] == 0x10000  # above Arduino's bootloader
    for name, (start, size) in (("FLASH", UPSTREAM_FLASH), ("RAM", UPSTREAM_RAM)):
        origin, length = regions[name]
        assert start <= origin and origin + length <= start + size, name


def test_robot_waits_for_the_firmwares_detection_line() -> None:
    pattern = re.compile(robot_variable("DETECTION").replace("\\\\", "\\"))
    assert pattern.fullmatch("1234 yes 0.87")
    assert pattern.fullmatch("20 yes 1.00")
    for line in ("1234 no 0.87", "nanokws ready 12 labels, model every 40 ms", "scores 1234 -128 90", "overrun 320"):
        assert not pattern.search(line), line
    robot = ROBOT.read_text()
    assert "Create Terminal Tester          ${UART}" in robot and robot_variable("UART") == "sysbus.uart0"
    assert "Wait For Line On Uart           ${DETECTION}    treatAsRegex=true" in robot


# ---- With Renode: the image hears "yes" ------------------------------------------------------------------


@pytest.mark.slow
def test_renode_detects_yes(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    renode_test = shutil.which("renode-test")
    if renode_test is None:
        pytest.skip(
            "Renode is not installed (no renode-test on PATH), so the image was not run in it. Install Renode "
            "1.14 or later from its release packages, then: pytest tests/test_renode.py (or by hand: make "
            "firmware; renode-test tests/renode/nano33ble.robot)"
        )
    env = dict(os.environ, PLATFORMIO_SETTING_ENABLE_TELEMETRY="no", PLATFORMIO_DISABLE_UPGRADE_CHECK="true")
    build = subprocess.run(
        [sys.executable, "-m", "platformio", "run", "-e", "nano33ble"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]

    from nanokws.audio import read_wav_int16

    synth_dir, synth = request.getfixturevalue("small_synth")
    entry = next(e for e in synth.entries if e.label == "yes")
    clip, rate = read_wav_int16(synth_dir / entry.path)
    assert rate == SAMPLE_RATE
    write_pcm(AUDIO, yes_stream(clip))

    command = [renode_test, "--results-dir", str(tmp_path), "--variable", f"ELF:{ELF}", "--variable", f"AUDIO:{AUDIO}"]
    if platform := os.environ.get("RENODE_PLATFORM"):  # an offline copy of the board (see nano33ble.resc)
        command += ["--variable", f"PLATFORM:@{platform}"]
    result = subprocess.run([*command, str(ROBOT)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-4000:]
