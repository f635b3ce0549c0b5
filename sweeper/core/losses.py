"""The loss a run trains with: `loss.name` checked against the task's target kind.

The kinds themselves say what each loss computes (`sweeper.core.targets`: for
`bits`, `ce` is binary cross-entropy on logits and `mse` compares sigmoid(logit)
to the bit; for `classes`, `ce` is softmax cross-entropy and `mse` compares the
softmax to the one-hot target); this module only picks one, and refuses a loss
the kind does not take (a regression's real values take `mse` only).
"""

from __future__ import annotations

from sweeper.core.config import ConfigError
from sweeper.core.targets import LossFn, TargetKind, kind_of

__all__ = ["LossFn", "make_loss"]


def make_loss(name: str, target: TargetKind | str) -> LossFn:
    """The mean loss over every target element for `loss.name` `name` and the task's
    target kind (a `TargetKind`, or a built-in kind's name: `bits`, `classes`).

    Raises ConfigError naming `loss.name` for a loss the kind does not take, and
    ValueError for an unknown kind name."""
    kind = kind_of(target)
    if kind is None:
        raise ValueError(f"unknown target kind {target!r}")
    if name not in kind.losses:
        raise ConfigError(
            f"loss.name={name}: the task's {kind.name} targets take {' or '.join(kind.losses)}"
        )
    return kind.loss(name)
