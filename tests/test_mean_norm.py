"""Cepstral mean normalisation in the student (`<model>_cmn`): the logits do not see a per-coefficient offset
that lasts the whole clip, the int8 model does it with ops both reference interpreters run alike, and the
name is parsed strictly."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import mfcc_like, randomised
from nanokws.codegen.graph import OP_NAMES
from nanokws.config import RunConfig
from nanokws.errors import ConfigError
from nanokws.student.models import build, spec_for
from nanokws.tflite.convert import to_int8_tflite
from nanokws.tflite.interpreters import LiteRtInterpreter, TflmInterpreter
from nanokws.tflite.metadata import model_info


def _offset(x: np.ndarray) -> np.ndarray:
    """Each coefficient moved by its own constant for the whole clip: a fixed spectral tilt."""
    return x + np.linspace(-20, 20, x.shape[-1], dtype=np.float32)


def test_a_fixed_spectral_tilt_does_not_reach_the_logits() -> None:
    x = mfcc_like(8)[..., None]
    normalised, plain = randomised(build("ds_cnn_s_cmn", 49, 10, 12)), randomised(build("ds_cnn_s", 49, 10, 12))
    moved = np.abs(normalised(_offset(x)).numpy() - normalised(x).numpy()).max()
    assert moved < 1e-4  # float rounding only
    assert np.abs(plain(_offset(x)).numpy() - plain(x).numpy()).max() > 100 * max(moved, 1e-5)  # without it: moves
    # the same weights as the model without it: the normalisation has none
    assert [w.shape for w in normalised.get_weights()] == [w.shape for w in plain.get_weights()]


def test_int8_model_pools_then_subtracts_and_both_interpreters_agree() -> None:
    model = to_int8_tflite(randomised(build("ds_cnn_s_cmn", 49, 10, 12)), mfcc_like(64), {"run": RunConfig().to_dict()})
    import tensorflow as tf

    ops = [OP_NAMES[op["op_name"]] if isinstance(op["op_name"], int) else op["op_name"]
           for op in tf.lite.Interpreter(model_content=model)._get_ops_details()]  # fmt: skip
    assert ops[:3] == ["AVERAGE_POOL_2D", "SUB", "CONV_2D"] and "MEAN" not in ops
    assert model_info(model).labels  # the metadata is there as for any student
    x = np.random.default_rng(42).integers(-128, 128, size=(200, 49, 10, 1), dtype=np.int8)
    np.testing.assert_array_equal(TflmInterpreter(model).run(x), LiteRtInterpreter(model).run(x))


@pytest.mark.parametrize("name", ["ds_cnn_s_cmn", "ds_cnn_80x4_cmn", "mlperf_ds_cnn_cmn"])
def test_any_student_takes_the_suffix(name: str) -> None:
    spec = spec_for(name)
    assert spec.mean_norm and spec.channels == spec_for(name.removesuffix("_cmn")).channels


@pytest.mark.parametrize("name", ["_cmn", "ds_cnn_s_cmn_cmn", "ds_cnn_x_cmn", "ds_cnn_s_cm"])
def test_malformed_names_are_refused_with_the_choices(name: str) -> None:
    with pytest.raises(ConfigError) as e:
        spec_for(name)
    assert "_cmn" in str(e.value.hint)
