*** Comments ***
The Nano 33 BLE image in Renode's arduino_nano_33_ble platform, with a recording of "yes" as its
microphone, prints a detection of `yes` on UARTE0. tests/test_renode.py builds the image, writes the
audio and runs this through renode-test; by hand, from the repository root:
    renode-test tests/renode/nano33ble.robot
Variables (renode-test --variable NAME:VALUE): ELF, AUDIO, PLATFORM (an offline copy of the board's
description, see nano33ble.resc).


*** Variables ***
${ELF}              ${CURDIR}/../../.pio/build/nano33ble/firmware.elf
${AUDIO}            ${CURDIR}/../../build/renode/yes.s16le
${PLATFORM}         @platforms/boards/arduino_nano_33_ble.repl
${UART}             sysbus.uart0
# A detection line, `<time_ms> <label> <score>` (e.g. `1234 yes 0.87`), for the label yes.
${DETECTION}        ^\\d+ yes \\d+\\.\\d+$


*** Test Cases ***
Should Detect Yes From The Microphone
    Execute Command                 $elf=@${ELF}
    Execute Command                 $audio=@${AUDIO}
    Execute Command                 $platform=${PLATFORM}
    Execute Script                  ${CURDIR}/nano33ble.resc
    Create Terminal Tester          ${UART}    timeout=60
    Register Failing Uart String    unexpected exception
    Register Failing Uart String    stack overflow

    Start Emulation
    Wait For Line On Uart           nanokws ready
    Wait For Line On Uart           ${DETECTION}    treatAsRegex=true
