"""The one model class: every cell, both directions, every readout, and the losses."""

from __future__ import annotations

import pytest
import torch

from sweeper.losses import count_correct, make_loss
from sweeper.models import SequenceModel


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize(
    ("readout", "shape"), [("each", (4, 7, 3)), ("last", (4, 3)), ("flatten", (4, 3))]
)
def test_output_shapes(cell, bidirectional, readout, shape):
    model = SequenceModel(
        cell,
        hidden=5,
        input_size=2,
        output_size=3,
        readout=readout,
        layers=2,
        bidirectional=bidirectional,
        seq_len=7,
    )
    assert model(torch.randn(4, 7, 2)).shape == shape


def test_last_readout_reads_the_last_step_of_both_directions():
    model = SequenceModel(
        "gru", hidden=4, input_size=2, output_size=1, readout="last", bidirectional=True
    )
    x = torch.randn(3, 6, 2)
    out, h_n = model.rnn(x)
    assert torch.allclose(model(x), model.head(out[:, -1]), atol=1e-6)
    assert torch.allclose(out[:, -1, :4], h_n[0], atol=1e-6)  # forward: its final state


def test_flatten_needs_a_length():
    with pytest.raises(ValueError, match="fixed sequence length"):
        SequenceModel("lstm", 4, 2, 1, "flatten")


def test_losses_for_bits_and_classes():
    logits = torch.tensor([[5.0, -5.0]])
    bits = torch.tensor([[1.0, 0.0]])
    assert make_loss("ce", "bits")(logits, bits) < 0.01
    assert make_loss("mse", "bits")(logits, bits) < 0.001
    assert make_loss("ce", "bits")(-logits, bits) > 4
    class_logits = torch.tensor([[0.0, 9.0, 0.0]])
    label = torch.tensor([1])
    assert make_loss("ce", "classes")(class_logits, label) < 0.001
    assert make_loss("mse", "classes")(class_logits, torch.tensor([0])) > 0.6


def test_count_correct():
    logits = torch.tensor([[1.0, -1.0, 1.0], [1.0, 1.0, 1.0]])
    bits = torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 1.0]])
    assert count_correct(logits, bits, "bits") == (5, 6, 1, 2)
    assert count_correct(torch.eye(3), torch.tensor([0, 2, 2]), "classes") == (2, 3, 2, 3)
