"""MixStyle in the student: per-sample, per-channel statistics of the first feature maps mixed between samples
while training, the identity at inference, absent from the exported model, and out of the student's key while
off."""

from __future__ import annotations

import keras
import numpy as np

from nanokws.progress import NullReporter
from nanokws.student.config import StudentConfig, settings
from nanokws.student.models import MixStyle, build
from nanokws.student.train import train_student
from student_helpers import easy_student_data


def _maps(seed: int) -> np.ndarray:
    """Four feature maps [4, 25, 5, 3] with very different statistics per sample and channel."""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.2, 5.0, size=(4, 1, 1, 3))
    offset = rng.uniform(-3.0, 3.0, size=(4, 1, 1, 3))
    return (rng.standard_normal((4, 25, 5, 3)) * scale + offset).astype(np.float32)


def test_training_mixes_each_samples_channel_statistics_with_another_samples() -> None:
    x = _maps(0)
    out = MixStyle(1.0, alpha=0.1, seed=3)(x, training=True).numpy()
    mu, sigma = x.mean(axis=(1, 2)), x.std(axis=(1, 2))
    mu_out, sigma_out = out.mean(axis=(1, 2)), out.std(axis=(1, 2))
    assert not np.allclose(mu_out, mu, atol=1e-3)  # the statistics moved
    for i in range(4):  # each sample's are lam * its own + (1 - lam) * one other sample's, one lam for all

        def lam(j: int, i: int = i) -> np.ndarray:  # per channel, from the means and from the spreads
            return np.concatenate(
                [(mu_out[i] - mu[j]) / (mu[i] - mu[j]), (sigma_out[i] - sigma[j]) / (sigma[i] - sigma[j])]
            )

        own = np.allclose(mu_out[i], mu[i], atol=1e-4) and np.allclose(sigma_out[i], sigma[i], rtol=1e-3)
        others = [j for j in range(4) if j != i]
        assert own or any(np.ptp(lam(j)) < 1e-3 and -1e-4 <= lam(j)[0] <= 1 + 1e-4 for j in others), i
    # the pattern within each map is kept: normalised, the maps are the same
    z = (x - mu[:, None, None]) / sigma[:, None, None]
    z_out = (out - mu_out[:, None, None]) / sigma_out[:, None, None]
    np.testing.assert_allclose(z_out, z, atol=2e-3)


def test_inference_and_unpicked_batches_pass_unchanged() -> None:
    x = _maps(1)
    np.testing.assert_array_equal(MixStyle(1.0, seed=3)(x, training=False).numpy(), x)
    np.testing.assert_array_equal(MixStyle(0.0, seed=3)(x, training=True).numpy(), x)


def test_the_training_twin_has_the_weights_of_the_model_without_mixstyle() -> None:
    keras.utils.set_random_seed(42)
    twin = build("ds_cnn_s", 49, 10, 12, mixstyle=0.5, seed=42)
    plain = build("ds_cnn_s", 49, 10, 12)
    assert sum(isinstance(layer, MixStyle) for layer in twin.layers) == 2
    assert not any(isinstance(layer, MixStyle) for layer in plain.layers)
    assert [w.shape for w in twin.get_weights()] == [w.shape for w in plain.get_weights()]
    plain.set_weights(twin.get_weights())
    x = np.random.default_rng(2).standard_normal((3, 49, 10, 1)).astype(np.float32)
    np.testing.assert_array_equal(twin(x, training=False).numpy(), plain(x, training=False).numpy())


def test_mixstyle_is_left_out_of_the_students_key_while_off() -> None:
    assert "mixstyle_probability" not in settings(StudentConfig())
    on = settings(StudentConfig(mixstyle_probability=0.5))
    assert on["mixstyle_probability"] == 0.5 and on["mixstyle_alpha"] == 0.1


def test_a_student_trained_with_mixstyle_learns_and_is_saved_without_it(tmp_path) -> None:
    n, classes = 384, 12
    data = easy_student_data(n, classes)
    cfg = StudentConfig(epochs=8, patience=10, batch_size=32, hint_weight=0.0, mixstyle_probability=0.5)
    out = train_student(data, classes, cfg, tmp_path / "ckpt", seed=42, resume=False, reporter=NullReporter())
    assert out.best_val_accuracy > 0.5
    saved = keras.models.load_model(out.model_path, compile=False)
    assert not any(isinstance(layer, MixStyle) for layer in saved.layers)
    # the checkpoint of the training twin (with its MixStyle layers) reads back, so training can resume
    resumed = train_student(data, classes, cfg, tmp_path / "ckpt", seed=42, resume=True, reporter=NullReporter())
    assert resumed.resumed_from == out.history[-1]["epoch"]
