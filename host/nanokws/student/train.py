"""Training the student with knowledge distillation, early stopping and resumable checkpoints.

loss = alpha * CE(hard labels, student) + (1 - alpha) * T^2 * KL(softmax(teacher / T) || softmax(student / T))
With `distill=False` the loss is the hard-label cross-entropy alone, so the teacher's gain is measured.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import softmax

from nanokws import atomic, interrupts
from nanokws.progress import Reporter
from nanokws.student.augment import FeatureWarp, augment_batch, draw_mixup
from nanokws.student.averaging import WeightAverage
from nanokws.student.config import StudentConfig
from nanokws.student.models import build, with_hint_heads


@dataclass(frozen=True)
class StudentData:
    x_train: np.ndarray  # [N, frames, coeffs] float32
    y_train: np.ndarray  # [N] class index
    teacher_train: np.ndarray | None  # [N, classes] teacher logits, or None
    x_val: np.ndarray
    y_val: np.ndarray
    silence_frame: np.ndarray  # [coeffs]: the features of digital silence
    x_views: np.ndarray | None = None  # [N, views, frames, coeffs]: consistent teaching (views.py)
    teacher_views: np.ndarray | None = None  # [N, views, classes]: the teacher's logits on each view
    warp: FeatureWarp | None = None  # the spectral warps of the run's front end (cfg.warp_probability)
    hints_train: np.ndarray | None = None  # [N, components]: hint targets of the clips (hints.py), or None
    hints_views: np.ndarray | None = None  # [N, views, components]: the same for their views
    segments_train: np.ndarray | None = None  # [N, T, components]: time-aligned hint targets of the clips
    segments_views: np.ndarray | None = None  # [N, views, T, components]: the same for their views

    def training_set(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Features, labels and teacher logits of the clips followed by their views (if any)."""
        if self.x_views is None:
            return self.x_train, self.y_train, self.teacher_train
        views = self.x_views.shape[1]
        x = np.concatenate([self.x_train, self.x_views.reshape(-1, *self.x_train.shape[1:])])
        y = np.concatenate([self.y_train, np.repeat(self.y_train, views)])
        if self.teacher_train is None or self.teacher_views is None:
            return x, y, None
        t = np.concatenate([self.teacher_train, self.teacher_views.reshape(-1, self.teacher_train.shape[1])])
        return x, y, t

    def hard_weights(self) -> np.ndarray:
        """Per sample of `training_set`: 1 for the clips; for the views the teacher's probability (T = 1) of
        the clip's word on that view, at least 0.05."""
        if self.teacher_views is None:
            return np.ones(len(self.y_train), dtype=np.float32)
        p = softmax(self.teacher_views.reshape(-1, self.teacher_views.shape[-1]).astype(np.float64), axis=1)
        words = np.repeat(self.y_train, self.teacher_views.shape[1])
        judged = np.clip(p[np.arange(len(words)), words], 0.05, 1.0)
        return np.concatenate([np.ones(len(self.y_train)), judged]).astype(np.float32)

    def training_hints(self) -> np.ndarray | None:
        """Hint targets in the order of `training_set`, or None."""
        return self._in_training_order(self.hints_train, self.hints_views)

    def training_segments(self) -> np.ndarray | None:
        """Time-aligned hint targets [samples, T, components] in the order of `training_set`, or None."""
        return self._in_training_order(self.segments_train, self.segments_views)

    def _in_training_order(self, clips: np.ndarray | None, views: np.ndarray | None) -> np.ndarray | None:
        if clips is None:
            return None
        if self.x_views is None:
            return clips
        if views is None:
            return None
        return np.concatenate([clips, views.reshape(-1, *clips.shape[1:])])


@dataclass(frozen=True)
class StudentOutcome:
    model_path: Path
    history: list[dict[str, float]]
    best_epoch: int
    best_val_accuracy: float
    resumed_from: int  # epochs already done when this call started


def _kd_loss(classes: int, alpha: float, temperature: float):  # noqa: ANN202 - a Keras loss closure
    from keras import ops

    def loss(y, logits):  # noqa: ANN001, ANN202
        hard, teacher = y[:, :classes], y[:, classes:]
        ce = -ops.sum(hard * ops.log_softmax(logits, axis=-1), axis=-1)
        if alpha >= 1.0:
            return ce
        log_p_t = ops.log_softmax(teacher / temperature, axis=-1)
        log_p_s = ops.log_softmax(logits / temperature, axis=-1)
        kl = ops.sum(ops.exp(log_p_t) * (log_p_t - log_p_s), axis=-1)
        return alpha * ce + (1.0 - alpha) * temperature**2 * kl

    return loss


def _accuracy(classes: int):  # noqa: ANN202
    from keras import ops

    def accuracy(y, logits):  # noqa: ANN001, ANN202
        return ops.mean(ops.cast(ops.argmax(y[:, :classes], axis=-1) == ops.argmax(logits, axis=-1), "float32"))

    return accuracy


def train_student(
    data: StudentData,
    classes: int,
    cfg: StudentConfig,
    out_dir: Path,
    *,
    seed: int,
    resume: bool,
    reporter: Reporter,
) -> StudentOutcome:
    """Train into `out_dir` (checkpoint.keras + state.json each epoch); write `out_dir/student.keras` with
    the best weights. With `resume`, continue from the last checkpoint."""
    import keras

    keras.utils.set_random_seed(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt, state_path, best_path = out_dir / "checkpoint.keras", out_dir / "state.json", out_dir / "best.weights.h5"
    average_path = out_dir / "average.npz"
    frames, coeffs = data.x_train.shape[1:]
    x_train, y_labels, teacher_train = data.training_set()
    epochs, patience = (cfg.view_epochs, cfg.view_patience) if data.x_views is not None else (cfg.epochs, cfg.patience)
    hard = np.eye(classes, dtype=np.float32)[y_labels]
    use_teacher = cfg.distill and teacher_train is not None
    if cfg.judge_views and use_teacher and data.teacher_views is not None:
        hard *= data.hard_weights()[:, None]
    teacher = teacher_train.astype(np.float32) if use_teacher and teacher_train is not None else np.zeros_like(hard)
    y_train = np.concatenate([hard, teacher], axis=1)
    alpha = cfg.alpha if use_teacher else 1.0
    custom = {"loss": _kd_loss(classes, alpha, cfg.temperature), "accuracy": _accuracy(classes)}

    hints = data.training_hints() if cfg.hint_weight > 0 else None
    segments = data.training_segments() if cfg.segment_hint_weight > 0 else None
    # (targets, loss weight) of the training-only outputs, in the order with_hint_heads adds them
    extra = [(t, w) for t, w in ((hints, cfg.hint_weight), (segments, cfg.segment_hint_weight)) if t is not None]

    state = {"epoch": 0, "best_epoch": -1, "best_val_accuracy": -1.0, "history": []}
    if resume and ckpt.is_file() and state_path.is_file():
        state = json.loads(state_path.read_text())
        trainer = keras.models.load_model(ckpt, custom_objects=custom, compile=True)
        model = trainer if not extra else keras.Model(trainer.input, trainer.outputs[0])
    else:
        model = build(
            cfg.model, frames, coeffs, classes,
            mixstyle=cfg.mixstyle_probability, mixstyle_alpha=cfg.mixstyle_alpha, seed=seed,
        )  # fmt: skip
        trainer = with_hint_heads(
            model,
            hint_components=None if hints is None else hints.shape[1],
            segments=None if segments is None else (segments.shape[1], segments.shape[2]),
        )
        steps = int(np.ceil(len(y_train) / cfg.batch_size)) * epochs
        schedule = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, decay_steps=steps)
        if not extra:
            loss, weights, metrics = custom["loss"], None, [custom["accuracy"]]
        else:
            loss = [custom["loss"], *["mse"] * len(extra)]
            weights = [1.0, *(w for _, w in extra)]
            metrics = [[custom["accuracy"]], *[[] for _ in extra]]
        trainer.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss, loss_weights=weights, metrics=metrics)
    resumed_from = int(state["epoch"])
    average = WeightAverage(model, cfg.weight_average) if cfg.weight_average > 0 else None
    if average is not None and resumed_from > 0:
        average.load(average_path)
    callbacks = [] if average is None else [average.callback()]

    task = reporter.task(f"training {cfg.model}", epochs)
    task.advance(resumed_from)
    for epoch in range(resumed_from, epochs):
        if epoch - state["best_epoch"] > patience and state["best_epoch"] >= 0:
            break
        rng = np.random.default_rng([seed, epoch])
        x = augment_batch(x_train, data.silence_frame, cfg, rng, data.warp)[..., None]
        order = rng.permutation(len(x))
        x, y_epoch, extra_epoch = x[order], y_train[order], [t[order] for t, _ in extra]
        if cfg.mixup_probability > 0:
            mix = draw_mixup(len(x), cfg.mixup_probability, cfg.mixup_alpha, rng)
            x = mix.features(x)
            y_epoch = np.concatenate(
                [mix.features(y_epoch[:, :classes]), mix.teacher_logits(y_epoch[:, classes:], cfg.temperature)], axis=1
            )
            extra_epoch = [mix.features(t) for t in extra_epoch]
        targets = y_epoch if not extra else [y_epoch, *extra_epoch]
        h = trainer.fit(x, targets, batch_size=cfg.batch_size, epochs=1, verbose=0, shuffle=False, callbacks=callbacks)
        with contextlib.nullcontext() if average is None else average.applied():
            logits = model.predict(data.x_val[..., None], batch_size=256, verbose=0)
        val_acc = float(np.mean(np.argmax(logits, axis=1) == data.y_val))
        accuracy = next(v for k, v in h.history.items() if k.endswith("accuracy"))
        state["history"].append(
            {"epoch": epoch + 1, "loss": float(h.history["loss"][-1]),
             "accuracy": float(accuracy[-1]), "val_accuracy": val_acc}
        )  # fmt: skip
        with interrupts.deferred():  # the epoch's files, all of them, before a Ctrl-C
            if val_acc > state["best_val_accuracy"]:
                state["best_val_accuracy"], state["best_epoch"] = val_acc, epoch
                with (
                    contextlib.nullcontext() if average is None else average.applied(),
                    atomic.atomic_path(best_path, suffix=".weights.h5") as tmp,
                ):
                    model.save_weights(tmp)
            if average is not None:
                average.save(average_path)
            state["epoch"] = epoch + 1
            with atomic.atomic_path(ckpt, suffix=".keras") as tmp:
                trainer.save(tmp)
            atomic.write_json(state_path, state)
        task.advance()

    # the best weights, into a model built without the training-only layers (MixStyle): the same weights
    model.load_weights(best_path)
    final = build(cfg.model, frames, coeffs, classes)
    final.set_weights(model.get_weights())
    model_path = out_dir.parent / "student.keras"
    with interrupts.deferred(), atomic.atomic_path(model_path, suffix=".keras") as tmp:
        final.save(tmp)
    return StudentOutcome(
        model_path=model_path,
        history=state["history"],
        best_epoch=int(state["best_epoch"]) + 1,
        best_val_accuracy=float(state["best_val_accuracy"]),
        resumed_from=resumed_from,
    )
