"""The report's pictures as `data:` URIs (PNG drawn by matplotlib's Agg backend), so the page needs no files."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from typing import Any

from nanokws.metrics import Scores, confusion_figure


def _png_uri(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def confusion_png(scores: Scores, title: str) -> str:
    return _png_uri(confusion_figure(scores, title))


def curves_png(
    title: str,
    epochs: Sequence[float],
    accuracies: dict[str, Sequence[float | None]],
    losses: dict[str, Sequence[float | None]],
) -> str:
    """One panel: accuracies on the left axis (0..1), losses on the right, by epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    def values(v: Sequence[float | None]) -> list[float]:
        return [math.nan if x is None else float(x) for x in v]

    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    lines = []
    for name, series in accuracies.items():
        lines += ax.plot(epochs, values(series), marker=".", label=name)
    ax.set_ylim(0, 1)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if losses:
        twin = ax.twinx()
        for name, series in losses.items():
            lines += twin.plot(epochs, values(series), linestyle=":", color="grey", label=name)
        twin.set_ylabel("loss")
    if lines:
        ax.legend(handles=lines, loc="center right", fontsize=8)
    fig.tight_layout()
    return _png_uri(fig)
