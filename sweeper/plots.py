"""Matplotlib figures of runs and sweeps (Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sweeper.artifacts import save_figure  # noqa: E402

CURVE_PANELS = (
    ("train_loss", "training loss"),
    ("val_loss", "validation loss"),
    ("val_accuracy", "validation accuracy"),
)


def plot_run_curves(history: pd.DataFrame, path: str | Path, title: str) -> Path:
    """The assignment's three panels for one run: train loss, val loss, val accuracy per epoch."""
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, (column, label) in zip(axes, CURVE_PANELS):
        ax.plot(history["epoch"], history[column], marker="o", markersize=3)
        ax.set_xlabel("epoch")
        ax.set_title(label)
        ax.grid(alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    return save_figure(path, figure)
