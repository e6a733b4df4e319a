"""TensorFlow's thread pools, fixed rather than sized from the machine.

TensorFlow sizes its pools from the number of cores, and the order in which a pool's threads add up partial
sums changes the last bits of the gradients: the same seed and data trained with one thread or with two gave
int8 students 3 points apart on the same test clips. Training therefore fixes the pool sizes (2 by default,
what this project's figures were measured with), so that another machine reproduces them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

from nanokws.errors import ConfigError

DEFAULT_THREADS = 2
_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def pin_tensorflow_threads(threads: int, environ: MutableMapping[str, str] | None = None) -> None:
    """Size both of TensorFlow's pools to `threads`; must run before TensorFlow starts in this process."""
    env = os.environ if environ is None else environ
    if threads < 1:
        raise ConfigError(f"--threads must be at least 1, not {threads}", hint="pass --threads 2 (the default)")
    wanted = str(threads)
    if "tensorflow" in sys.modules and any(env.get(v) != wanted for v in _VARIABLES):
        raise ConfigError(
            f"TensorFlow already started in this process, so its thread pools can no longer be set to {threads}",
            hint="fix the threads before anything imports TensorFlow (set TF_NUM_INTRAOP_THREADS and "
            "TF_NUM_INTEROP_THREADS, or call pin_tensorflow_threads first)",
        )
    for variable in _VARIABLES:
        env[variable] = wanted


def pinned_threads(environ: MutableMapping[str, str] | None = None) -> int | None:
    """The pools' size if both are fixed alike (recorded beside the model), else None."""
    env = os.environ if environ is None else environ
    values = {env.get(v) for v in _VARIABLES}
    value = values.pop() if len(values) == 1 else None
    return int(value) if value and value.isdigit() else None
