"""The binary adder: add two numbers fed one bit pair per step, LSB first.

Encoding (as in the assignment): for a sequence of length L both operands
are drawn uniformly from [0, 2^(L-1)), so their sum fits in L bits. Step t
reads x[t] = (bit t of a, bit t of b) and must output bit t of a + b; the
carry is what the recurrent state has to learn to hold. Example, L = 4:

    a = 5 -> 1 0 1 0      b = 3 -> 1 1 0 0      sum 8 -> 0 0 0 1

Any length works: the operands are drawn in chunks of at most `CHUNK_BITS`
bits (one `torch.randint` per chunk) and added chunk by chunk with the carry
passed on, so no number ever needs more than int64. For L <= 63 there is one
chunk, drawn exactly as before chunks existed: the same data seed gives the
same sequences as recorded results were made with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch

from sweeper.tasks.base import Batch
from sweeper.tasks.synthetic import SequenceConfig, SyntheticSequenceTask

# Bits per operand chunk: chunk + chunk + carry < 2^63, so each chunk's sum fits int64;
# 2^62 is a power of two, so torch.randint draws below it without modulo bias.
CHUNK_BITS = 62


def make_addition(n: int, length: int, generator: torch.Generator) -> Batch:
    """x: (n, length, 2) operand bits; y: (n, length) sum bits, all LSB first, as floats.

    Both operands are uniform below 2^(length-1), so the sum fits in `length` bits.
    Any length >= 1; about 60 bytes of working memory per sequence step."""
    width = length - 1  # operand bits; the sum's top bit is the last carry
    parts = []
    carry = torch.zeros(n, dtype=torch.int64)
    # At least one draw (of width 0 for length 1), as the single-chunk code always made.
    for start in range(0, max(width, 1), CHUNK_BITS):
        bits = min(CHUNK_BITS, width - start)
        operands = torch.randint(0, 2**bits, (2, n), generator=generator)  # (2, n) int64
        total = operands[0] + operands[1] + carry  # < 2^63
        values = torch.cat([operands, total[None]])  # (3, n): a, b, a + b + carry
        parts.append((values[..., None] >> torch.arange(bits)) & 1)  # (3, n, bits)
        carry = total >> bits
    top = torch.zeros(3, n, 1, dtype=torch.int64)  # operands' top bits are 0 ...
    top[2, :, 0] = carry  # ... the sum's is the final carry
    bits = torch.cat([*parts, top], dim=-1)  # (3, n, length)
    return bits[:2].permute(1, 2, 0).float().contiguous(), bits[2].float()


def bits_to_int(bits: torch.Tensor) -> list[int]:
    """Rows of LSB-first 0/1 bits (n, length) -> Python ints (exact at any length)."""
    return [int("".join(map(str, row[::-1])) or "0", 2) for row in bits.int().tolist()]


class AdderTask(SyntheticSequenceTask):
    """`task=adder`: one sum bit per step (kind bits), judged by bit accuracy per length."""

    Config: ClassVar[type[SequenceConfig]] = SequenceConfig
    kind = "bits"
    input_size = 2
    output_size = 1
    natural_readout = "each"
    length_figure = "bit_accuracy_vs_length.png"
    accuracy_label = "bit accuracy"

    def make(self, n: int, length: int, generator: torch.Generator) -> Batch:
        return make_addition(n, length, generator)

    @classmethod
    def describe(cls, metrics: dict[str, float]) -> str:
        """`test bit accuracy 100.00%, exact-sum 99.95%, beyond training lengths 100.00%`."""
        parts = [f"test bit accuracy {metrics['test_accuracy']:.2%}"]
        parts.append(f"exact-sum {metrics['test_exact_accuracy']:.2%}")
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
        """Two non-negative integers -> their predicted sum in binary and decimal, right or
        wrong (with a warning beyond the trained length)."""
        if len(inputs) != 2:
            return _failure(" ".join(inputs) or "inputs", "give exactly two non-negative integers")
        numbers = []
        for text in inputs:
            if not text.isdigit():
                return _failure(text, "not a non-negative integer")
            numbers.append(int(text))
        a, b = numbers
        # One more bit than the longer operand, so the sum fits (as in training).
        length = max(a.bit_length(), b.bit_length(), 1) + 1
        bits = [[(a >> i) & 1, (b >> i) & 1] for i in range(length)]  # LSB first
        with torch.no_grad():
            logits = model(torch.tensor([bits], dtype=torch.float32)).reshape(length)
        predicted = sum(int(bit) << i for i, bit in enumerate((logits > 0).tolist()))
        longest = config["task"]["max_length"]
        note = (
            ""
            if length <= longest
            else f" ({length} bits is beyond the trained {longest}: less trustworthy)"
        )
        verdict = "right" if predicted == a + b else f"wrong, it is {a + b}"
        print(f"{a} + {b} = {predicted} (binary {predicted:b}, {verdict}){note}")
        return True


def _failure(name: str, why: str) -> bool:
    print(f"{name}: error: {why}")
    return False
