"""Running parity: after each bit of a random bit string, is the number of 1s so far odd?

Encoding: a sequence of length L is L random bits (each 1 with probability
`task.p_one`), fed one per step (input size 1, the bit as 0.0 or 1.0). At step t
the model outputs one logit for the parity of bits 0..t (kind `bits`: one 0/1
target per step, judged by bit accuracy and whole-sequence accuracy per length):

    input   1 0 1 1 0 1
    target  1 1 0 1 1 0

Why it is hard for small recurrent networks: the answer flips on every 1 and
stays on every 0, whatever came before, so the state must hold one bit exactly
and invert it with a sign flip, a dynamic that saturating tanh/sigmoid units
reach only from the right initialisation, and no input bit can be ignored (XOR
has no partial credit: a network that gets one bit of the state wrong is wrong
for the rest of the sequence). Lengths beyond training (`extrapolation_lengths`)
show whether it learnt the flip or memorised short strings.

This module and `my_conf/task/parity.yaml` are all a new task needs: the class
subclasses `sweeper.tasks.synthetic.SyntheticSequenceTask`, which brings the
length-grouped data, validation/test sets, metrics and the accuracy-vs-length
sweep figure; it adds its schema key (`p_one`), its data (`make`), its end-of-run
line and how `python -m sweeper.predict` reads a bit string.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from omegaconf import DictConfig

from sweeper.core.config import ConfigError
from sweeper.tasks.synthetic import SequenceConfig, SyntheticSequenceTask


@dataclass
class ParityConfig(SequenceConfig):
    """The parity task's keys: the sequence task's (lengths, data sizes) and `p_one`."""

    p_one: float = 0.5  # probability of a 1 bit, in (0, 1)


def make_parity(
    n: int, length: int, p_one: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """x: (n, length, 1) float bits; y: (n, length) float running parity of x."""
    bits = (torch.rand(n, length, generator=generator) < p_one).long()  # (n, length)
    parity = torch.cumsum(bits, dim=1) % 2
    return bits.float().unsqueeze(-1), parity.float()


class ParityTask(SyntheticSequenceTask):
    """`task=parity`: the running parity of a bit string, one output bit per step."""

    Config: ClassVar[type[SequenceConfig]] = ParityConfig
    kind = "bits"
    input_size = 1
    output_size = 1
    natural_readout = "each"  # one output per step (for models with a `readout` key)
    length_figure = "parity_accuracy_vs_length.png"
    accuracy_label = "bit accuracy"

    @classmethod
    def check(cls, cfg: DictConfig) -> None:
        """The sequence rules, and 0 < p_one < 1."""
        super().check(cfg)
        if not 0.0 < cfg.p_one < 1.0:
            raise ConfigError(f"task.p_one must be in (0, 1), got {cfg.p_one!r}")

    def __init__(self, cfg: DictConfig, device: torch.device, batch_size: int) -> None:
        self.p_one = cfg.p_one  # make() needs it while the base class builds the data
        super().__init__(cfg, device, batch_size)

    def make(
        self, n: int, length: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return make_parity(n, length, self.p_one, generator)

    @classmethod
    def describe(cls, metrics: dict[str, float]) -> str:
        parts = [
            f"test bit accuracy {metrics['test_accuracy']:.2%}",
            f"whole strings {metrics['test_exact_accuracy']:.2%}",
        ]
        if "extrapolation_accuracy" in metrics:
            parts.append(f"beyond training lengths {metrics['extrapolation_accuracy']:.2%}")
        return ", ".join(parts)

    @classmethod
    def predict(
        cls,
        model: torch.nn.Module,
        config: dict[str, Any],
        inputs: list[str],
        run_dir: Path,
        figure: Path | None,
    ) -> bool:
        """Each input is a bit string (`1011`, or bits as separate words `1 0 1 1`):
        prints the predicted running parity and whether it is right."""
        words = inputs if all(len(w) > 1 for w in inputs) else ["".join(inputs)]
        ok = True
        for word in words:
            if not word or set(word) - {"0", "1"}:
                print(f"{word or 'input'}: error: give a string of 0s and 1s, e.g. 1011")
                ok = False
                continue
            x = torch.tensor([[[float(b)] for b in word]])  # (1, length, 1)
            with torch.no_grad():
                logits = model(x).reshape(len(word))
            predicted = "".join("1" if v > 0 else "0" for v in logits.tolist())
            truth = "".join(str(sum(map(int, word[: i + 1])) % 2) for i in range(len(word)))
            verdict = "right" if predicted == truth else f"wrong, it is {truth}"
            longest = config["task"]["max_length"]
            note = (
                f" (longer than the trained {longest}: less trustworthy)"
                if len(word) > longest
                else ""
            )
            print(f"{word}: running parity {predicted} ({verdict}){note}")
        return ok
