"""Ctrl-C while a checkpoint is written arrives after the write, and is neither lost nor turned into
another error by a writer that catches everything."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator

import pytest

from nanokws import interrupts


@pytest.fixture
def default_ctrl_c() -> Iterator[None]:
    """Python's own Ctrl-C handler, whatever the test runner inherited: a shell that starts a job in the
    background (`cmd &`) hands it SIGINT ignored, and an ignored Ctrl-C is meant to stay ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("default_ctrl_c")
def test_ctrl_c_inside_the_block_is_raised_when_the_block_ends() -> None:
    done = []
    with pytest.raises(KeyboardInterrupt), interrupts.deferred():
        signal.raise_signal(signal.SIGINT)
        done.append("the rest of the block")
    assert done == ["the rest of the block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.usefixtures("default_ctrl_c")
def test_a_writer_that_catches_everything_does_not_lose_the_ctrl_c() -> None:
    with pytest.raises(KeyboardInterrupt), interrupts.deferred():
        try:  # as Keras' saving does around its temporary weights file
            signal.raise_signal(signal.SIGINT)
        except:  # noqa: E722
            pytest.fail("the interrupt reached the block")


@pytest.mark.usefixtures("default_ctrl_c")
def test_a_quiet_block_raises_nothing_and_puts_the_handler_back() -> None:
    with interrupts.deferred():
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_ctrl_c_stays_ignored() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with interrupts.deferred():
            signal.raise_signal(signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_outside_the_main_thread_the_block_just_runs() -> None:
    seen = []
    worker = threading.Thread(target=lambda: seen.append(_run_deferred()))
    worker.start()
    worker.join()
    assert seen == ["ran"]


def _run_deferred() -> str:
    with interrupts.deferred():
        return "ran"
