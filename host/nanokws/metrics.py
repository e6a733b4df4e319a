"""Accuracy, per-class accuracy and confusion matrices, as numbers and as pictures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nanokws import atomic


@dataclass(frozen=True)
class Scores:
    labels: tuple[str, ...]
    confusion: np.ndarray  # [true, predicted] counts

    @property
    def n(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / max(1, self.n))

    @property
    def per_class(self) -> dict[str, float | None]:
        totals = self.confusion.sum(axis=1)
        return {
            label: (float(self.confusion[i, i] / totals[i]) if totals[i] else None)
            for i, label in enumerate(self.labels)
        }

    def to_dict(self) -> dict:
        return {
            "accuracy": round(self.accuracy, 6),
            "n": self.n,
            "per_class": {k: (round(v, 6) if v is not None else None) for k, v in self.per_class.items()},
            "confusion": self.confusion.tolist(),
            "labels": list(self.labels),
        }


def score(y_true: np.ndarray, y_pred: np.ndarray, labels: tuple[str, ...]) -> Scores:
    k = len(labels)
    confusion = np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)
    return Scores(labels=labels, confusion=confusion)


def plot_confusion(scores: Scores, title: str, path: Path) -> None:
    fig = confusion_figure(scores, title)  # selects the Agg backend before pyplot is imported here
    import matplotlib.pyplot as plt

    with atomic.atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp)
    plt.close(fig)


def confusion_figure(scores: Scores, title: str) -> Any:
    """The confusion matrix as a matplotlib figure: colour by row-normalised rate, counts written in."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = scores.confusion
    norm = cm / np.maximum(1, cm.sum(axis=1, keepdims=True))
    fig, ax = plt.subplots(figsize=(7, 6), dpi=110)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ticks = range(len(scores.labels))
    ax.set_xticks(ticks, scores.labels, rotation=60, ha="right")
    ax.set_yticks(ticks, scores.labels)
    for i in ticks:
        for j in ticks:
            if cm[i, j]:
                colour = "white" if norm[i, j] > 0.5 else "black"
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7, color=colour)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title}: accuracy {scores.accuracy:.3f} (n={scores.n})")
    fig.tight_layout()
    return fig


def plot_curves(histories: dict[str, list[dict[str, float]]], path: Path) -> None:
    """Training curves: one panel per model, accuracy (train and validation) and loss by epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = max(1, len(histories))
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 3.6), dpi=110, squeeze=False)
    for ax, (name, hist) in zip(axes[0], histories.items(), strict=False):
        epochs = [h["epoch"] for h in hist]
        for key in ("accuracy", "val_accuracy"):
            if any(key in h for h in hist):
                ax.plot(epochs, [h.get(key, np.nan) for h in hist], label=key)
        ax.set_ylim(0, 1)
        ax.set_xlabel("epoch")
        ax.set_title(name)
        twin = ax.twinx()
        twin.plot(epochs, [h.get("loss", np.nan) for h in hist], color="grey", linestyle=":", label="loss")
        twin.set_ylabel("loss")
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    with atomic.atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp)
    plt.close(fig)
