"""Memory: recall the digit seen at a fixed position of a random digit sequence.

Each step is one digit 0-9, one-hot (input size 10); after the whole sequence
the model outputs the digit at index `position` (default 2) as one of 10
classes. Longer sequences mean more distracting digits after the one to
remember, which is what small hidden sizes struggle with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from omegaconf import DictConfig

from sweeper.core.config import ConfigError, non_negative_int
from sweeper.tasks.base import Batch
from sweeper.tasks.synthetic import SequenceConfig, SyntheticSequenceTask

DIGITS = 10


def make_recall(n: int, length: int, position: int, generator: torch.Generator) -> Batch:
    """x: (n, length, 10) one-hot digits; y: (n,) the digit at `position`."""
    digits = torch.randint(0, DIGITS, (n, length), generator=generator)
    return F.one_hot(digits, DIGITS).float(), digits[:, position]


@dataclass
class MemoryConfig(SequenceConfig):
    """The memory task's keys: the sequence task's, and the position to recall."""

    min_length: int = 3
    max_length: int = 11
    extrapolation_lengths: list[int] = field(default_factory=list)
    position: int = 2  # the index of the digit to recall; < min_length


class MemoryTask(SyntheticSequenceTask):
    """`task=memory`: the digit at `task.position` (kind classes), accuracy per length."""

    Config: ClassVar[type[SequenceConfig]] = MemoryConfig
    kind = "classes"
    input_size = DIGITS
    output_size = DIGITS
    natural_readout = "last"

    @classmethod
    def check(cls, cfg: DictConfig) -> None:
        """The sequence rules, and a position every sequence (extrapolation too) has."""
        super().check(cfg)
        problem = non_negative_int(cfg.position)
        if problem:
            raise ConfigError(f"task.position {problem}, got {cfg.position!r}")
        if cfg.position >= cfg.min_length:
            raise ConfigError(
                f"task.position must be < task.min_length ({cfg.min_length}), got {cfg.position!r}"
            )
        if min(cfg.extrapolation_lengths, default=cfg.min_length) <= cfg.position:
            raise ConfigError(
                f"task.extrapolation_lengths must all be > task.position ({cfg.position}), "
                f"got {list(cfg.extrapolation_lengths)!r}"
            )

    def __init__(self, cfg: DictConfig, device: torch.device, batch_size: int) -> None:
        self.position = cfg.position
        super().__init__(cfg, device, batch_size)

    def make(self, n: int, length: int, generator: torch.Generator) -> Batch:
        return make_recall(n, length, self.position, generator)

    @classmethod
    def predict(
        cls,
        model: torch.nn.Module,
        config: dict[str, Any],
        inputs: list[str],
        run_dir: Path,
        figure: Path | None,
    ) -> bool:
        """A digit sequence (`3 1 4 1 5`) -> the digit at the trained position, right or
        wrong (with a warning outside the trained lengths)."""
        task = config["task"]
        position, shortest, longest = task["position"], task["min_length"], task["max_length"]
        tokens = " ".join(inputs).split()
        sequence = " ".join(tokens)
        if not tokens or not all(t.isdigit() and len(t) == 1 for t in tokens):
            print(
                f"{sequence or 'sequence'}: error: "
                "give digits 0-9 separated by spaces, e.g. 3 1 4 1 5"
            )
            return False
        if len(tokens) <= position:
            print(
                f"{sequence}: error: needs more than {position} digits to recall index {position}"
            )
            return False
        digits = torch.tensor([int(t) for t in tokens])
        x = F.one_hot(digits, DIGITS).float()[None]  # (1, length, 10)
        with torch.no_grad():
            probabilities = torch.softmax(model(x), dim=-1)[0]
        answer = int(probabilities.argmax())
        truth = int(digits[position])
        note = (
            ""
            if shortest <= len(tokens) <= longest
            else f" (length {len(tokens)} is outside the trained {shortest}-{longest}: "
            "less trustworthy)"
        )
        verdict = "right" if answer == truth else f"wrong, it is {truth}"
        print(
            f"{sequence}: digit at index {position} -> {answer} "
            f"(confidence {probabilities[answer]:.3f}, {verdict}){note}"
        )
        return True
