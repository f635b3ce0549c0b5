"""The one model class: every cell, both directions, every readout, and the losses."""

from __future__ import annotations

import pytest
import torch

from sweeper.core.config import ConfigError
from sweeper.core.losses import make_loss
from sweeper.core.targets import BITS, CLASSES
from sweeper.models import SequenceModel


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize(
    ("readout", "shape"),
    [("each", (4, 7, 3)), ("last", (4, 3)), ("final", (4, 3)), ("flatten", (4, 3))],
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


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_final_readout_reads_each_directions_final_state(cell):
    model = SequenceModel(
        cell, hidden=4, input_size=2, output_size=1, readout="final", bidirectional=True, layers=2
    )
    x = torch.randn(3, 6, 2)
    out, _ = model.rnn(x)  # top layer: forward in [..., :4], backward in [..., 4:]
    # the backward direction ends at the first step, having read the whole sequence
    expected = torch.cat([out[:, -1, :4], out[:, 0, 4:]], dim=-1)
    assert torch.allclose(model(x), model.head(expected), atol=1e-6)
    one_way = SequenceModel(cell, hidden=4, input_size=2, output_size=1, readout="final")
    last = SequenceModel(cell, hidden=4, input_size=2, output_size=1, readout="last")
    last.load_state_dict(one_way.state_dict())
    assert torch.allclose(one_way(x), last(x), atol=1e-6)  # one direction: final is last


def test_inputs_are_standardised_inside_the_model():
    torch.manual_seed(0)
    plain = SequenceModel("lstm", 4, 2, 3, "last")
    standardising = SequenceModel("lstm", 4, 2, 3, "last", input_mean=0.5, input_std=0.25)
    standardising.load_state_dict(plain.state_dict())
    x = torch.rand(3, 5, 2)
    assert torch.allclose(standardising(x), plain((x - 0.5) / 0.25), atol=1e-6)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_orthogonal_init(cell):
    model = SequenceModel(
        cell, hidden=6, input_size=3, output_size=2, readout="last", init="orthogonal"
    )
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    for block in model.rnn.weight_hh_l0.detach().chunk(gates):
        assert torch.allclose(block @ block.T, torch.eye(6), atol=1e-5)
    bias = model.rnn.bias_ih_l0.detach()
    if cell == "lstm":  # forget gate (second block) starts open
        assert torch.equal(bias.chunk(4)[1], torch.ones(6))
        assert torch.count_nonzero(bias) == 6
    else:
        assert torch.count_nonzero(bias) == 0
    assert torch.count_nonzero(model.rnn.bias_hh_l0) == 0
    with pytest.raises(ValueError, match="unknown init"):
        SequenceModel(cell, 6, 3, 2, "last", init="xavier")


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


def test_target_kinds_count_and_summarize_what_is_right():
    logits = torch.tensor([[1.0, -1.0, 1.0], [1.0, 1.0, 1.0]])
    bits = torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 1.0]])
    assert BITS.summarize(BITS.tally(logits, bits)) == {
        "accuracy": 5 / 6,
        "exact_accuracy": 1 / 2,
    }
    classes = CLASSES.summarize(CLASSES.tally(torch.eye(3), torch.tensor([0, 2, 2])))
    assert classes == {"accuracy": 2 / 3}


def test_a_loss_the_target_kind_does_not_take_is_refused_naming_loss_name():
    class Values(type(BITS)):
        name = "values"
        losses = ("mse",)

    with pytest.raises(ConfigError, match=r"^loss.name=ce: the task's values targets take mse$"):
        make_loss("ce", Values())
    with pytest.raises(ValueError, match="unknown target kind"):
        make_loss("ce", "regression")
