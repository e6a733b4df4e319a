"""Start SCons for PlatformIO from the PyPI `scons` package installed beside it.

PlatformIO core runs `<its python> <tool-scons dir>/scons.py ...` for every
build and would otherwise download its own tool-scons from the registry. This
wrapper, with the .piopm beside it (owner platformio, version 4.41101.0, which
satisfies PlatformIO 6.2.0's `~4.41101.0` pin), lets it build offline with the
pinned scons==4.11.1 (pyproject.toml).
"""

import sys

try:
    from SCons.Script.Main import main
except ImportError:
    sys.exit("tool-scons: the `scons` Python package is missing; install it: pip install scons==4.11.1")

if __name__ == "__main__":
    main()
