"""TensorFlow's thread pools are fixed before it starts, and never silently left as the machine sized them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nanokws.errors import ConfigError
from nanokws.student.models import build, spec_for
from nanokws.threads import pin_tensorflow_threads, pinned_threads


def test_pinning_sets_both_pools_and_is_read_back() -> None:
    env: dict[str, str] = {}
    env.update(TF_NUM_INTRAOP_THREADS="3", TF_NUM_INTEROP_THREADS="3")  # what TensorFlow was started with
    pin_tensorflow_threads(3, env)  # the same size: allowed whether or not TensorFlow has started
    assert env == {"TF_NUM_INTRAOP_THREADS": "3", "TF_NUM_INTEROP_THREADS": "3"}
    assert pinned_threads(env) == 3
    assert pinned_threads({"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "2"}) is None
    assert pinned_threads({}) is None


def test_zero_threads_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        pin_tensorflow_threads(0, {})


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_tensorflow_starts_the_pinned_threads_and_cannot_be_repinned_once_started() -> None:
    """In a fresh process: pinned to 3 (not this machine's default), TensorFlow starts 3 inter-op threads (it
    names them `tf_Compute`); pinning to another count afterwards is an error, not a silent no-op."""
    r = _run(
        "import os\n"
        "from nanokws.threads import pin_tensorflow_threads\n"
        "pin_tensorflow_threads(3)\n"
        "import tensorflow as tf\n"
        "x = tf.random.uniform((256, 256)); (x @ x).numpy()\n"
        "names = [open(f'/proc/self/task/{t}/comm').read().strip() for t in os.listdir('/proc/self/task')]\n"
        "print(names.count('tf_Compute'))\n"
        "pin_tensorflow_threads(3)  # the same count: fine\n"
        "try:\n    pin_tensorflow_threads(2)\n"
        "except Exception as e:\n    print(type(e).__name__, e)\n"
    )
    assert r.returncode == 0, r.stderr
    count, refusal = r.stdout.strip().split("\n", 1)
    assert int(count) == 3
    assert refusal.startswith("ConfigError") and "already started" in refusal


def test_a_custom_width_and_depth_builds_that_ds_cnn() -> None:
    spec = spec_for("ds_cnn_80x5")
    assert (spec.channels, spec.blocks) == (80, 5)
    assert spec_for("ds_cnn_64x4").channels == spec_for("ds_cnn_s").channels
    model = build("ds_cnn_80x5", 49, 10, 12)
    assert model.output_shape == (None, 12)
    assert sum("depthwise" in layer.name for layer in model.layers) == 5
    for bad in ("ds_cnn_80", "ds_cnn_4x4", "ds_cnn_80x9", "ds_cnn_s2"):
        with pytest.raises(ConfigError, match="unknown student model"):
            spec_for(bad)
