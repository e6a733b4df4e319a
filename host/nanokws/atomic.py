"""Atomic writes: an artifact is either complete or absent, never half-written (Ctrl-C, full disk, crash)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(target: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` only if the block succeeds.

    `suffix` is for writers that insist on a file ending (Keras wants `.keras` or `.weights.h5`).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); an artifact gets the usual permissions under the umask
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _write_synced(path: Path, data: bytes, target: Path) -> None:
    try:
        with path.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:  # name the file the user knows, not the temporary one
        raise OSError(e.errno, e.strerror, str(target)) from e


def write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        _write_synced(tmp, data, target)


def write_all(files: dict[Path, bytes]) -> None:
    """Write several files as one: every file goes to a temporary name first, and only when all of them
    are written (a full disk fails before any rename) are they renamed over their targets."""
    with contextlib.ExitStack() as stack:
        for target, data in files.items():
            _write_synced(stack.enter_context(atomic_path(target)), data, target)


def write_text(target: Path, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def write_json(target: Path, obj: Any) -> None:
    write_text(target, json.dumps(obj, indent=2, sort_keys=True) + "\n")


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary directory beside `target`; it replaces `target` only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
