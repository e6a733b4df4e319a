"""Shared fixtures: a small synthetic dataset made once per test session by the real synth stage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nanokws.audio import read_wav_int16
from nanokws.config import RunConfig, SynthConfig
from nanokws.data.manifest import Entry
from nanokws.data.streams import StreamEvent, make_stream
from nanokws.data.synth import SynthResult, synthesize

# The MLPerf Tiny reference model: made elsewhere, beside the repository in shared/models (see its README).
MLPERF_MODEL = Path(__file__).resolve().parents[2] / "shared" / "models" / "mlperf_kws_ref_model.tflite"

HOST_TIMEOUT_S = 900

# `make test` runs the suite on two workers (pytest-xdist). A module's tests stay on one worker, so its module
# fixtures are built once. Modules that share something outside their tmp_path run on one worker together: the
# firmware builds (the checkout's .pio/, build/ and the PlatformIO core) and the tests of the session fixture
# `report_run` (two minutes of `host train`, built once). pytest-xdist's own `--dist loadgroup` cannot do this
# under pytest 9 (it renames node ids, which pytest 9 no longer allows), so the scheduler below groups them.
SHARED_GROUPS = {
    "firmware": (
        "tests/hil/", "tests/test_firmware_build.py", "tests/test_firmware_stack.py", "tests/test_bench_device.py",
        "tests/test_renode.py",
    ),
    "report_run": ("tests/test_report.py", "tests/test_report_browser.py"),
}  # fmt: skip


def worker_group(nodeid: str) -> str:
    """What runs on one worker with this test: its shared group, else its module."""
    module = nodeid.split("::")[0]
    return next((g for g, paths in SHARED_GROUPS.items() if module.startswith(paths)), module)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """pytest-xdist's per-module scheduling, with the shared groups above as single units."""

        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid)

    return GroupScheduling(config, log)


# The longest groups, longest first (measured on a fresh clone, two workers on 2 cores: 4 to 9 minutes each).
LONGEST_GROUPS = ("tests/test_train_pipeline.py", "tests/test_train_whisper_views.py", "report_run", "firmware")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest groups first, then the other groups with slow tests, then the rest (each in collection
    order), so that the two workers finish close together."""
    slow = {worker_group(item.nodeid) for item in items if item.get_closest_marker("slow")}

    def rank(item: pytest.Item) -> int:
        group = worker_group(item.nodeid)
        if group in LONGEST_GROUPS:
            return LONGEST_GROUPS.index(group)
        return len(LONGEST_GROUPS) + (group not in slow)

    items.sort(key=rank)


def host(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the `host` command line as a user would, in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "nanokws.cli", *args], capture_output=True, text=True, timeout=HOST_TIMEOUT_S
    )


# The engines of fixtures that need many clips: all but Kokoro, the slowest.
FAST_ENGINES = "espeak-ng,flite,festival"
SMALL_SYNTH = SynthConfig(clips_per_keyword=6, unknown_clips=6, silence_clips=6, noise_seconds=4)


@pytest.fixture(scope="session")
def small_synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthResult]:
    out = tmp_path_factory.mktemp("synth")
    return out, synthesize(out, SMALL_SYNTH, RunConfig(), jobs=2)


@pytest.fixture(scope="session")
def small_entries(small_synth: tuple[Path, SynthResult]) -> list[Entry]:
    return small_synth[1].entries


def mfcc_like(n: int, seed: int = 42) -> np.ndarray:
    """Random features with MFCC's ranges ([n, 49, 10]; c0 large and negative): representative data."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 49, 10)).astype(np.float32) * 8
    x[..., 0] -= 40
    return x


def randomised(model: Any, seed: int = 42) -> Any:
    """Random but well-conditioned weights: a freshly built model gives almost constant logits, which
    quantize to a softmax input scale so small that TFLM refuses the model."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        name, shape = w.path, tuple(w.shape)
        if "moving_variance" in name or "gamma" in name:
            w.assign(rng.uniform(0.5, 1.5, shape).astype(np.float32))
        elif "moving_mean" in name or "beta" in name or "bias" in name:
            w.assign((rng.standard_normal(shape) * 0.1).astype(np.float32))
        else:
            fan_in = int(np.prod(shape[:-1])) or 1
            w.assign((rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32))
    return model


# Enough clips for the hardware-in-the-loop checks (at least 200): 20 of each class, without Kokoro (a third of
# a clip a second where the other engines make dozens: the firmware's agreement with the host does not depend
# on which engine spoke).
HIL_SYNTH = SynthConfig(
    engines=tuple(FAST_ENGINES.split(",")), clips_per_keyword=20, unknown_clips=20, silence_clips=20, noise_seconds=4
)
GENERATED = Path(__file__).resolve().parents[1] / "firmware" / "generated"


@pytest.fixture(scope="session")
def hil_synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthResult]:
    out = tmp_path_factory.mktemp("hil-synth")
    return out, synthesize(out, HIL_SYNTH, RunConfig(), jobs=2)


@pytest.fixture(scope="session")
def keyword_stream(small_synth: tuple[Path, SynthResult]) -> tuple[np.ndarray, list[StreamEvent]]:
    """60 s of noise with 20 keyword clips of the small synthetic data at known times (about every 3 s)."""
    root, result = small_synth
    keywords = [e for e in result.entries if not e.label.startswith("_")][:20]
    clips = np.stack([read_wav_int16(root / e.path)[0] for e in keywords])
    return make_stream(clips, [e.label for e in keywords], seconds=60, sample_rate=16000)


@pytest.fixture(scope="session")
def report_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A tiny run made as a user makes one, `host data synth` then `host train` (60 clips a class, the default
    Whisper teacher, 2 student epochs, no views): about a minute on 2 cores. Returns the run and what
    `host train` printed. Tests that change a run work on a copy (report_helpers.clone_run). Kokoro, the
    slowest engine by far (test_kokoro.py covers it), is left out: it would double the time."""
    run = tmp_path_factory.mktemp("report") / "run"
    r = host("data", "synth", "--run", str(run), "--clips-per-keyword", "60", "--engines", FAST_ENGINES)
    assert r.returncode == 0, r.stderr[-3000:]
    r = host("train", "--run", str(run), "--views", "0", "--epochs", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    return run, r.stdout
