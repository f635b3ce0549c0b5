"""The tasks: each module holds its data, its target kind and its readout choice.

A task object gives the training loop everything it needs:

- `kind` ("bits" or "classes", see `sweeper.losses`), `input_size`, `output_size`,
  `seq_len` (fixed length or None) and `readout(requested, bidirectional)`;
- `input_mean`, `input_std`: what the model standardises its inputs with (0 and 1: not);
- `train_batches(generator)`: one epoch of (x, y) batches, already on the device;
- `val_batches()`: the validation set as (x, y) batches;
- `test_sets()`: `EvalSet`s, one per (split, length), which become by_length.csv
  and the `<split>_accuracy` metrics;
- `write_figures(model, out_dir)`: the task's own figures of a trained model
  (mnist: predictions.png, test digits with predicted vs true labels).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
from omegaconf import DictConfig

Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass
class EvalSet:
    split: str  # "test" (lengths trained on) or "extrapolation" (longer ones)
    length: int | None  # None for fixed-length data (mnist)
    batches: list[Batch]


class Task(Protocol):
    name: str
    kind: str
    input_size: int
    output_size: int
    seq_len: int | None
    num_train_batches: int
    input_mean: float
    input_std: float

    def readout(self, requested: str, bidirectional: bool) -> str: ...

    def train_batches(self, generator: torch.Generator) -> Iterator[Batch]: ...

    def val_batches(self) -> list[Batch]: ...

    def test_sets(self) -> list[EvalSet]: ...

    def write_figures(self, model: torch.nn.Module, out_dir: Path) -> None: ...


def build_task(task_cfg: DictConfig, device: torch.device) -> Task:
    """The task named by `task_cfg.name`, with its data ready on `device`."""
    # Imported here so that `task=adder` never imports torchvision.
    if task_cfg.name == "adder":
        from sweeper.tasks.adder import AdderTask

        return AdderTask(task_cfg, device)
    if task_cfg.name == "memory":
        from sweeper.tasks.memory import MemoryTask

        return MemoryTask(task_cfg, device)
    if task_cfg.name == "mnist":
        from sweeper.tasks.mnist import MnistTask

        return MnistTask(task_cfg, device)
    raise ValueError(f"unknown task {task_cfg.name!r}")
