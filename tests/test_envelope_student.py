"""Students on the cepstral envelope (`ds_cnn_s_env20`): a fixed first layer turns each frame's coefficients
back into the smooth log-mel envelope they describe, so that the convolutions slide along frequency; it is
the inverse DCT of the front end, it is not trained, and a voice whose envelope sits higher gives the same
features higher up."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from nanokws.config import FrontendConfig
from nanokws.errors import ConfigError
from nanokws.frontend import dct_matrix
from nanokws.progress import NullReporter
from nanokws.student.config import StudentConfig
from nanokws.student.models import build, envelope_matrix, spec_for
from nanokws.student.train import train_student
from student_helpers import easy_student_data


def _envelope_output(model: keras.Model) -> keras.Model:
    layer = model.get_layer("envelope")
    return keras.Model(model.input, layer.output)


def test_the_envelope_is_the_front_ends_inverse_dct_read_at_the_band_centres() -> None:
    cfg = FrontendConfig()
    cepstra = np.random.default_rng(0).standard_normal((5, cfg.n_mfcc))
    # at one point per mel band the envelope is the inverse of the front end's DCT, up to its overall scale
    at_bands = cepstra @ envelope_matrix(cfg.n_mfcc, cfg.n_mels) * np.sqrt(2.0 / cfg.n_mels)
    np.testing.assert_allclose(at_bands, cepstra @ dct_matrix(cfg), atol=1e-5)
    # a spectrum smooth enough for ten coefficients comes back from them at any number of points
    bands = np.arange(cfg.n_mels)
    smooth = 3.0 + np.cos(np.pi * 2 * (2 * bands + 1) / (2 * cfg.n_mels))  # within the first ten cosines
    coefficients = smooth @ dct_matrix(cfg).T
    back = coefficients @ envelope_matrix(cfg.n_mfcc, cfg.n_mels) * np.sqrt(2.0 / cfg.n_mels)
    np.testing.assert_allclose(back, smooth, atol=1e-5)


def test_the_model_reads_the_envelope_of_each_frame_and_does_not_train_it(tmp_path) -> None:
    model = build("ds_cnn_s_env20", 49, 10, 12)
    x = np.random.default_rng(1).standard_normal((2, 49, 10, 1)).astype(np.float32)
    env = _envelope_output(model)(x).numpy()
    assert env.shape == (2, 49, 1, 20)
    np.testing.assert_allclose(env[:, :, 0, :], x[..., 0] @ envelope_matrix(10, 20), atol=1e-5)
    assert not model.get_layer("envelope").trainable
    # trained, the student learns and keeps its envelope as it was
    data = easy_student_data(384, 12)
    cfg = StudentConfig(model="ds_cnn_s_env20", epochs=8, patience=10, batch_size=32, hint_weight=0.0)
    out = train_student(data, 12, cfg, tmp_path / "ckpt", seed=42, resume=False, reporter=NullReporter())
    assert out.best_val_accuracy > 0.5
    saved = keras.models.load_model(out.model_path, compile=False)
    np.testing.assert_array_equal(saved.get_layer("envelope").get_weights()[0][0, 0], envelope_matrix(10, 20))


def test_any_student_runs_on_the_envelope_and_bad_sizes_are_refused() -> None:
    assert spec_for("ds_cnn_s_env20").envelope == 20
    assert spec_for("ds_cnn_48x4_env40").channels == 48
    assert spec_for("ds_cnn_s").envelope == 0
    for bad in ("ds_cnn_s_env2", "ds_cnn_s_env200", "ds_cnn_x_env20", "ds_cnn_s_env20_env20"):
        with pytest.raises(ConfigError, match="unknown student model"):
            spec_for(bad)
