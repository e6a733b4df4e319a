"""Exceptions for user-facing failures: the CLI turns each into one clear message and a non-zero exit."""

from __future__ import annotations

from pathlib import Path


class NanokwsError(Exception):
    """A failure the user can act on: what went wrong, where, and what to do about it."""

    def __init__(self, what: str, *, path: Path | str | None = None, hint: str | None = None) -> None:
        self.what = what
        self.path = Path(path) if path is not None else None
        self.hint = hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [self.what]
        if self.path is not None:
            parts.append(f"  file: {self.path}")
        if self.hint:
            parts.append(f"  what to do: {self.hint}")
        return "\n".join(parts)


class AudioError(NanokwsError):
    """An audio file that cannot be read or does not make sense as speech audio."""


class DatasetError(NanokwsError):
    """A dataset folder, manifest or source that cannot be used."""


class ConfigError(NanokwsError):
    """A run directory or configuration that does not match what was asked for."""


class ToolMissingError(NanokwsError):
    """An external program (a TTS engine, the toolchain) that is not installed."""


class Interrupted(NanokwsError):
    """Ctrl-C: the command stopped where it was (the CLI exits with 130). Raised inside a command, because
    the command-line framework would otherwise swallow the KeyboardInterrupt."""
