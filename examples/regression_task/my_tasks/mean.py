"""The mean of a sequence of real numbers: a regression task, judged by RMSE.

Encoding: a sequence of length L is L numbers drawn uniformly from [-1, 1], fed one
per step (input size 1); the model reads out one real value at the end, the
sequence's mean:

    input   0.50 -0.20 0.90 0.10
    target  0.325

The targets are real values, not bits or classes, so this module brings its own
target kind (`Value`: logits (batch, 1) compared with targets (batch, 1) by mean
squared error, judged by root-mean-square error, lower is better). Everything
else (length-grouped data, validation and test sets per length, lengths beyond
training) comes from `sweeper.tasks.synthetic.SyntheticSequenceTask`. This
module and `my_conf/task/mean.yaml` (which sets the objective a regression
minimises, `val_rmse`) are all the task needs; no file of sweeper is touched:

    python -m sweeper --config-dir my_conf task=mean loss=mse model.hidden=4,8 -m
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import torch
import torch.nn.functional as F

from sweeper.core.targets import LossFn, TargetKind
from sweeper.tasks.synthetic import SyntheticSequenceTask


class Value(TargetKind):
    """Real-valued targets: y (batch, outputs) float, logits (batch, outputs)."""

    name = "value"
    losses = ("mse",)
    metrics = ("rmse",)
    minimized = ("rmse",)
    score = "rmse"
    headline = ("rmse",)

    def loss(self, name: str) -> LossFn:
        return F.mse_loss

    def tally(self, logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        return {
            "elements": targets.numel(),
            "sequences": targets.shape[0],
            "squared_error": float(((logits - targets) ** 2).sum()),
        }

    def summarize(self, tally: dict[str, float]) -> dict[str, float]:
        return {"rmse": math.sqrt(tally["squared_error"] / tally["elements"])}

    def check_targets(self, y: torch.Tensor, output_size: int) -> str | None:
        if y.dim() == 2 and y.is_floating_point() and y.shape[1] == output_size:
            return None
        return "(batch, output_size) float targets"

    def logits_shape(self, y: torch.Tensor, output_size: int) -> tuple[int, ...]:
        return (y.shape[0], output_size)


def make_means(
    n: int, length: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """x: (n, length, 1) uniform in [-1, 1]; y: (n, 1) the mean of each sequence."""
    x = torch.rand(n, length, 1, generator=generator) * 2 - 1
    return x, x.mean(dim=1)


class MeanTask(SyntheticSequenceTask):
    """`task=mean`: the mean of a sequence of numbers, one real value at the end."""

    target: ClassVar[TargetKind] = Value()
    input_size = 1
    output_size = 1
    natural_readout = "last"

    def make(
        self, n: int, length: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return make_means(n, length, generator)

    @classmethod
    def sweep_figure_names(cls) -> tuple[str, ...]:
        return ()  # no accuracy to draw against length; by_length.csv has the RMSE per length

    @classmethod
    def sweep_figures(
        cls, by_length: pd.DataFrame, labels: dict[str, str], folder: Path
    ) -> list[Path]:
        return []

    @classmethod
    def describe(cls, metrics: dict[str, float]) -> str:
        parts = [f"test RMSE {metrics['test_rmse']:.4f}"]
        if "extrapolation_rmse" in metrics:
            parts.append(f"beyond training lengths {metrics['extrapolation_rmse']:.4f}")
        return ", ".join(parts)

    @classmethod
    def predict(
        cls,
        model: torch.nn.Module,
        config: dict[str, Any],
        inputs: list[str],
        run_dir: Path,
        figure: Path | None,
    ) -> bool:
        """The inputs are numbers (`0.5 -0.2 0.9`): prints the predicted and the true mean."""
        try:
            values = [float(word) for word in inputs]
        except ValueError:
            print(f"{' '.join(inputs)}: error: give numbers, e.g. 0.5 -0.2 0.9")
            return False
        if not values:
            print("input: error: give numbers, e.g. 0.5 -0.2 0.9")
            return False
        x = torch.tensor(values).reshape(1, len(values), 1)
        with torch.no_grad():
            predicted = float(model(x).reshape(-1)[0])
        print(f"{' '.join(inputs)}: mean {predicted:.4f} (true {sum(values) / len(values):.4f})")
        return True
