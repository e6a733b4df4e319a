"""PlatformIO entry point of the nrf52-baremetal platform.

PlatformIO loads the class named after the platform (dashes removed,
capitalised). The build itself is builder/main.py; this class only stops a
build early, with the fix, when the toolchain wrapper that tools/pio_setup.sh
makes is missing. Otherwise PlatformIO would look for it in its registry and
fail after a minute of retries with a bare HTTPClientError.
"""

from platformio.exception import UserSideException
from platformio.public import PlatformBase


class Nrf52baremetalPlatform(PlatformBase):
    def configure_default_packages(self, options: dict, targets: list) -> None:
        super().configure_default_packages(options, targets)
        if self.get_package("toolchain-gccarmnoneeabi") is None:
            raise UserSideException(
                "The toolchain package toolchain-gccarmnoneeabi (a wrapper of the system "
                "arm-none-eabi gcc) is missing: run `bash tools/pio_setup.sh` (make setup)."
            )
