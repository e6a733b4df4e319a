"""Ctrl-C held back while a checkpoint is written.

Some writers catch every exception while they write (Keras' `.keras` saving has a bare `except:` around
its temporary weights file) and would swallow a KeyboardInterrupt that lands there, or turn it into another
error half-way through. Inside `deferred()` a Ctrl-C is only noted; when the block ends the previous handler
is put back and the signal raised again, so the interrupt arrives after the checkpoint is whole.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Run the block to its end before any Ctrl-C that arrives during it (main thread only: elsewhere the
    signal is the main thread's anyway, and the block runs as it is)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            signal.raise_signal(signal.SIGINT)  # to the handler that was there: KeyboardInterrupt, or ignored
