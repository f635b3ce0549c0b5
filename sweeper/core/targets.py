"""Target kinds: what a task's targets are, and everything the loop does that depends on it.

A task names its kind with a class attribute `target` (an instance of a
`TargetKind` subclass; the built-in tasks' `kind = "bits"` / `"classes"` name
`BITS` / `CLASSES`). The kind, not the loop, knows:

- `forward(model, x)`: logits shaped like the targets (float32 even under bf16
  autocast, so losses are computed in full precision);
- `loss(name)`: the mean loss over every target element for `loss.name`
  (`losses`: the names it takes);
- `tally(logits, y)` / `summarize(tally)`: the sums over a batch from which an
  evaluation's metrics (`metrics`, e.g. accuracy) are computed;
- `check_targets(y, output_size)`: why the task's targets do not fit this kind
  (None when they do), and `logits_shape(y, output_size)`: the shape a model's
  logits must have; both checked before training (`sweeper.core.modelspec`);
- `score`: the metric early stopping ranks epochs by and a search prunes on
  (`minimized`: the metrics where lower is better); `headline`: the per-split
  metrics that describe a run (summary tables, compare, confirm: `sweeper.core.metrics`).

The built-in kinds:

- `Bits` (`bits`): one 0/1 target per step, x (batch, steps, in), y (batch, steps)
  float 0/1, logits (batch, steps); `ce` is binary cross-entropy on logits, `mse`
  compares sigmoid(logit) to the bit; `accuracy` per bit, `exact_accuracy` per
  sequence (every bit right);
- `Classes` (`classes`): one class per sequence, y (batch,) int64, logits
  (batch, classes); `ce` is softmax cross-entropy, `mse` compares softmax to the
  one-hot target; `accuracy` per sequence.

A task with other targets (a regression's real values, say) defines its own kind
in its own module: see examples/regression_task.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

__all__ = ["BITS", "CLASSES", "KINDS", "Bits", "Classes", "LossFn", "TargetKind", "kind_of"]


class TargetKind(ABC):
    """What a task's targets are (module docstring). Subclass it for a new kind."""

    name: ClassVar[str]  # as metrics.json and error messages spell it
    losses: ClassVar[tuple[str, ...]] = ("ce", "mse")  # the `loss.name`s it takes
    metrics: ClassVar[tuple[str, ...]]  # computed on every evaluation, besides `loss`
    minimized: ClassVar[tuple[str, ...]] = ()  # those of `metrics` where lower is better
    score: ClassVar[str]  # one of `metrics`: what early stopping and pruning follow
    headline: ClassVar[tuple[str, ...]]  # the metrics (per split) a run is described by

    def forward(self, model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        """The model's logits for inputs x (batch, steps, input_size), as float32."""
        return model(x).float()

    @abstractmethod
    def loss(self, name: str) -> LossFn:
        """The mean loss per target element for `loss.name` `name` (one of `losses`)."""

    @abstractmethod
    def tally(self, logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        """One batch's sums: `elements` and `sequences` (counts) and what `summarize` needs."""

    @abstractmethod
    def summarize(self, tally: dict[str, float]) -> dict[str, float]:
        """Each of `metrics` from the summed tallies of an evaluation's batches."""

    @abstractmethod
    def check_targets(self, y: torch.Tensor, output_size: int) -> str | None:
        """What this kind needs of the task's targets `y` that they lack, or None: e.g.
        `(batch,) integer class targets`."""

    @abstractmethod
    def logits_shape(self, y: torch.Tensor, output_size: int) -> tuple[int, ...]:
        """The shape a model's logits (after `forward`) must have for targets `y`."""

    def signed_score(self, metrics: dict[str, float]) -> float:
        """`score`'s value in `metrics`, negated when lower is better (higher: better)."""
        value = metrics[self.score]
        return -value if self.score in self.minimized else value

    def reached(self, value: float, level: float) -> bool:
        """Whether score `value` is at `level` or better (`trainer.stop_accuracy`)."""
        return value <= level if self.score in self.minimized else value >= level

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Bits(TargetKind):
    """One 0/1 target per step: y (batch, steps) float, logits (batch, steps)."""

    name = "bits"
    metrics = ("accuracy", "exact_accuracy")
    score = "accuracy"
    headline = ("accuracy", "exact_accuracy")

    def forward(self, model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        return model(x).float().squeeze(-1)

    def loss(self, name: str) -> LossFn:
        if name == "ce":
            return F.binary_cross_entropy_with_logits
        return lambda logits, bits: F.mse_loss(torch.sigmoid(logits), bits)

    def tally(self, logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        right = (logits > 0) == (targets > 0.5)  # (batch, steps)
        return {
            "elements": right.numel(),
            "sequences": right.shape[0],
            "right": int(right.sum()),
            "sequences_right": int(right.all(dim=1).sum()),
        }

    def summarize(self, tally: dict[str, float]) -> dict[str, float]:
        return {
            "accuracy": tally["right"] / tally["elements"],
            "exact_accuracy": tally["sequences_right"] / tally["sequences"],
        }

    def check_targets(self, y: torch.Tensor, output_size: int) -> str | None:
        if y.dim() == 2 and y.is_floating_point() and output_size == 1:
            return None
        return "(batch, steps) float 0/1 targets and output_size 1"

    def logits_shape(self, y: torch.Tensor, output_size: int) -> tuple[int, ...]:
        return tuple(y.shape)


class Classes(TargetKind):
    """One class per sequence: y (batch,) int64, logits (batch, classes)."""

    name = "classes"
    metrics = ("accuracy",)
    score = "accuracy"
    headline = ("accuracy",)

    def loss(self, name: str) -> LossFn:
        if name == "ce":
            return F.cross_entropy
        return lambda logits, labels: F.mse_loss(
            torch.softmax(logits, dim=-1), F.one_hot(labels, logits.shape[-1]).to(logits.dtype)
        )

    def tally(self, logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        right = logits.argmax(dim=-1) == targets  # (batch,)
        return {"elements": right.numel(), "sequences": right.numel(), "right": int(right.sum())}

    def summarize(self, tally: dict[str, float]) -> dict[str, float]:
        return {"accuracy": tally["right"] / tally["elements"]}

    def check_targets(self, y: torch.Tensor, output_size: int) -> str | None:
        if y.dim() == 1 and not y.is_floating_point() and y.dtype != torch.bool:
            return None
        return "(batch,) integer class targets"

    def logits_shape(self, y: torch.Tensor, output_size: int) -> tuple[int, ...]:
        return (y.shape[0], output_size)


BITS, CLASSES = Bits(), Classes()
KINDS: dict[str, TargetKind] = {"bits": BITS, "classes": CLASSES}


def kind_of(value: Any) -> TargetKind | None:
    """The TargetKind a task's `target` (an instance) or `kind` (a built-in name) gives."""
    if isinstance(value, TargetKind):
        return value
    if isinstance(value, type) and issubclass(value, TargetKind):
        return value()
    return KINDS.get(value) if isinstance(value, str) else None
