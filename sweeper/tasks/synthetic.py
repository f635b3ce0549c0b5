"""Shared machinery of the generated sequence tasks (adder, memory).

Sequences in a batch all have the same length, so no padding or packing is
needed: training batches draw one length each, evaluation sets are grouped
by length. Data are made by a task's `make(n, length, generator)` in one
vectorised call per batch, never one sample at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch
from omegaconf import DictConfig

from sweeper.config import ConfigError
from sweeper.tasks import Batch, EvalSet

# Evaluation runs in chunks of at most EVAL_CHUNK sequences and EVAL_STEPS sequence
# steps: big enough to amortise per-call overhead, small enough that the model's
# activations (chunk x length x hidden) stay bounded at any length. Up to length 64
# a chunk is EVAL_CHUNK sequences, as before lengths could exceed 62.
EVAL_CHUNK = 4096
EVAL_STEPS = EVAL_CHUNK * 64


def eval_chunk(length: int) -> int:
    """Sequences per evaluation chunk at `length` steps (>= 1)."""
    return max(1, min(EVAL_CHUNK, EVAL_STEPS // length))


class SyntheticSequenceTask:
    kind: str
    input_size: int
    output_size: int
    seq_len = None  # variable length
    input_mean, input_std = 0.0, 1.0  # one-hot or bit inputs: nothing to standardise
    natural_readout: str

    def __init__(self, cfg: DictConfig, device: torch.device) -> None:
        self.name = cfg.name
        self.device = device
        self.lengths = list(range(cfg.min_length, cfg.max_length + 1))
        self.extrapolation_lengths = list(cfg.extrapolation_lengths)
        self.fresh_data = cfg.fresh_data
        self.train_size = cfg.train_size
        self.batch_size = cfg.batch_size
        self.test_per_length = cfg.test_per_length
        self.num_train_batches = -(-cfg.train_size // cfg.batch_size)
        # Validation and test sets come from their own seed so that every run
        # of a sweep is judged on the same sequences.
        data_gen = torch.Generator().manual_seed(cfg.data_seed)
        self._val = self._balanced_groups(cfg.val_size, data_gen)
        self._test = {n: self.make(self.test_per_length, n, data_gen) for n in self.lengths}
        self._extrapolation = {
            n: self.make(self.test_per_length, n, data_gen) for n in self.extrapolation_lengths
        }
        self._fixed_train: dict[int, Batch] | None = None
        self._fixed_seed = cfg.data_seed + 1

    def make(self, n: int, length: int, generator: torch.Generator) -> Batch:
        """n sequences of `length` steps: x (n, length, input_size), y as the task's targets."""
        raise NotImplementedError

    def readout(self, requested: str, bidirectional: bool) -> str:
        readout = self.natural_readout if requested == "auto" else requested
        if readout != self.natural_readout:
            raise ConfigError(
                f"model.readout={requested} does not fit task {self.name}; "
                f"use auto or {self.natural_readout}"
            )
        return readout

    def _balanced_groups(self, total: int, generator: torch.Generator) -> dict[int, Batch]:
        """`total` sequences spread evenly over the training lengths, grouped by length."""
        counts = [total // len(self.lengths)] * len(self.lengths)
        for i in range(total % len(self.lengths)):
            counts[i] += 1
        return {n: self.make(c, n, generator) for n, c in zip(self.lengths, counts) if c}

    def _on_device(self, batch: Batch) -> Batch:
        return batch[0].to(self.device), batch[1].to(self.device)

    def train_batches(self, generator: torch.Generator) -> Iterator[Batch]:
        if self.fresh_data:
            # New sequences every epoch: each batch gets one random length.
            lengths = torch.randint(
                self.lengths[0],
                self.lengths[-1] + 1,
                (self.num_train_batches,),
                generator=generator,
            )
            for i, length in enumerate(lengths.tolist()):
                n = min(self.batch_size, self.train_size - i * self.batch_size)
                yield self._on_device(self.make(n, length, generator))
            return
        # One fixed training set (the assignment's regime): shuffle within each
        # length, cut into batches, then shuffle the order of the batches.
        if self._fixed_train is None:
            fixed_gen = torch.Generator().manual_seed(self._fixed_seed)
            groups = self._balanced_groups(self.train_size, fixed_gen)
            self._fixed_train = {n: self._on_device(b) for n, b in groups.items()}
        chunks = []
        for x, y in self._fixed_train.values():
            order = torch.randperm(x.shape[0], generator=generator).to(self.device)
            chunks += [(x, y, idx) for idx in order.split(self.batch_size)]
        for i in torch.randperm(len(chunks), generator=generator).tolist():
            x, y, idx = chunks[i]
            yield x[idx], y[idx]

    def _eval_batches(self, batch: Batch) -> list[Batch]:
        x, y = self._on_device(batch)
        chunk = eval_chunk(x.shape[1])
        return list(zip(x.split(chunk), y.split(chunk)))

    def val_batches(self) -> list[Batch]:
        return [b for group in self._val.values() for b in self._eval_batches(group)]

    def write_figures(self, model: torch.nn.Module, out_dir: Path) -> None:
        """No task-specific figure: by_length.csv and the sweep plots show these tasks."""

    def test_sets(self) -> list[EvalSet]:
        return [EvalSet("test", n, self._eval_batches(b)) for n, b in self._test.items()] + [
            EvalSet("extrapolation", n, self._eval_batches(b))
            for n, b in self._extrapolation.items()
        ]
