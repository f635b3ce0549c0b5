"""A hand-rolled Elman network: the smallest recurrent model, written as a user would.

h_t = tanh(W_x x_t + W_h h_{t-1} + b), then a linear readout of every step's h_t.
It takes what every sweeper model takes, the task's `input_size` and
`output_size`, and its own key `hidden` (swept as `model.hidden=` or
`hidden_size=`); `model=elman` picks it through `my_conf/model/elman.yaml`.
It returns one output per step, so it fits tasks whose kind is `bits` (one
target per step, like parity or the adder); sweeper refuses it, before training,
for a task that wants one output per sequence.
"""

from __future__ import annotations

import torch
from torch import nn


class ElmanRNN(nn.Module):
    """x (batch, steps, input_size) -> logits (batch, steps, output_size)."""

    def __init__(self, input_size: int, output_size: int, hidden: int = 8) -> None:
        super().__init__()
        self.hidden = hidden
        self.cell = nn.RNNCell(input_size, hidden, nonlinearity="tanh")
        self.head = nn.Linear(hidden, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.new_zeros(x.shape[0], self.hidden)
        outputs = []
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
            outputs.append(h)
        return self.head(torch.stack(outputs, dim=1))  # (batch, steps, output_size)
