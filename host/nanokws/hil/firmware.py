"""Build the firmware images with PlatformIO (offline: DESIGN.md §5) and find what the build made."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nanokws.codegen.host_build import ROOT
from nanokws.errors import NanokwsError

BUILD_TIMEOUT_S = 600
GENERATED = ROOT / "firmware" / "generated"


class FirmwareBuildError(NanokwsError):
    """`pio run` failed."""


def pio_env(build_dir: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PLATFORMIO_CORE_DIR=str(ROOT / ".pio" / "core"),
        PLATFORMIO_SETTING_ENABLE_TELEMETRY="no",
        PLATFORMIO_DISABLE_UPGRADE_CHECK="true",
    )
    if build_dir is not None:
        env["PLATFORMIO_BUILD_DIR"] = str(build_dir)
    return env


def build_image(env_name: str = "emu", build_dir: Path | None = None) -> Path:
    """`pio run -e <env_name>` from firmware/ and firmware/generated/; returns the ELF."""
    setup = subprocess.run(["bash", str(ROOT / "tools" / "pio_setup.sh")], capture_output=True, text=True)
    if setup.returncode != 0:
        raise FirmwareBuildError(f"tools/pio_setup.sh failed:\n{setup.stderr[-2000:]}", hint="run `make setup`")
    result = subprocess.run(
        [sys.executable, "-m", "platformio", "run", "-e", env_name],
        cwd=ROOT, env=pio_env(build_dir), capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise FirmwareBuildError(
            f"`pio run -e {env_name}` failed:\n{(result.stdout + result.stderr)[-4000:]}",
            hint="is firmware/generated/ complete? `host export` writes it",
        )
    return (build_dir or ROOT / ".pio" / "build") / env_name / "firmware.elf"
