"""Every student of the DS-CNN family converts to a full-int8 `.tflite` on which TFLM and LiteRT's reference
kernels agree bit for bit; the file carries its front end and labels; bad model files give clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import MLPERF_MODEL, mfcc_like, randomised
from nanokws.config import RunConfig
from nanokws.student.models import FAMILY, build
from nanokws.tflite.convert import to_int8_tflite
from nanokws.tflite.interpreters import LiteRtInterpreter, TflmInterpreter
from nanokws.tflite.metadata import ModelFileError, model_info, parse, quantize_input, read_metadata


def _ops(model: bytes) -> list[str]:
    from tensorflow.lite.python import schema_py_generated as schema

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    m = parse(model)
    return [names[m.operatorCodes[op.opcodeIndex].builtinCode] for op in m.subgraphs[0].operators]


@pytest.fixture(scope="module", params=sorted(FAMILY))
def converted(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    model = randomised(build(request.param, 49, 10, 12))
    return request.param, to_int8_tflite(model, mfcc_like(64), {"run": RunConfig().to_dict()})


def test_student_converts_to_int8_with_supported_ops_only(converted) -> None:
    _, model = converted
    ops = set(_ops(model))
    assert ops <= {"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "RESHAPE", "SOFTMAX"}, ops
    assert "FULLY_CONNECTED" not in ops and "MEAN" not in ops
    info = model_info(model)
    assert info.input_shape == (1, 49, 10, 1) and info.output_shape == (1, 12)
    assert (info.output_scale, info.output_zero_point) == (1 / 256, -128)


def test_tflm_and_litert_agree_bit_for_bit_on_random_inputs(converted) -> None:
    _, model = converted
    info = model_info(model)
    q = quantize_input(mfcc_like(300, seed=7), info)
    rng = np.random.default_rng(3)
    q = np.concatenate([q, rng.integers(-128, 128, (100, 49, 10)).astype(np.int8)])
    np.testing.assert_array_equal(TflmInterpreter(model).run(q), LiteRtInterpreter(model).run(q))


def test_model_carries_its_front_end_and_labels(converted) -> None:
    _, model = converted
    meta = read_metadata(model)
    assert meta is not None and RunConfig.from_dict(meta["run"]) == RunConfig()
    assert model_info(model).labels == RunConfig().labels


def test_a_model_made_elsewhere_reads_with_defaults_and_runs_bit_exact() -> None:
    model = MLPERF_MODEL.read_bytes()
    info = model_info(model)
    assert not info.has_metadata
    assert info.input_zero_point == 83 and abs(info.input_scale - 0.5847029) < 1e-6
    q = np.random.default_rng(42).integers(-128, 128, (50, 49, 10)).astype(np.int8)
    np.testing.assert_array_equal(TflmInterpreter(model).run(q), LiteRtInterpreter(model).run(q))


def test_input_quantization_rounds_half_away_from_zero_and_saturates() -> None:
    info = model_info(MLPERF_MODEL.read_bytes())
    s, z = info.input_scale, info.input_zero_point
    x = np.array([0.5 * s, -0.5 * s, 1.5 * s, -1.5 * s, 1e6, -1e6], dtype=np.float32)
    np.testing.assert_array_equal(quantize_input(x, info), [z + 1, z - 1, z + 2, z - 2, 127, -128])


@pytest.mark.parametrize("kind", ["truncated", "not a flatbuffer", "empty", "float"])
def test_bad_model_files_give_clear_errors(kind: str) -> None:
    good = MLPERF_MODEL.read_bytes()
    if kind == "float":
        import keras
        import tensorflow as tf

        m = build("ds_cnn_s", 49, 10, 12, batch_size=1)
        data = tf.lite.TFLiteConverter.from_keras_model(keras.Model(m.input, m.output)).convert()
    else:
        data = {"truncated": good[: len(good) // 3], "not a flatbuffer": b"hello world" * 10, "empty": b""}[kind]
    with pytest.raises(ModelFileError) as e:
        model_info(data, "model.tflite")
    assert "model.tflite" in e.value.message
