"""sweeper.core.optim gives torch.optim's numbers exactly, without importing torch._dynamo."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from conftest import CONF_DIR
from sweeper.core.optim import CosineSchedule, Optimizer
from sweeper.models import SequenceModel


def _train(use_torch: bool, name: str, schedule: bool, steps: int = 25) -> list[torch.Tensor]:
    torch.manual_seed(0)
    model = SequenceModel("lstm", 6, 3, 2, "each")
    data = torch.Generator().manual_seed(1)
    if use_torch:
        cls = torch.optim.Adam if name == "adam" else torch.optim.SGD
        optimizer = cls(model.parameters(), lr=0.05, weight_decay=0.01, fused=True)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    else:
        optimizer = Optimizer(model.parameters(), name, lr=0.05, weight_decay=0.01)
        scheduler = CosineSchedule(optimizer, total_steps=steps)
    for _ in range(steps):
        x = torch.randn(8, 5, 3, generator=data)
        optimizer.zero_grad()
        model(x).square().mean().backward()
        optimizer.step()
        if schedule:
            scheduler.step()
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("name", ["adam", "sgd"])
@pytest.mark.parametrize("schedule", [False, True])
def test_same_parameters_as_torch_optim_to_the_bit(name, schedule):
    ours = _train(False, name, schedule)
    theirs = _train(True, name, schedule)
    for a, b in zip(ours, theirs):
        assert torch.equal(a, b)


def _train_clipped(use_torch: bool, name: str, max_norm: float, steps: int = 25) -> list:
    torch.manual_seed(0)
    model = SequenceModel("lstm", 6, 3, 2, "each")
    data = torch.Generator().manual_seed(1)
    if use_torch:
        cls = torch.optim.Adam if name == "adam" else torch.optim.SGD
        optimizer = cls(model.parameters(), lr=0.05, fused=True)
    else:
        optimizer = Optimizer(
            model.parameters(), name, lr=0.05, weight_decay=0.0, grad_clip=max_norm
        )
    norms = []
    for _ in range(steps):
        x = torch.randn(8, 5, 3, generator=data)
        optimizer.zero_grad()
        (10 * model(x).square().mean()).backward()
        norms.append(float(torch.stack([p.grad.norm() for p in model.parameters()]).norm()))
        if use_torch:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()], norms


@pytest.mark.parametrize("name", ["adam", "sgd"])
@pytest.mark.parametrize("max_norm", [0.01, 1e6])
def test_clipping_inside_the_step_equals_clip_grad_norm(name, max_norm):
    ours, norms = _train_clipped(False, name, max_norm)
    theirs, _ = _train_clipped(True, name, max_norm)
    if max_norm < 1:  # the clipping case must clip at every step
        assert min(norms) > max_norm
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_clipped_gradients_have_the_clip_norm():
    param = torch.nn.Parameter(torch.ones(4))
    optimizer = Optimizer([param], "sgd", lr=0.0, weight_decay=0.0, grad_clip=0.5)
    (param * torch.tensor([3.0, 0.0, 4.0, 0.0])).sum().backward()  # gradient norm 5
    optimizer.step()
    torch.testing.assert_close(param.grad, torch.tensor([0.3, 0.0, 0.4, 0.0]))


def test_cosine_schedule_reaches_zero_and_stays_there():
    optimizer = Optimizer([torch.nn.Parameter(torch.ones(1))], "sgd", lr=0.1, weight_decay=0.0)
    schedule = CosineSchedule(optimizer, total_steps=4)
    rates = []
    for _ in range(6):
        schedule.step()
        rates.append(optimizer.lr)
    assert rates[1] == pytest.approx(0.05)
    assert rates[3:] == [0.0, 0.0, 0.0]


def test_parameters_without_gradients_are_left_alone():
    used, unused = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    optimizer = Optimizer([used, unused], "adam", lr=0.1, weight_decay=0.0)
    used.sum().backward()
    optimizer.step()
    assert torch.equal(unused, torch.ones(2)) and not torch.equal(used, torch.ones(2))


def test_unknown_optimizer_is_refused():
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        Optimizer([torch.nn.Parameter(torch.ones(1))], "rmsprop", lr=0.1, weight_decay=0.0)


def test_a_training_run_does_not_import_torch_dynamo(tmp_path):
    # torch._dynamo costs about a second per process; one stray torch.optim use brings it back.
    code = (
        "import sys\n"
        "from hydra import compose, initialize_config_dir\n"
        "from sweeper.run.job import train\n"
        f"with initialize_config_dir(config_dir={str(CONF_DIR)!r}, version_base='1.3'):\n"
        "    cfg = compose('config', overrides=['task=adder', 'trainer.epochs=1',"
        " 'task.train_size=128', 'optim.schedule=cosine', 'trainer.grad_clip=1.0',"
        f" 'output_dir={tmp_path.as_posix()}'])\n"
        "train(cfg)\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "False"
