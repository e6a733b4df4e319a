#!/usr/bin/env bash
# Install the Debian packages nanokws needs (toolchain, emulator, TTS engines, headless Chromium for the
# report's browser test, clang and its libFuzzer for the fuzz tests), only those missing.
# Idempotent; `make setup` runs it. Without root (and without passwordless sudo) it lists what is missing
# and how to install it, and fails.
set -euo pipefail

packages=(
    gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
    espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts
    festvox-italp16k festvox-itapc16k festvox-czech-dita festvox-czech-krb festvox-czech-machac festvox-czech-ph
    festvox-suopuhe-lj festvox-suopuhe-mv festvox-ca-ona-hts festvox-ru
    sox clang-format gcc libc6-dev clang libclang-rt-14-dev
    chromium chromium-driver
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    echo "Debian packages: all ${#packages[@]} present"
    exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
    sudo=()
elif sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "error: these Debian packages are missing: ${missing[*]}" >&2
    echo "  install them as root:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "Debian packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
