"""Losses and accuracy counts for the two kinds of targets the tasks have.

- `bits`:    one 0/1 target per step, logits (batch, steps) (the adder);
             `ce` is binary cross-entropy on logits, `mse` compares sigmoid(logit) to the bit.
- `classes`: one class per sequence, logits (batch, classes) (memory, mnist);
             `ce` is softmax cross-entropy, `mse` compares softmax to the one-hot target.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def make_loss(name: str, kind: str) -> LossFn:
    """The mean loss over every target element, for loss `name` and target `kind`."""
    if kind == "bits":
        if name == "ce":
            return F.binary_cross_entropy_with_logits
        return lambda logits, bits: F.mse_loss(torch.sigmoid(logits), bits)
    if kind == "classes":
        if name == "ce":
            return F.cross_entropy
        return lambda logits, labels: F.mse_loss(
            torch.softmax(logits, dim=-1), F.one_hot(labels, logits.shape[-1]).to(logits.dtype)
        )
    raise ValueError(f"unknown target kind {kind!r}")


def count_correct(
    logits: torch.Tensor, targets: torch.Tensor, kind: str
) -> tuple[int, int, int, int]:
    """(correct elements, elements, wholly correct sequences, sequences) in a batch.

    For `bits` an element is one bit and a sequence is correct when every bit is;
    for `classes` both are the one label per sequence.
    """
    if kind == "bits":
        right = (logits > 0) == (targets > 0.5)  # (batch, steps)
        return int(right.sum()), right.numel(), int(right.all(dim=1).sum()), right.shape[0]
    right = logits.argmax(dim=-1) == targets  # (batch,)
    n_right = int(right.sum())
    return n_right, right.numel(), n_right, right.numel()
