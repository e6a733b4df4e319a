#!/usr/bin/env bash
# Prepare the offline PlatformIO build (DESIGN.md §5). Idempotent; `make setup` runs it.
#
# Wraps the system arm-none-eabi toolchain as the PlatformIO package
# `toolchain-gccarmnoneeabi` (owner nanokws, as the local platform asks) in
# firmware/platformio/packages/toolchain-gccarmnoneeabi-system/: bin/ symlinks
# plus package.json and .piopm. The folder is generated, not committed, because
# the symlinks point at this machine's toolchain and the package version is that
# of the gcc found here. TOOLCHAIN_BIN=/path/to/bin picks another toolchain
# (default /usr/bin, Debian's gcc-arm-none-eabi).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${TOOLCHAIN_BIN:-/usr/bin}
pkg=$root/firmware/platformio/packages/toolchain-gccarmnoneeabi-system
gcc=$bin/arm-none-eabi-gcc

if [[ ! -x $gcc ]]; then
    echo "error: $gcc not found. Install the toolchain:" >&2
    echo "  sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi" >&2
    exit 1
fi
# Without newlib gcc still runs but cannot link: ask for it now, not at link time.
if [[ $("$gcc" -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 \
        -print-file-name=libc_nano.a) != /* ]]; then
    echo "error: newlib for arm-none-eabi is missing: sudo apt-get install libnewlib-arm-none-eabi" >&2
    exit 1
fi
if ! command -v qemu-system-arm >/dev/null; then
    echo "warning: qemu-system-arm not found; the emulator tests need it:" \
        "sudo apt-get install qemu-system-arm" >&2
fi

# PlatformIO encodes gcc X.Y.Z as 1.XXYYZZ.0 (12.2.1 -> 1.120201.0).
IFS=. read -r major minor patch <<<"$("$gcc" -dumpfullversion)"
version=$(printf '1.%d%02d%02d.0' "$major" "${minor:-0}" "${patch:-0}")

mkdir -p "$pkg/bin"
# A link that is already right is left alone, so that setups running at once (the test workers) do not race.
for tool in "$bin"/arm-none-eabi-*; do
    link=$pkg/bin/$(basename "$tool")
    [[ $(readlink "$link" 2>/dev/null) == "$tool" ]] || ln -sfn "$tool" "$link"
done
find "$pkg/bin" -xtype l -delete  # links to tools that are gone

# Rewrite the manifests only when they change, so an unchanged setup touches nothing.
write_if_changed() {
    local path=$1 content=$2
    if [[ ! -f $path || $(<"$path") != "$content" ]]; then
        printf '%s\n' "$content" >"$path.tmp"
        mv "$path.tmp" "$path"
    fi
}
write_if_changed "$pkg/package.json" "{
  \"name\": \"toolchain-gccarmnoneeabi\",
  \"version\": \"$version\",
  \"description\": \"arm-none-eabi gcc $major.${minor:-0}.${patch:-0} from $bin, wrapped by tools/pio_setup.sh\",
  \"system\": \"*\"
}"
write_if_changed "$pkg/.piopm" "{\"type\": \"tool\", \"name\": \"toolchain-gccarmnoneeabi\", \"version\": \"$version\", \"spec\": {\"owner\": \"nanokws\", \"id\": null, \"name\": \"toolchain-gccarmnoneeabi\", \"requirements\": null, \"uri\": null}}"

echo "toolchain-gccarmnoneeabi $version -> $bin ($pkg)"
