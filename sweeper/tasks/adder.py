"""The binary adder: add two numbers fed one bit pair per step, LSB first.

Encoding (as in the assignment): for a sequence of length L both operands
are drawn uniformly from [0, 2^(L-1)), so their sum fits in L bits. Step t
reads x[t] = (bit t of a, bit t of b) and must output bit t of a + b; the
carry is what the recurrent state has to learn to hold. Example, L = 4:

    a = 5 -> 1 0 1 0      b = 3 -> 1 1 0 0      sum 8 -> 0 0 0 1
"""

from __future__ import annotations

import torch

from sweeper.tasks import Batch
from sweeper.tasks.synthetic import SyntheticSequenceTask


def make_addition(n: int, length: int, generator: torch.Generator) -> Batch:
    """x: (n, length, 2) operand bits; y: (n, length) sum bits, all LSB first, as floats."""
    high = 2 ** (length - 1)
    operands = torch.randint(0, high, (2, n), generator=generator)  # (2, n) int64
    total = operands.sum(dim=0)  # (n,)
    place = torch.arange(length)
    a_bits = (operands[0, :, None] >> place) & 1  # (n, length)
    b_bits = (operands[1, :, None] >> place) & 1
    sum_bits = (total[:, None] >> place) & 1
    return torch.stack([a_bits, b_bits], dim=-1).float(), sum_bits.float()


def bits_to_int(bits: torch.Tensor) -> list[int]:
    """Rows of LSB-first 0/1 bits (n, length) -> Python ints (exact at any length)."""
    return [sum(int(bit) << i for i, bit in enumerate(row.tolist())) for row in bits]


class AdderTask(SyntheticSequenceTask):
    kind = "bits"
    input_size = 2
    output_size = 1
    natural_readout = "each"

    def make(self, n: int, length: int, generator: torch.Generator) -> Batch:
        return make_addition(n, length, generator)
