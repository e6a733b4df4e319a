"""SCons build script of the nrf52-baremetal platform.

PlatformIO runs it inside its own SCons environment, which already carries the
project's build_flags, build_src_filter and linker script (board_build.ldscript).
This script names the arm-none-eabi tools, links firmware.elf, derives .bin and
.hex from it and prints its size. It does not flash: see the upload target.
"""

import os
import sys

from SCons.Script import AlwaysBuild, Builder, Default, DefaultEnvironment

env = DefaultEnvironment()
platform = env.PioPlatform()
board = env.BoardConfig()

toolchain_dir = platform.get_package_dir("toolchain-gccarmnoneeabi") or ""
if not os.path.isfile(os.path.join(toolchain_dir, "bin", "arm-none-eabi-gcc")):
    # The package is made by tools/pio_setup.sh from the Debian toolchain; its
    # symlinks dangle if that toolchain was removed since.
    sys.stderr.write(
        f"Error: arm-none-eabi-gcc not found in the toolchain wrapper {toolchain_dir!r}.\n"
        "Run `bash tools/pio_setup.sh` (make setup); it says what to install.\n"
    )
    env.Exit(1)

env.Replace(
    AR="arm-none-eabi-ar",
    AS="arm-none-eabi-as",
    CC="arm-none-eabi-gcc",
    CXX="arm-none-eabi-g++",
    OBJCOPY="arm-none-eabi-objcopy",
    RANLIB="arm-none-eabi-ranlib",
    SIZETOOL="arm-none-eabi-size",
    ARFLAGS=["rc"],
    PROGSUFFIX=".elf",
    # PlatformIO's size check sums these sections of `size -A` for flash and RAM;
    # the names are those of our linker scripts (.stack is the reserved stack).
    SIZEPROGREGEXP=r"^(?:\.isr_vector|\.text|\.ARM\.exidx|\.data)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss|\.stack)\s+(\d+).*",
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
    SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
)
if env.get("PROGNAME", "program") == "program":
    env.Replace(PROGNAME="firmware")

env.Append(
    BUILDERS=dict(
        ElfToBin=Builder(
            action=env.VerboseAction("$OBJCOPY -O binary $SOURCES $TARGET", "Building $TARGET"),
            suffix=".bin",
        ),
        ElfToHex=Builder(
            action=env.VerboseAction("$OBJCOPY -O ihex $SOURCES $TARGET", "Building $TARGET"),
            suffix=".hex",
        ),
    )
)

elf = env.BuildProgram()
env.AddPostAction(elf, env.VerboseAction("$SIZETOOL -B -d $TARGET", "Size of $TARGET"))
images = [
    env.ElfToBin(os.path.join("$BUILD_DIR", "${PROGNAME}"), elf),
    env.ElfToHex(os.path.join("$BUILD_DIR", "${PROGNAME}"), elf),
]
env.Alias("buildprog", images)

AlwaysBuild(env.Alias("size", elf, env.VerboseAction("$SIZEPRINTCMD", "Size of $SOURCE")))


def _explain_upload(target: list, source: list, env: object) -> int:
    if board.id == "nano33ble_bare":
        sys.stderr.write(
            "This offline platform does not flash. Use `make flash` (Arduino's bossac fork or a "
            "SWD probe with pyOCD, writing from 0x10000),\nor, with internet, "
            "`pio run -e nano33ble_official -t upload`.\n"
        )
    else:
        sys.stderr.write(f"{board.id} is emulated: run the ELF in QEMU (see tests/test_firmware_build.py).\n")
    return 1


AlwaysBuild(env.Alias("upload", images, env.VerboseAction(_explain_upload, "Not uploading")))

Default(images)
