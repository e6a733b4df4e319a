"""Mixup of the student's training samples: inputs and every target blended by the same weights, the
teacher's answers blended as probabilities; off by default and out of the student's key while off."""

from __future__ import annotations

import numpy as np

from nanokws.progress import NullReporter
from nanokws.student.augment import Mixup, draw_mixup
from nanokws.student.config import StudentConfig, settings
from nanokws.student.train import train_student
from student_helpers import easy_student_data


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_draw_mixes_about_the_share_asked_and_keeps_each_sample_the_larger_part() -> None:
    mix = draw_mixup(10_000, 0.3, 0.4, np.random.default_rng(0))
    mixed = mix.weight < 1.0
    assert 0.27 < mixed.mean() < 0.33
    assert np.all(mix.weight >= 0.5) and np.all(mix.weight <= 1.0)
    np.testing.assert_array_equal(mix.partner[~mixed], np.flatnonzero(~mixed))
    again = draw_mixup(10_000, 0.3, 0.4, np.random.default_rng(0))
    np.testing.assert_array_equal(again.partner, mix.partner)
    np.testing.assert_array_equal(again.weight, mix.weight)
    none = draw_mixup(100, 0.0, 0.4, np.random.default_rng(0))
    assert np.all(none.weight == 1.0) and np.all(none.partner == np.arange(100))


def test_features_and_hard_labels_blend_linearly() -> None:
    mix = Mixup(partner=np.array([1, 0, 2]), weight=np.array([0.75, 0.6, 1.0]))
    x = np.stack([np.full((4, 2), 1.0), np.full((4, 2), 5.0), np.full((4, 2), -2.0)]).astype(np.float32)
    out = mix.features(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(out[:, 0, 0], [0.75 * 1 + 0.25 * 5, 0.6 * 5 + 0.4 * 1, -2.0])
    onehot = np.eye(3, dtype=np.float32)[[0, 1, 2]]
    np.testing.assert_allclose(mix.features(onehot)[0], [0.75, 0.25, 0.0])


def test_teacher_answers_blend_as_probabilities_at_the_temperature() -> None:
    rng = np.random.default_rng(1)
    logits = (rng.standard_normal((5, 12)) * 4).astype(np.float32)
    mix = draw_mixup(5, 1.0, 0.4, rng)
    t = 2.0
    blended = mix.teacher_logits(logits, t)
    p = _softmax(logits.astype(np.float64) / t)
    w = mix.weight[:, None]
    expected = w * p + (1 - w) * p[mix.partner]
    np.testing.assert_allclose(_softmax(blended.astype(np.float64) / t), expected, rtol=1e-5, atol=1e-7)
    # a sample blended with itself keeps the teacher's answer
    same = Mixup(partner=np.arange(5), weight=np.full(5, 0.7))
    np.testing.assert_allclose(_softmax(same.teacher_logits(logits, t) / t), p, rtol=1e-5, atol=1e-7)


def test_mixup_is_left_out_of_the_students_key_while_off() -> None:
    assert "mixup_probability" not in settings(StudentConfig())
    on = settings(StudentConfig(mixup_probability=0.5))
    assert on["mixup_probability"] == 0.5 and on["mixup_alpha"] == 0.4


def test_a_student_trains_on_blended_samples_every_epoch_and_still_learns(tmp_path, monkeypatch) -> None:
    import nanokws.student.train as train_module

    draws: list[Mixup] = []

    def spy(n: int, probability: float, alpha: float, rng: np.random.Generator) -> Mixup:
        draws.append(draw_mixup(n, probability, alpha, rng))
        return draws[-1]

    monkeypatch.setattr(train_module, "draw_mixup", spy)
    n, classes = 384, 12
    data = easy_student_data(n, classes)
    cfg = StudentConfig(epochs=8, patience=10, batch_size=32, hint_weight=0.0, mixup_probability=1.0)
    out = train_student(data, classes, cfg, tmp_path / "ckpt", seed=42, resume=False, reporter=NullReporter())
    assert len(draws) == len(out.history) == 8  # one draw of partners and weights an epoch
    assert all(len(d.weight) == n and np.all(d.weight < 1.0) for d in draws)  # every sample blended
    assert out.best_val_accuracy > 0.5  # and the (easy) task is still learned
