"""Models the C exporter cannot compile fail at export with a clear error that names the problem and what to
change (an unsupported op with its index, an unfused activation, a broadcasting ADD, a SUB whose first
input broadcasts, a float model, a dynamic batch), unreadable files with ModelFileError, and nothing is
written for any of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tensorflow.lite.python import schema_py_generated as schema

from conftest import MLPERF_MODEL
from nanokws.codegen import DynamicShapeError, NotInt8Error, UnsupportedOpError, export_model
from nanokws.errors import NanokwsError
from nanokws.tflite.convert import full_int8
from nanokws.tflite.metadata import ModelFileError, parse


def _int8(model: Any, shape: tuple[int, ...]) -> bytes:
    rng = np.random.default_rng(0)
    return full_int8(model, [rng.standard_normal(shape).astype(np.float32) for _ in range(16)])


def _sigmoid_model() -> bytes:
    import keras
    from keras import layers

    inp = keras.Input((8, 8, 1), batch_size=1)
    return _int8(keras.Model(inp, layers.Conv2D(4, (3, 3), activation="sigmoid")(inp)), (8, 8, 1))


def _unfused_relu_model() -> bytes:
    import keras
    from keras import layers

    inp = keras.Input((8, 8, 1), batch_size=1)
    return _int8(keras.Model(inp, layers.Conv2D(4, (3, 3))(layers.ReLU()(inp))), (8, 8, 1))


def _broadcast_add_model() -> bytes:
    import keras
    from keras import layers

    inp = keras.Input((8, 8, 4), batch_size=1)
    pooled = layers.AveragePooling2D((8, 8))(inp)
    return _int8(keras.Model(inp, layers.Add()([inp, pooled])), (8, 8, 4))


def _broadcast_first_sub_model() -> bytes:
    import keras
    from keras import layers

    inp = keras.Input((8, 8, 4), batch_size=1)
    pooled = layers.AveragePooling2D((8, 8))(inp)
    return _int8(keras.Model(inp, layers.Subtract()([pooled, inp])), (8, 8, 4))


def _float_model() -> bytes:
    import keras
    import tensorflow as tf

    from nanokws.student.models import build

    m = build("ds_cnn_s", 49, 10, 12, batch_size=1)
    return tf.lite.TFLiteConverter.from_keras_model(keras.Model(m.input, m.output)).convert()


def _dynamic_batch_model() -> bytes:
    from nanokws.student.models import build

    return _int8(build("ds_cnn_s", 49, 10, 12), (49, 10, 1))  # batch_size None


def _out_of_range_index() -> bytes:
    import flatbuffers

    m = parse(MLPERF_MODEL.read_bytes())
    op = m.subgraphs[0].operators[3]
    op.inputs = np.array([9999, *op.inputs[1:]], dtype=np.int32)
    builder = flatbuffers.Builder(1 << 16)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _export_fails(model: bytes, tmp_path: Path, kind: type[NanokwsError]) -> NanokwsError:
    out = tmp_path / "generated"
    with pytest.raises(kind) as e:
        export_model(model, out, "bad.tflite")
    assert not out.exists(), "a failed export must write nothing"
    assert "bad.tflite" in e.value.message
    return e.value


def test_unsupported_op_is_named_with_its_index_and_what_to_change(tmp_path: Path) -> None:
    error = _export_fails(_sigmoid_model(), tmp_path, UnsupportedOpError)
    assert "op 1 (LOGISTIC)" in error.what and "not supported" in error.what
    assert error.hint and "Conv2D" in error.hint and "Softmax" in error.hint


def test_unfused_activation_asks_for_a_fusable_place(tmp_path: Path) -> None:
    error = _export_fails(_unfused_relu_model(), tmp_path, UnsupportedOpError)
    assert "op 0 (RELU)" in error.what
    assert error.hint and "fuses" in error.hint


def test_broadcasting_add_is_refused(tmp_path: Path) -> None:
    error = _export_fails(_broadcast_add_model(), tmp_path, UnsupportedOpError)
    assert "(ADD)" in error.what and "broadcasts" in error.what


def test_sub_whose_first_input_broadcasts_is_refused(tmp_path: Path) -> None:
    error = _export_fails(_broadcast_first_sub_model(), tmp_path, UnsupportedOpError)
    assert "(SUB)" in error.what and "[1, 1, 1, 4] - [1, 8, 8, 4]" in error.what
    assert error.hint and "smaller tensor from the larger" in error.hint


def test_float_model_asks_for_full_integer_quantization(tmp_path: Path) -> None:
    error = _export_fails(_float_model(), tmp_path, NotInt8Error)
    assert "FLOAT32" in error.what and "float model" in error.what
    assert error.hint and "tf.int8" in error.hint


def test_dynamic_batch_asks_for_a_static_shape(tmp_path: Path) -> None:
    error = _export_fails(_dynamic_batch_model(), tmp_path, DynamicShapeError)
    assert "dynamic" in error.what
    assert error.hint and "batch_size=1" in error.hint


@pytest.mark.parametrize("kind", ["truncated", "garbage", "empty", "not a flatbuffer", "index out of range"])
def test_unreadable_files_give_model_file_errors(kind: str, tmp_path: Path) -> None:
    good = MLPERF_MODEL.read_bytes()
    data = {
        "truncated": lambda: good[: len(good) // 2],
        "garbage": lambda: good[:8] + bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8)),
        "empty": lambda: b"",
        "not a flatbuffer": lambda: b"hello world" * 10,
        "index out of range": _out_of_range_index,
    }[kind]()
    error = _export_fails(data, tmp_path, ModelFileError)
    assert "tflite" in error.what.lower() or "flatbuffer" in error.what.lower()


def test_schema_names_match_the_ops_the_exporter_supports() -> None:
    from nanokws.codegen.lowering import SUPPORTED_OPS

    names = {k for k in vars(schema.BuiltinOperator) if not k.startswith("_")}
    assert set(SUPPORTED_OPS) <= names
