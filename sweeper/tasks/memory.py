"""Memory: recall the digit seen at a fixed position of a random digit sequence.

Each step is one digit 0-9, one-hot (input size 10); after the whole sequence
the model outputs the digit at index `position` (default 2) as one of 10
classes. Longer sequences mean more distracting digits after the one to
remember, which is what small hidden sizes struggle with.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from omegaconf import DictConfig

from sweeper.tasks import Batch
from sweeper.tasks.synthetic import SyntheticSequenceTask

DIGITS = 10


def make_recall(n: int, length: int, position: int, generator: torch.Generator) -> Batch:
    """x: (n, length, 10) one-hot digits; y: (n,) the digit at `position`."""
    digits = torch.randint(0, DIGITS, (n, length), generator=generator)
    return F.one_hot(digits, DIGITS).float(), digits[:, position]


class MemoryTask(SyntheticSequenceTask):
    kind = "classes"
    input_size = DIGITS
    output_size = DIGITS
    natural_readout = "last"

    def __init__(self, cfg: DictConfig, device: torch.device) -> None:
        self.position = cfg.position
        super().__init__(cfg, device)

    def make(self, n: int, length: int, generator: torch.Generator) -> Batch:
        return make_recall(n, length, self.position, generator)
