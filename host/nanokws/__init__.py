"""nanokws: a host-side trainer and firmware generator for keyword spotting on microcontrollers."""

__version__ = "0.1.0"
