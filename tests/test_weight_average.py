"""Weight averaging in the student: the moving average follows its formula, is swapped in only where asked,
is what the saved student holds, resumes from its checkpoint, and stays out of the student's key while off."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from nanokws.progress import NullReporter
from nanokws.student.averaging import WeightAverage
from nanokws.student.config import StudentConfig, settings
from nanokws.student.train import train_student
from student_helpers import easy_student_data


def _dense() -> keras.Model:
    keras.utils.set_random_seed(0)
    inp = keras.Input((3,))
    return keras.Model(inp, keras.layers.Dense(2)(inp))


def test_the_average_follows_the_warmed_up_moving_average() -> None:
    model = _dense()
    start = [w.copy() for w in model.get_weights()]
    average = WeightAverage(model, decay=0.9)
    expected = [w.astype(np.float64) for w in start]
    rng = np.random.default_rng(1)
    for n in range(30):
        model.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in start])
        average.update()
        d = min(0.9, (1 + n) / (10 + n))
        expected = [d * e + (1 - d) * w for e, w in zip(expected, model.get_weights(), strict=True)]
    assert average.steps == 30
    for s, e in zip(average.shadow, expected, strict=True):
        np.testing.assert_allclose(s, e, rtol=1e-12)


def test_the_average_is_swapped_in_only_inside_the_block() -> None:
    model = _dense()
    average = WeightAverage(model, decay=0.5)
    own = [w + 1.0 for w in model.get_weights()]
    model.set_weights(own)
    average.update()  # first step: d = 1/10, so the average moved most of the way to `own`
    with average.applied():
        inside = model.get_weights()
    for w, s in zip(inside, average.shadow, strict=True):
        np.testing.assert_allclose(w, s.astype(np.float32))
    for w, o in zip(model.get_weights(), own, strict=True):
        np.testing.assert_array_equal(w, o)
    assert not all(np.array_equal(w, o) for w, o in zip(inside, own, strict=True))


def test_a_decay_outside_the_open_unit_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(_dense(), decay=1.0)


def test_weight_averaging_is_left_out_of_the_students_key_while_off() -> None:
    assert "weight_average" not in settings(StudentConfig(weight_average=0.0))
    assert settings(StudentConfig(weight_average=0.99))["weight_average"] == 0.99


class _StopAfter(NullReporter):
    """Ctrl-C after `epochs` finished epochs (the advance after each epoch's files are written)."""

    def __init__(self, epochs: int) -> None:
        self.left = epochs

    def task(self, description: str, total: int) -> _StopAfter:
        return self

    def advance(self, n: int = 1) -> None:
        self.left -= n
        if self.left <= 0:
            raise KeyboardInterrupt


def test_the_saved_student_holds_the_average_and_training_resumes_with_it(tmp_path) -> None:
    data = easy_student_data(384, 12)
    steps = int(np.ceil(384 / 32))
    cfg = StudentConfig(epochs=8, patience=10, batch_size=32, hint_weight=0.0, weight_average=0.9)
    ckpt = tmp_path / "ckpt"
    with pytest.raises(KeyboardInterrupt):
        train_student(data, 12, cfg, ckpt, seed=42, resume=False, reporter=_StopAfter(3))
    with np.load(ckpt / "average.npz") as z:
        assert int(z["steps"]) == 3 * steps

    out = train_student(data, 12, cfg, ckpt, seed=42, resume=True, reporter=NullReporter())
    assert out.resumed_from == 3 and len(out.history) == 8
    assert out.best_val_accuracy > 0.5
    with np.load(ckpt / "average.npz") as z:  # the average went on from the saved one
        assert int(z["steps"]) == 8 * steps
        shadow = [z[f"w{i}"] for i in range(len(z.files) - 1)]
    saved = keras.models.load_model(out.model_path, compile=False).get_weights()
    last = keras.models.load_model(ckpt / "checkpoint.keras", compile=False).get_weights()
    assert not all(np.array_equal(w, t) for w, t in zip(saved, last, strict=True))  # not the last step's
    if out.best_epoch == 8:  # the best epoch was the last: the saved student is the final average
        for w, s in zip(saved, shadow, strict=True):
            np.testing.assert_array_equal(w, s.astype(np.float32))
