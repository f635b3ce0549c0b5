"""One sequence model for every cell (RNN, LSTM, GRU) and every task.

The cell is picked by name (as in pytorch/examples' word_language_model) and
a linear readout turns the recurrent outputs into the task's outputs:

- `each`:    one output per step (the adder: one sum bit per input bit pair);
- `last`:    the last step's output (memory); for a bidirectional cell that is the
             forward direction's final state beside the backward direction's state
             after reading only the last step;
- `final`:   each direction's final state (the backward one ends at the first step):
             what Keras's `Bidirectional(LSTM(...))` returns as its last step, and
             the BiLSTM readout on mnist. Equal to `last` for one direction;
- `flatten`: every step's output flattened into one vector (RNN/LSTM on mnist,
             as in the assignment; needs a fixed sequence length).
"""

from __future__ import annotations

import torch
from omegaconf import DictConfig
from torch import nn

from sweeper.core.config import boolean, check_rules, fraction, one_of, positive_int

CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
READOUTS = ("each", "last", "final", "flatten")
INITS = ("torch", "orthogonal")


class SequenceModel(nn.Module):
    """A recurrent cell (`cell`) and a linear readout (see the module docstring)."""

    @classmethod
    def check_config(cls, model_cfg: DictConfig) -> None:
        """The model node's values: ConfigError `model.<key> must be ..., got ...`."""
        rules = {
            "cell": one_of(*CELLS),
            "hidden": positive_int,
            "layers": positive_int,
            "bidirectional": boolean,
            "dropout": fraction,
            "readout": one_of("auto", *READOUTS),
            "init": one_of(*INITS),
        }
        check_rules(model_cfg, "model", rules)

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
        init: str = "torch",
        input_mean: float = 0.0,
        input_std: float = 1.0,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
        if readout not in READOUTS:
            raise ValueError(f"unknown readout {readout!r}; choose one of {', '.join(READOUTS)}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
        if readout == "flatten" and not seq_len:
            raise ValueError("the flatten readout needs a fixed sequence length")
        self.readout = readout
        # Inputs are standardised inside the model, so a saved model carries its own
        # preprocessing (sweeper.predict feeds it raw [0, 1] pixels).
        self.input_mean = input_mean
        self.input_std = input_std
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
        if init == "orthogonal":
            self._init_orthogonal(cell)

    def _init_orthogonal(self, cell: str) -> None:
        """Glorot-uniform input weights, orthogonal recurrent weights, zero biases and, for
        an LSTM, a forget-gate bias of 1: Keras's defaults, and the usual remedy for
        gradients that shrink or grow through many steps (Jozefowicz et al. 2015)."""
        gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
        for name, param in self.rnn.named_parameters():
            with torch.no_grad():
                if name.startswith("weight_ih"):
                    for block in param.chunk(gates):  # one (hidden, input) block per gate
                        nn.init.xavier_uniform_(block)
                elif name.startswith("weight_hh"):
                    for block in param.chunk(gates):
                        nn.init.orthogonal_(block)
                else:
                    param.zero_()
                    # PyTorch adds bias_ih and bias_hh: the forget bias of 1 goes in one.
                    if cell == "lstm" and name.startswith("bias_ih"):
                        param.chunk(4)[1].fill_(1.0)  # gate order: input, forget, cell, output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, steps, input) -> (batch, steps, output) for `each`, else (batch, output)."""
        if self.input_mean != 0.0 or self.input_std != 1.0:
            x = (x - self.input_mean) / self.input_std
        out, state = self.rnn(x)  # out: (batch, steps, directions * hidden)
        if self.readout == "each":
            return self.head(out)
        if self.readout == "final":
            h_n = state[0] if isinstance(state, tuple) else state  # LSTM: (h_n, c_n)
            # h_n: (layers * directions, batch, hidden); the top layer's directions last
            return self.head(torch.cat(list(h_n[-self.directions :]), dim=-1))
        if self.readout == "flatten":
            return self.head(out.reshape(out.shape[0], -1))  # (batch, steps * directions * hidden)
        return self.head(out[:, -1])  # last step: (batch, directions * hidden)
