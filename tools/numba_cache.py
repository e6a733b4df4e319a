"""Compile librosa's numba functions once, in one process, at install (`make setup` runs this).

librosa compiles its gufuncs when their modules are imported and caches them beside the package. Two
processes compiling the same gufunc at once, on an install whose cache is still empty, can write cache files
that do not match each other, and from then on every call of that function crashes the process (numba issue
10128; seen here as a segfault in librosa.yin). The test workers, and the workers of `host data synth`, start
together. Compiled here first, the cache is only read afterwards.
"""

from __future__ import annotations

import importlib
import pkgutil

import librosa


def main() -> None:
    compiled = 0
    for module in pkgutil.walk_packages(librosa.__path__, "librosa."):
        if module.name.startswith("librosa.display"):  # plotting only, and needs matplotlib
            continue
        try:
            importlib.import_module(module.name)
        except ImportError:
            continue
        compiled += 1
    print(f"librosa: {compiled} modules imported, their numba functions compiled and cached")


if __name__ == "__main__":
    main()
