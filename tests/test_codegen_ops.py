"""Each supported op compiles to C that equals TFLM bit for bit, alone and together: a model that uses every
op (CONV_2D with stride and dilation, DEPTHWISE_CONV_2D with a depth multiplier, ADD, SUB with a broadcast
input, MAX_POOL_2D, AVERAGE_POOL_2D with SAME padding, MEAN, RESHAPE, FULLY_CONNECTED per tensor and per
channel, SOFTMAX, fused ReLU and ReLU6), SOFTMAX over a range of input scales, MEAN over different axes, and
SUB broadcast along each axis or not at all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nanokws.codegen import CompiledModel, compile_model, export_model
from nanokws.codegen.host_build import build_model_executable, build_model_library, run_executable
from nanokws.codegen.verify import compare_ops
from nanokws.tflite.convert import full_int8
from nanokws.tflite.interpreters import TflmInterpreter

N_INPUTS = 1000
TRACED_INPUTS = 200


def _randomise(model: Any, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    for w in model.weights:
        shape = tuple(w.shape)
        if "bias" in w.path:
            w.assign((rng.standard_normal(shape) * 0.1).astype(np.float32))
        else:
            fan_in = int(np.prod(shape[:-1])) or 1
            w.assign((rng.standard_normal(shape) * np.sqrt(1.0 / fan_in)).astype(np.float32))
    return model


def _convert(model: Any, representative: np.ndarray, per_channel_dense: bool = False) -> bytes:
    return full_int8(model, representative, per_channel_dense=per_channel_dense)


def every_op_model(per_channel_dense: bool) -> bytes:
    import keras
    from keras import layers

    inp = keras.Input((49, 10, 1), batch_size=1)
    x = layers.Subtract()([inp, layers.AveragePooling2D((49, 1))(inp)])  # each coefficient less its mean
    x = layers.Conv2D(8, (3, 3), strides=(2, 1), padding="same", activation="relu")(x)
    x = layers.DepthwiseConv2D((3, 3), padding="same", depth_multiplier=2)(x)
    x = layers.ReLU(max_value=6.0)(x)
    y = layers.Conv2D(16, (1, 1))(x)
    x = layers.ReLU()(layers.Add()([x, y]))
    x = layers.MaxPooling2D((2, 2))(x)
    x = layers.Conv2D(16, (3, 3), padding="valid", dilation_rate=(2, 1))(x)
    x = layers.AveragePooling2D((3, 2), strides=(2, 2), padding="same")(x)
    pooled = layers.GlobalAveragePooling2D()(x)
    dense = layers.Dense(16, activation="relu")(layers.Flatten()(x))
    z = layers.Dense(12)(layers.Add()([dense, pooled]))
    model = _randomise(keras.Model(inp, layers.Softmax()(z)), seed=3)
    representative = np.random.default_rng(1).standard_normal((64, 49, 10, 1)) * 8
    return _convert(model, representative, per_channel_dense)


def softmax_model(spread: float) -> bytes:
    import keras
    from keras import layers

    inp = keras.Input((12,), batch_size=1)
    representative = np.random.default_rng(2).standard_normal((64, 12)) * spread
    return _convert(keras.Model(inp, layers.Softmax()(inp)), representative)


def mean_model(axis: tuple[int, ...], keepdims: bool, relu: bool) -> bytes:
    import keras
    from keras import layers

    inp = keras.Input((6, 5, 7), batch_size=1)
    # The convolution gives MEAN a scale and zero point of its own (-128 after a ReLU).
    x = layers.Conv2D(7, (1, 1), activation="relu" if relu else None)(inp)
    out = layers.Lambda(lambda t: keras.ops.mean(t, axis=axis, keepdims=keepdims))(x)
    model = _randomise(keras.Model(inp, out), seed=5)
    return _convert(model, np.random.default_rng(4).standard_normal((64, 6, 5, 7)) * 3)


def sub_model(pool: tuple[int, int] | None, channels: bool, relu: bool) -> bytes:
    """x - m: m the mean of x over `pool` (height, width; broadcast back), or over the channels (`channels`),
    or x's own 1x1 convolution (same shape)."""
    import keras
    from keras import layers

    inp = keras.Input((6, 5, 7), batch_size=1)
    x = layers.Conv2D(7, (1, 1))(inp)
    if pool is not None:
        m = layers.AveragePooling2D(pool)(x)
    elif channels:
        m = layers.Conv2D(1, (1, 1))(x)
    else:
        m = layers.Conv2D(7, (1, 1))(x)
    out = layers.Subtract()([x, m])
    model = _randomise(keras.Model(inp, layers.ReLU()(out) if relu else out), seed=6)
    return _convert(model, np.random.default_rng(7).standard_normal((64, 6, 5, 7)) * 3)


CASES: dict[str, Callable[[], bytes]] = {
    "every_op": lambda: every_op_model(per_channel_dense=False),
    "every_op_per_channel_dense": lambda: every_op_model(per_channel_dense=True),
    **{f"softmax_spread_{s:g}": (lambda s=s: softmax_model(s)) for s in (0.05, 1.0, 30.0, 2000.0)},
    "mean_hw_keepdims": lambda: mean_model((1, 2), True, relu=False),
    "mean_w_relu": lambda: mean_model((2,), False, relu=True),
    "mean_c": lambda: mean_model((3,), True, relu=False),
    "mean_hc_relu": lambda: mean_model((1, 3), False, relu=True),
    "sub_over_h": lambda: sub_model((6, 1), False, relu=False),
    "sub_over_hw_relu": lambda: sub_model((6, 5), False, relu=True),
    "sub_over_c": lambda: sub_model(None, True, relu=False),
    "sub_same_shape_relu": lambda: sub_model(None, False, relu=True),
}


@dataclass(frozen=True)
class Case:
    name: str
    model: bytes
    compiled: CompiledModel
    out: Path

    def inputs(self, n: int, seed: int) -> np.ndarray:
        shape = self.compiled.graph.tensor(self.compiled.graph.input).shape
        return np.random.default_rng(seed).integers(-128, 128, (n, *shape[1:])).astype(np.int8)


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Case:
    model = CASES[request.param]()
    out = tmp_path_factory.mktemp(request.param)
    export_model(model, out / "generated", f"{request.param}.tflite")
    return Case(request.param, model, compile_model(model), out)


def test_model_equals_tflm_on_1000_inputs(case: Case) -> None:
    library = build_model_library(case.out / "generated", case.out / "build")
    x = case.inputs(N_INPUTS, seed=99)
    ours, theirs = library.run(x), TflmInterpreter(case.model).run(x)
    assert int(np.count_nonzero((ours != theirs).any(axis=1))) == 0, case.name
    assert len(np.unique(theirs, axis=0)) > 1, "the outputs should vary with the input"


def test_every_op_output_equals_tflm(case: Case) -> None:
    traced = build_model_library(case.out / "generated", case.out / "build-trace", trace=True)
    diffs = compare_ops(case.compiled, case.model, traced, case.inputs(TRACED_INPUTS, seed=5))
    assert [d for d in diffs if d.differing] == []


def test_sanitized_build_agrees(case: Case) -> None:
    executable = build_model_executable(case.out / "generated", case.out / "build-asan")
    x = case.inputs(50, seed=8)
    outputs = case.compiled.graph.tensor(case.compiled.graph.output).elements
    np.testing.assert_array_equal(run_executable(executable, x, outputs), TflmInterpreter(case.model).run(x))


@pytest.mark.parametrize("per_channel_dense", [False, True])
def test_every_op_model_uses_every_supported_op(per_channel_dense: bool) -> None:
    from nanokws.codegen.lowering import SUPPORTED_OPS

    compiled = compile_model(every_op_model(per_channel_dense))
    ops = {s.op for s in compiled.steps}
    assert ops == set(SUPPORTED_OPS)
    fc = [s for s in compiled.steps if s.op == "FULLY_CONNECTED"]
    assert [s.params["per_channel"] for s in fc] == [int(per_channel_dense)] * 2
    dw = next(s for s in compiled.steps if s.op == "DEPTHWISE_CONV_2D")
    assert dw.params["depth_multiplier"] == 2
    assert any(s.params.get("dilation") == (2, 1) for s in compiled.steps)
    activations = {s.summary.rsplit(", ", 1)[-1] for s in compiled.steps if s.summary.endswith(("RELU", "RELU6"))}
    assert activations == {"RELU", "RELU6"}
