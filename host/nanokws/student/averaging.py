"""An exponential moving average of the student's weights, step by step, to validate and keep instead of
the last step's weights: a flatter point between the minima that the last steps visit, the cheap form of
weight averaging that domain generalisation uses for inputs from domains never seen (here voices and
engines). The average lives in numpy beside the model and is saved with each checkpoint, so training
resumes with it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from nanokws import atomic


class WeightAverage:
    """shadow <- d * shadow + (1 - d) * weights after every step, d = min(decay, (1 + n) / (10 + n)) for the
    n-th step (the warm-up of TensorFlow's ExponentialMovingAverage, so early steps are not averaged with
    the initial weights for long). Every variable of the model is averaged, Batch Normalisation's moving
    statistics too."""

    def __init__(self, model: Any, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"weight-average decay must lie in (0, 1), got {decay}")
        self.model = model
        self.decay = decay
        self.steps = 0
        self.shadow = [np.array(w, dtype=np.float64) for w in model.get_weights()]

    def update(self) -> None:
        d = min(self.decay, (1.0 + self.steps) / (10.0 + self.steps))
        for s, w in zip(self.shadow, self.model.get_weights(), strict=True):
            s *= d
            s += (1.0 - d) * w
        self.steps += 1

    @contextmanager
    def applied(self) -> Iterator[None]:
        """The model holds the averaged weights inside the block and its own weights again after it."""
        own = self.model.get_weights()
        self.model.set_weights([s.astype(w.dtype) for s, w in zip(self.shadow, own, strict=True)])
        try:
            yield
        finally:
            self.model.set_weights(own)

    def save(self, path: Path) -> None:
        arrays = {f"w{i}": s for i, s in enumerate(self.shadow)}
        with atomic.atomic_path(path, suffix=".npz") as tmp:
            np.savez(tmp, steps=np.int64(self.steps), **arrays)

    def load(self, path: Path) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no weight average to resume with; retrain without --resume")
        with np.load(path) as z:
            shadow = [z[f"w{i}"] for i in range(len(self.shadow))]
            steps = int(z["steps"])
        if [s.shape for s in shadow] != [s.shape for s in self.shadow]:
            raise ValueError(f"{path}: the saved weight average does not fit this model; retrain without --resume")
        self.shadow, self.steps = shadow, steps

    def callback(self) -> Any:
        import keras

        average = self

        class _Update(keras.callbacks.Callback):
            def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
                average.update()

        return _Update()
