"""Shared fixtures: a small synthetic dataset made once per test session by the real synth stage."""

from __future__ import annotations

from pathlib import Path

import pytest

from nanokws.config import RunConfig, SynthConfig
from nanokws.data.manifest import Entry
from nanokws.data.synth import SynthResult, synthesize

SMALL_SYNTH = SynthConfig(clips_per_keyword=6, unknown_clips=6, silence_clips=6, noise_seconds=4)


@pytest.fixture(scope="session")
def small_synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthResult]:
    out = tmp_path_factory.mktemp("synth")
    return out, synthesize(out, SMALL_SYNTH, RunConfig(), jobs=2)


@pytest.fixture(scope="session")
def small_entries(small_synth: tuple[Path, SynthResult]) -> list[Entry]:
    return small_synth[1].entries
