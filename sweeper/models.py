"""One sequence model for every cell (RNN, LSTM, GRU) and every task.

The cell is picked by name (as in pytorch/examples' word_language_model) and
a linear readout turns the recurrent outputs into the task's outputs:

- `each`:    one output per step (the adder: one sum bit per input bit pair);
- `last`:    the last step's output (memory; BiLSTM on mnist, as in the assignment);
             for a bidirectional cell that is the forward direction's final state
             beside the backward direction's first step;
- `flatten`: every step's output flattened into one vector (RNN/LSTM on mnist,
             as in the assignment; needs a fixed sequence length).
"""

from __future__ import annotations

import torch
from torch import nn

CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
READOUTS = ("each", "last", "flatten")


class SequenceModel(nn.Module):
    def __init__(
        self,
        cell: str,
        hidden: int,
        input_size: int,
        output_size: int,
        readout: str,
        layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        seq_len: int | None = None,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
        if readout not in READOUTS:
            raise ValueError(f"unknown readout {readout!r}; choose one of {', '.join(READOUTS)}")
        if readout == "flatten" and not seq_len:
            raise ValueError("the flatten readout needs a fixed sequence length")
        self.readout = readout
        self.directions = 2 if bidirectional else 1
        self.rnn = CELLS[cell](
            input_size,
            hidden,
            num_layers=layers,
            batch_first=True,
            bidirectional=bidirectional,
            # PyTorch applies dropout between stacked layers only.
            dropout=dropout if layers > 1 else 0.0,
        )
        features = hidden * self.directions
        if readout == "flatten":
            features *= seq_len
        self.head = nn.Linear(features, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, steps, input) -> (batch, steps, output) for `each`, else (batch, output)."""
        out, _ = self.rnn(x)  # out: (batch, steps, directions * hidden)
        if self.readout == "each":
            return self.head(out)
        if self.readout == "flatten":
            return self.head(out.reshape(out.shape[0], -1))  # (batch, steps * directions * hidden)
        return self.head(out[:, -1])  # last step: (batch, directions * hidden)
