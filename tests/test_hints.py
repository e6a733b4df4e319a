"""Hint distillation: whitened teacher-state targets, and a student that trains on them and still exports
as the plain logits model."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from nanokws.progress import NullReporter
from nanokws.student.config import StudentConfig
from nanokws.student.hints import fit_projection
from nanokws.student.train import StudentData, train_student


def test_projection_gives_unit_variance_components_the_same_way_twice() -> None:
    rng = np.random.default_rng(0)
    h = rng.standard_normal((200, 3)) @ rng.standard_normal((3, 12)) * 5 + 7 + rng.standard_normal((200, 12))
    p = fit_projection(h, 5)
    z = p.apply(h)
    assert z.shape == (200, 5) and z.dtype == np.float32
    np.testing.assert_allclose(z.std(axis=0, ddof=1), 1.0, rtol=1e-4)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-5)
    assert np.all(np.diff(p.spread) <= 0)  # leading components first
    np.testing.assert_array_equal(fit_projection(h, 5).apply(h), z)
    np.testing.assert_allclose(np.corrcoef(z[:, :3].T), np.eye(3), atol=1e-6)  # uncorrelated


def _data(rng: np.random.Generator, hinted: bool) -> StudentData:
    n, classes = 48, 12
    y = np.arange(n) % classes
    x = rng.standard_normal((n, 49, 10)).astype(np.float32) + y[:, None, None] * 0.3
    xv = x[:, None] + 0.1 * rng.standard_normal((n, 2, 49, 10)).astype(np.float32)
    h = np.stack([y, -y, y % 3], axis=1).astype(np.float32)
    hv = np.repeat(h[:, None], 2, axis=1)
    return StudentData(
        x, y, None, x[:12], y[:12], np.zeros(10, np.float32), xv, None, None,
        h if hinted else None, hv if hinted else None,
    )  # fmt: skip


def test_a_student_trained_with_hints_exports_logits_only_and_resumes(tmp_path) -> None:
    cfg = StudentConfig(distill=False, view_epochs=2, view_patience=5, hint_weight=1.0, batch_size=16)
    data = _data(np.random.default_rng(0), hinted=True)
    out = train_student(data, 12, cfg, tmp_path / "ckpt", seed=42, resume=False, reporter=NullReporter())
    model = keras.models.load_model(out.model_path, compile=False)
    assert len(model.outputs) == 1 and model.output.shape[-1] == 12
    assert not any(layer.name == "hint" for layer in model.layers)
    assert len(out.history) == 2
    longer = dataclasses.replace(cfg, view_epochs=3)
    again = train_student(data, 12, longer, tmp_path / "ckpt", seed=42, resume=True, reporter=NullReporter())
    assert again.resumed_from == 2 and len(again.history) == 3


def test_hints_change_what_the_student_learns(tmp_path) -> None:
    cfg = StudentConfig(distill=False, view_epochs=2, view_patience=5, batch_size=16, hint_weight=0.0)
    rng_seed = 0  # the same data for both; student.keras goes beside each checkpoint folder
    a = train_student(
        _data(np.random.default_rng(rng_seed), hinted=True), 12, dataclasses.replace(cfg, hint_weight=1.0),
        tmp_path / "a" / "ckpt", seed=42, resume=False, reporter=NullReporter(),
    )  # fmt: skip
    b = train_student(
        _data(np.random.default_rng(rng_seed), hinted=True), 12, cfg,
        tmp_path / "b" / "ckpt", seed=42, resume=False, reporter=NullReporter(),
    )  # fmt: skip
    wa = keras.models.load_model(a.model_path, compile=False).get_weights()
    wb = keras.models.load_model(b.model_path, compile=False).get_weights()
    assert any(not np.allclose(u, v) for u, v in zip(wa, wb, strict=True))


def test_time_aligned_hints_train_a_segment_head_that_is_never_exported(tmp_path) -> None:
    rng = np.random.default_rng(0)
    data = _data(rng, hinted=True)
    n = len(data.y_train)
    # per 200 ms segment: the class and where in the clip the segment lies
    seg = np.stack([np.repeat(data.y_train[:, None], 5, axis=1), np.tile(np.arange(5), (n, 1))], axis=-1)
    seg = seg.astype(np.float32)
    data = dataclasses.replace(data, segments_train=seg, segments_views=np.repeat(seg[:, None], 2, axis=1))
    assert data.training_segments() is not None and data.training_segments().shape == (3 * n, 5, 2)
    cfg = StudentConfig(distill=False, view_epochs=2, view_patience=5, batch_size=16, segment_hint_weight=1.0)
    out = train_student(data, 12, cfg, tmp_path / "ckpt", seed=42, resume=False, reporter=NullReporter())
    model = keras.models.load_model(out.model_path, compile=False)
    assert len(model.outputs) == 1 and model.output.shape[-1] == 12
    trainer = keras.models.load_model(tmp_path / "ckpt" / "checkpoint.keras", compile=False)
    # the logits, the pooled hint components and the five segments' components, in that order
    assert [tuple(o.shape[1:]) for o in trainer.outputs] == [(12,), (3,), (5, 2)]
