#!/usr/bin/env bash
# Upload the Nano 33 BLE image (DESIGN.md §5); `make flash` builds it first, then runs this.
#
# Two ways onto the board, in this order:
#   1. Arduino's bootloader with Arduino's fork of bossac. The fork adds the nRF52 support that upstream
#      BOSSA lacks: Debian's `bossac` 1.9.1 (package bossa-cli) cannot flash this board and is refused.
#      Looked for as BOSSAC=..., on PATH, in PlatformIO's tool-bossac-nordicnrf52 package, then in the
#      Arduino IDE's tools. The board restarts into its bootloader when a sketch's USB port is opened at
#      1200 baud; our firmware has no USB port, so with it on the board press reset twice instead.
#      The bootloader writes the image at 0x10000, above itself.
#   2. A SWD debug probe through pyOCD, writing from 0x10000 and erasing only the sectors it writes, so
#      Arduino's bootloader survives.
# Otherwise it says what to install, and fails.
#
# Environment (make passes its command-line variables through: make flash PORT=/dev/ttyACM1):
#   PORT=/dev/ttyACM0   the board's serial port (default: /dev/serial/by-id/*Arduino*, else /dev/ttyACM*)
#   BOSSAC=/path        Arduino's bossac
#   PROBE=bossac|pyocd  insist on one way (default: bossac when the fork is found, else pyocd)
#   PYOCD=/path         pyocd (default: on PATH, else the project's .venv/bin/pyocd)
#   FIRMWARE=/path      the image (default: .pio/build/nano33ble/firmware.bin, what `make firmware` builds)
#   DRY_RUN=1           print the commands on stdout instead of running them (nothing touched or waited for)
#   BOOTLOADER_WAIT_S=10  how long to wait for the bootloader's port after the 1200-baud touch
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
firmware=${FIRMWARE:-$root/.pio/build/nano33ble/firmware.bin}
probe=${PROBE:-auto}
dry_run=${DRY_RUN:-0}
[[ $dry_run == 0 ]] && dry_run=

APP_BASE=0x10000        # where Arduino's bootloader starts the application (nano33ble.ld)
BOOTLOADER_PID=005a     # USB product id of the Nano 33 BLE's bootloader (a sketch's is 805a)
PORT_WAIT_S=${BOOTLOADER_WAIT_S:-10} # the bootloader's port appears within a second or two

note() { echo "flash: $*" >&2; }
die() {
    echo "flash: error: $*" >&2
    exit 1
}

# Run a command, or with DRY_RUN print it, quoted so it can be pasted into a shell.
run() {
    if [[ -n $dry_run ]]; then
        local line
        printf -v line '%q ' "$@"
        echo "${line% }"
    else
        "$@"
    fi
}

install_help() {
    cat >&2 <<EOF
To flash the Nano 33 BLE, install one of:
  * Arduino's bossac (the fork with nRF52 support, e.g. 1.9.1-arduino2), for the USB bootloader:
      arduino-cli core install arduino:mbed_nano     (into ~/.arduino15/packages/arduino/tools/bossac/)
      pio pkg install -g -t platformio/tool-bossac-nordicnrf52    (into ~/.platformio/packages/)
      or point at one:  make flash BOSSAC=/path/to/bossac
    Debian's bossa-cli is upstream BOSSA 1.9.1, without nRF52 support: it cannot flash this board.
  * a SWD debug probe (CMSIS-DAP, J-Link, ST-Link) on the board's SWD pads, with pyOCD:
      .venv/bin/pip install pyocd  then  make flash PROBE=pyocd
EOF
}

# ---- bossac ------------------------------------------------------------------------------------------------

# The version a bossac reports in --help ("Basic Open Source SAM-BA Application (BOSSA) Version 1.9.1");
# empty when the program is not BOSSA's bossac at all.
bossac_version() {
    local help
    help=$("$1" --help 2>&1) || true # upstream 1.9.1 exits with status 1 after printing its help
    [[ $help =~ BOSSA\)?\ Version\ ([^[:space:]]+) ]] && echo "${BASH_REMATCH[1]}"
    return 0
}

# Arduino's builds carry a suffix on the upstream number (1.9.1-arduino2, or git's 1.9.1-17-g89f3556);
# an upstream release such as Debian's is the bare number, and no upstream release supports the nRF52.
is_arduino_fork() {
    [[ $1 == *[Aa]rduino* || $1 =~ ^[0-9.]+-.+ ]]
}

bossac_candidates() {
    local path
    if path=$(command -v bossac); then echo "$path"; fi
    echo "$HOME/.platformio/packages/tool-bossac-nordicnrf52/bossac"
    [[ -n ${PLATFORMIO_CORE_DIR:-} ]] && echo "$PLATFORMIO_CORE_DIR/packages/tool-bossac-nordicnrf52/bossac"
    # platformio.ini's packages_dir: where `pio run -e nano33ble_official -t upload` puts it.
    echo "$root/firmware/platformio/packages/tool-bossac-nordicnrf52/bossac"
    shopt -s nullglob
    local arduino=("$HOME"/.arduino15/packages/arduino/tools/bossac/*/bossac)
    shopt -u nullglob
    if ((${#arduino[@]})); then printf '%s\n' "${arduino[@]}" | sort -rV; fi # newest first
}

# Sets bossac and bossac_found_version to the first Arduino fork found; refused ones are reported.
bossac=
bossac_found_version=
find_bossac() {
    local candidate version
    if [[ -n ${BOSSAC:-} ]]; then
        [[ -x $BOSSAC ]] || die "BOSSAC=$BOSSAC is not an executable file"
        version=$(bossac_version "$BOSSAC")
        [[ -n $version ]] || die "BOSSAC=$BOSSAC does not answer --help like BOSSA's bossac"
        if ! is_arduino_fork "$version"; then
            install_help
            die "BOSSAC=$BOSSAC is upstream BOSSA $version, without nRF52 support: it cannot flash the" \
                "Nano 33 BLE. Use Arduino's fork (see above)."
        fi
        bossac=$BOSSAC bossac_found_version=$version
        return
    fi
    while IFS= read -r candidate; do
        [[ -x $candidate ]] || continue
        version=$(bossac_version "$candidate")
        if [[ -z $version ]]; then
            note "skipping $candidate: not BOSSA's bossac"
        elif is_arduino_fork "$version"; then
            bossac=$candidate bossac_found_version=$version
            return
        else
            note "skipping $candidate: upstream BOSSA $version has no nRF52 support (Debian's bossa-cli);" \
                "Arduino's fork is needed"
        fi
    done < <(bossac_candidates)
}

# ---- serial ports -----------------------------------------------------------------------------------------

list_ports() {
    local p
    shopt -s nullglob
    for p in /dev/serial/by-id/*Arduino*; do readlink -f "$p"; done
    for p in /dev/ttyACM*; do echo "$p"; done
    shopt -u nullglob
}

usb_product() { # the port's USB product id from sysfs, empty when unknown
    local id=/sys/class/tty/${1##*/}/device/../idProduct
    [[ -r $id ]] && echo "$(<"$id")"
    return 0
}

in_list() { # in_list WORD LIST: is WORD one of LIST's lines?
    local line
    while IFS= read -r line; do [[ $line == "$1" ]] && return 0; done <<<"$2"
    return 1
}

# After the 1200-baud touch the board re-enumerates as its bootloader, possibly under another name:
# take a port that was not there before, or the same one once it has gone and come back.
wait_for_bootloader() {
    local old=$1 before=$2 gone= now p i
    for ((i = 0; i < PORT_WAIT_S * 4; i++)); do
        sleep 0.25
        now=$(list_ports)
        while IFS= read -r p; do
            if [[ -n $p ]] && ! in_list "$p" "$before"; then
                echo "$p"
                return
            fi
        done <<<"$now"
        if [[ ! -e $old ]]; then
            gone=1
        elif [[ -n $gone ]]; then
            echo "$old"
            return
        fi
    done
    [[ -e $old ]] && echo "$old" && return # some hosts keep the name without a visible gap
    die "the board's bootloader port did not appear within ${PORT_WAIT_S} s: press the reset button twice" \
        "(the orange LED pulses while the bootloader waits), then run make flash again"
}

flash_with_bossac() {
    local port=${PORT:-}
    if [[ -z $port ]]; then
        local ports
        ports=$(list_ports)
        port=${ports%%$'\n'*}
        [[ -n $port ]] || die "no serial port of the board found (no /dev/serial/by-id/*Arduino*, no" \
            "/dev/ttyACM*). Connect it by USB. Our firmware has no USB port of its own, so once it is on the" \
            "board press reset twice to start the bootloader, then run make flash again (or give PORT=...)."
    fi
    port=$(readlink -f "$port" 2>/dev/null || echo "$port")
    note "using Arduino's bossac $bossac_found_version ($bossac) on $port"

    if [[ $(usb_product "$port") == "$BOOTLOADER_PID" ]]; then
        note "$port is already the bootloader"
    elif [[ -n $dry_run ]]; then
        run stty -F "$port" 1200
        echo "# then wait up to ${PORT_WAIT_S} s for the bootloader's port (it may come back under another name)"
    else
        local before
        before=$(list_ports)
        note "restarting the board into its bootloader (1200-baud touch on $port)"
        stty -F "$port" 1200 || die "cannot open $port (are you in the dialout group?)"
        port=$(wait_for_bootloader "$port" "$before")
        note "bootloader on $port"
    fi
    # Like Arduino's IDE and PlatformIO, name the port without /dev/: the fork opens either form, older
    # bossac builds only prepend /dev/ themselves.
    run "$bossac" --port "${port#/dev/}" --write --erase -U --reset "$firmware"
}

# ---- pyOCD --------------------------------------------------------------------------------------------------

find_pyocd() {
    if [[ -n ${PYOCD:-} ]]; then
        [[ -x $PYOCD ]] || die "PYOCD=$PYOCD is not an executable file"
        echo "$PYOCD"
    elif command -v pyocd; then
        :
    elif [[ -x $root/.venv/bin/pyocd ]]; then
        echo "$root/.venv/bin/pyocd"
    fi
    return 0
}

flash_with_pyocd() {
    note "using pyOCD ($1) through a SWD probe, writing from $APP_BASE (Arduino's bootloader is kept)"
    run "$1" flash --target nrf52840 --erase sector --base-address "$APP_BASE" "$firmware"
}

# ---- main ---------------------------------------------------------------------------------------------------

case $probe in
auto | bossac | pyocd) ;;
*) die "PROBE=$probe: use PROBE=bossac or PROBE=pyocd" ;;
esac
if [[ -z $dry_run && ! -f $firmware ]]; then
    die "no image at $firmware: build it first (make firmware)"
fi

if [[ $probe != pyocd ]]; then
    find_bossac
    if [[ -n $bossac ]]; then
        flash_with_bossac
        exit 0
    fi
    if [[ $probe == bossac ]]; then
        install_help
        die "PROBE=bossac, but Arduino's bossac was not found"
    fi
fi

pyocd=$(find_pyocd)
if [[ -n $pyocd ]]; then
    flash_with_pyocd "$pyocd"
    exit 0
fi
install_help
if [[ $probe == pyocd ]]; then
    die "PROBE=pyocd, but pyocd was not found"
fi
die "neither Arduino's bossac nor pyOCD was found"
