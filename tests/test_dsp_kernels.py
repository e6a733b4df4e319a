"""The Cortex-M4 DSP kernels (firmware/lib/kws/*dsp*) compute what TFLM computes, bit for bit, on layer
shapes chosen to reach every path: odd channel and pixel counts, one input channel, strides, dilation,
VALID padding, filters other than 3x3, fused ReLU6 (the clamp), a matrix deep enough for the 2 KB row
alignment, per-channel FULLY_CONNECTED and the average pool. On the host their C models of SMLAD, SXTB16,
SMMLAR and SSAT run under AddressSanitizer and UBSan; in the emulator the real instructions run. A second
model takes the 3x3 depthwise assembly through odd and even heights, a remainder of channels beyond the
groups of four, one-column maps and no padding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import mfcc_like, randomised
from nanokws.bench import device
from nanokws.codegen import compile_model, export_model
from nanokws.codegen.host_build import build_model_executable, build_model_library, run_executable
from nanokws.tflite.interpreters import TflmInterpreter


def classifier_int8(inputs: Any, x: Any) -> bytes:
    """The test models' common end (a whole-map average pool, the 12 classes, softmax), with random weights
    (seed 42), quantized to full int8."""
    import keras
    from keras import layers

    from nanokws.tflite.convert import full_int8

    x = layers.AveragePooling2D(pool_size=(int(x.shape[1]), int(x.shape[2])))(x)
    x = layers.Flatten()(x)
    x = layers.Dense(12)(x)
    model = keras.Model(inputs, layers.Softmax()(x))
    randomised(model)
    return full_int8(model, (s[..., None] for s in mfcc_like(64)))


def awkward_model() -> bytes:
    import keras
    from keras import layers

    keras.utils.set_random_seed(42)
    inputs = keras.Input(shape=(49, 10, 1), batch_size=1)
    x = layers.Conv2D(5, (3, 2), strides=(2, 1), padding="same", activation="relu6")(inputs)
    x = layers.DepthwiseConv2D((5, 3), padding="same")(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(7, (1, 1))(x)
    x = layers.DepthwiseConv2D((3, 3), padding="valid", activation="relu6")(x)
    x = layers.Conv2D(12, (3, 3), dilation_rate=(2, 1), padding="same", activation="relu")(x)
    x = layers.Conv2D(200, (1, 1), activation="relu")(x)
    x = layers.Conv2D(8, (1, 1), activation="relu")(x)
    return classifier_int8(inputs, x)


def depthwise_heights_model() -> bytes:
    import keras
    from keras import layers

    keras.utils.set_random_seed(43)
    inputs = keras.Input(shape=(49, 10, 1), batch_size=1)
    x = layers.Conv2D(8, (3, 3), strides=(2, 3), padding="same", activation="relu")(inputs)  # 25 x 4
    x = layers.DepthwiseConv2D((3, 3), padding="same")(x)  # odd height
    x = layers.Conv2D(9, (2, 1), activation="relu")(x)  # 24 x 4 x 9
    x = layers.DepthwiseConv2D((3, 3), padding="same")(x)  # even height, one channel past two groups
    x = layers.DepthwiseConv2D((3, 3), padding="valid")(x)  # 22 x 2, no padding
    x = layers.Conv2D(4, (1, 2), activation="relu")(x)  # 22 x 1
    x = layers.DepthwiseConv2D((3, 3), padding="same")(x)  # one column
    return classifier_int8(inputs, x)


MODELS = {"awkward": awkward_model, "depthwise_heights": depthwise_heights_model}


@pytest.fixture(scope="module", params=sorted(MODELS))
def exported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Path]:
    model = MODELS[request.param]()
    out = tmp_path_factory.mktemp(request.param)
    export_model(model, out, f"{request.param}.tflite")
    return model, out


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Path]:
    model = awkward_model()
    out = tmp_path_factory.mktemp("awkward")
    export_model(model, out, "awkward.tflite")
    return model, out


def random_inputs(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, (n, 49, 10, 1)).astype(np.int8)


def test_every_weighted_layer_and_the_pool_take_the_dsp_kernels(awkward: tuple[bytes, Path]) -> None:
    model, out = awkward
    compiled = compile_model(model)
    weighted = [s for s in compiled.steps if s.kind in ("conv", "depthwise_conv", "fully_connected")]
    assert sorted(compiled.dsp_layers) == sorted(s.index for s in weighted)
    assert {d.params.get("rows_align") for d in compiled.dsp_layers.values() if d.kind == "conv"} == {2048}
    assert "kws_dsp_avg_pool_s8" in (out / "kws_model.c").read_text()


def test_dsp_kernels_equal_tflm_on_the_host(exported: tuple[bytes, Path], tmp_path: Path) -> None:
    model, out = exported
    x = random_inputs(300, seed=3)
    expected = TflmInterpreter(model).run(x)
    np.testing.assert_array_equal(build_model_library(out, tmp_path, dsp=True).run(x), expected)
    np.testing.assert_array_equal(build_model_library(out, tmp_path).run(x), expected)


def test_dsp_kernels_run_clean_under_the_sanitizers(exported: tuple[bytes, Path], tmp_path: Path) -> None:
    model, out = exported
    x = random_inputs(8, seed=4)
    executable = build_model_executable(out, tmp_path, sanitize=True, dsp=True)
    np.testing.assert_array_equal(run_executable(executable, x, 12), TflmInterpreter(model).run(x))


def bench_image_input(shape: tuple[int, ...], hops: int = 50, hop_samples: int = 320) -> np.ndarray:
    """The int8 input firmware/bench/bench_main.c gives the model: its LCG after the front end's noise."""
    state = 42

    def step() -> int:
        nonlocal state
        state = (state * 1664525 + 1013904223) % 2**32
        return state

    for _ in range(hops * hop_samples):
        step()
    values = [((step() >> 24) ^ 0x80) - 0x80 for _ in range(int(np.prod(shape)))]
    return np.array(values, dtype=np.int8).reshape(1, *shape[1:])


@pytest.mark.parametrize("which", [*sorted(MODELS), "default"])
def test_dsp_kernels_equal_tflm_in_the_emulator(which: str, tmp_path: Path) -> None:
    """The bench image runs the model once with each kernel set on the real instructions; both outputs
    equal TFLM's on the same input."""
    from nanokws.hil.firmware import GENERATED

    model = MODELS[which]() if which in MODELS else (GENERATED / "model_int8.tflite").read_bytes()
    result = device.bench_model(which, model, tmp_path)
    expected = TflmInterpreter(model).run(bench_image_input((1, 49, 10, 1)))[0]
    for kernels, run in result.runs.items():
        assert list(run.output) == expected.tolist(), kernels
    assert result.runs["dsp"].instructions < result.runs["portable"].instructions / 5
