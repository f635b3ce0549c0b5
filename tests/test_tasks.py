"""Each task's data: shapes, targets that are really right, splits and batching."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from sweeper.core.config import ConfigError
from sweeper.run.job import train
from sweeper.run.validate import validate
from sweeper.tasks import build_task
from sweeper.tasks.adder import bits_to_int, make_addition
from sweeper.tasks.memory import make_recall
from sweeper.tasks.mnist import MnistTask
from sweeper.tasks.synthetic import EVAL_STEPS

CPU = torch.device("cpu")


@pytest.mark.parametrize("length", [1, 2, 7, 20, 40, 62, 63, 64, 125, 200, 1000])
def test_adder_sum_really_is_a_plus_b(length):
    x, y = make_addition(300, length, torch.Generator().manual_seed(length))
    assert x.shape == (300, length, 2) and y.shape == (300, length)
    a, b, total = bits_to_int(x[..., 0]), bits_to_int(x[..., 1]), bits_to_int(y)
    assert all(ai + bi == si for ai, bi, si in zip(a, b, total))  # Python big-int addition
    assert max(a + b) < 2 ** (length - 1) or length == 1  # operands below 2^(L-1)
    assert length < 8 or max(a + b).bit_length() == length - 1  # ... and the top bits drawn
    assert set(x.unique().tolist()) <= {0.0, 1.0}


def _int64_addition(n: int, length: int, generator: torch.Generator):
    """The adder's data as made while lengths were capped at 62 (operands in one int64)."""
    operands = torch.randint(0, 2 ** (length - 1), (2, n), generator=generator)
    place = torch.arange(length)
    bits = (torch.cat([operands, operands.sum(0, keepdim=True)])[..., None] >> place) & 1
    return torch.stack([bits[0], bits[1]], dim=-1).float(), bits[2].float()


def test_adder_data_up_to_62_bits_is_what_it_was(make_cfg):
    # Recorded results stay reproducible: same seed, same sequences, same stream after.
    for length in range(1, 63):
        old, new = torch.Generator().manual_seed(length), torch.Generator().manual_seed(length)
        for n in (1, 64):
            expected, got = _int64_addition(n, length, old), make_addition(n, length, new)
            assert torch.equal(expected[0], got[0]) and torch.equal(expected[1], got[1])
        assert torch.equal(torch.rand(3, generator=old), torch.rand(3, generator=new))


def test_adder_evaluation_chunks_are_bounded_at_long_lengths(make_cfg):
    cfg = make_cfg("task.test_per_length=300", "task.extrapolation_lengths=[1000]")
    sets = build_task(cfg.task, CPU, cfg.trainer.batch_size).test_sets()
    assert [len(y) for _, y in sets[0].batches] == [300]  # short: one chunk, as ever
    long = sets[-1]
    assert long.length == 1000 and sum(len(y) for _, y in long.batches) == 300
    assert all(x.shape[0] * x.shape[1] <= EVAL_STEPS for x, _ in long.batches)
    assert len(long.batches) == 2


def test_adder_trains_and_tests_at_length_200_and_1000(make_cfg, tmp_path):
    cfg = make_cfg(
        "task.min_length=199",
        "task.max_length=200",
        "task.extrapolation_lengths=[1000]",
        "task.train_size=64",
        "task.val_size=8",
        "task.test_per_length=4",
        "trainer.epochs=1",
        "model.hidden=4",
    )
    validate(cfg)
    task = build_task(cfg.task, CPU, cfg.trainer.batch_size)
    for eval_set in task.test_sets():
        x = torch.cat([x for x, _ in eval_set.batches])
        y = torch.cat([y for _, y in eval_set.batches])
        a, b = bits_to_int(x[..., 0]), bits_to_int(x[..., 1])
        assert bits_to_int(y) == [ai + bi for ai, bi in zip(a, b)]
    train(cfg)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "ok", metrics["reason"]
    by_length = pd.read_csv(tmp_path / "run" / "by_length.csv")
    assert by_length["length"].tolist() == [199, 200, 1000]
    assert by_length["n"].tolist() == [4, 4, 4]


def test_adder_lsb_first_example():
    # 5 + 3 = 8 at length 4: a = 1010, b = 1100, sum = 0001 (LSB first)
    assert bits_to_int(torch.tensor([[1, 0, 1, 0]])) == [5]
    assert bits_to_int(torch.tensor([[0, 0, 0, 1]])) == [8]


def test_memory_target_is_the_digit_at_the_position():
    x, y = make_recall(200, 9, 2, torch.Generator().manual_seed(0))
    assert x.shape == (200, 9, 10) and y.shape == (200,)
    assert torch.equal(x.sum(-1), torch.ones(200, 9))  # one-hot
    assert torch.equal(x[:, 2].argmax(-1), y)


def test_fresh_training_batches_have_one_length_each(make_cfg):
    task = build_task(make_cfg("task=memory", "task.train_size=500").task, CPU, 64)
    batches = list(task.train_batches(torch.Generator().manual_seed(0)))
    assert len(batches) == task.num_train_batches == 8
    assert sum(len(y) for _, y in batches) == 500
    assert all(3 <= x.shape[1] <= 11 for x, _ in batches)
    again = list(task.train_batches(torch.Generator().manual_seed(0)))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(batches, again))


def test_fixed_training_set_is_the_same_every_epoch(make_cfg):
    cfg = make_cfg("task.fresh_data=false", "task.train_size=100", "trainer.batch_size=1")
    task = build_task(cfg.task, CPU, cfg.trainer.batch_size)
    generator = torch.Generator().manual_seed(0)
    first = list(task.train_batches(generator))
    second = list(task.train_batches(generator))
    assert len(first) == len(second) == 100
    key = lambda batches: sorted(tuple(x.flatten().tolist()) for x, _ in batches)  # noqa: E731
    assert key(first) == key(second)  # same sequences, shuffled
    assert [x.shape[1] for x, _ in first] != [x.shape[1] for x, _ in second]


def test_eval_sets_cover_every_length_and_are_fixed_by_data_seed(make_cfg):
    cfg = make_cfg()
    sets = build_task(cfg.task, CPU, cfg.trainer.batch_size).test_sets()
    assert [(s.split, s.length) for s in sets] == [("test", n) for n in range(1, 21)] + [
        ("extrapolation", 24)
    ]
    assert all(sum(len(y) for _, y in s.batches) == 20 for s in sets)
    other_seed = build_task(make_cfg("seed=5").task, CPU, 64).test_sets()
    assert torch.equal(sets[5].batches[0][0], other_seed[5].batches[0][0])


def test_mnist_loads_idx_files_and_splits_stratified(make_cfg, mnist_root):
    cfg = make_cfg("task=mnist", f"task.data_root={mnist_root}", "task.val_size=100")
    task = MnistTask(cfg.task, CPU, 50)
    assert task.train_x.shape == (500, 28, 28) and task.val_x.shape == (100, 28, 28)
    assert task.test_x.shape == (200, 28, 28)
    assert 0.0 <= float(task.train_x.min()) and float(task.train_x.max()) == 1.0
    # stratified: every class keeps its share (10 % each) in the validation split
    assert np.bincount(task.val_y.numpy(), minlength=10).tolist() == [10] * 10
    assert np.bincount(task.train_y.numpy(), minlength=10).tolist() == [50] * 10
    batches = list(task.train_batches(torch.Generator().manual_seed(0)))
    assert [len(y) for _, y in batches] == [50] * 10


def test_mnist_pixel_statistics_come_from_the_training_split(make_cfg, mnist_root):
    cfg = make_cfg("task=mnist", f"task.data_root={mnist_root}", "task.val_size=100")
    task = MnistTask(cfg.task, CPU, 50)
    assert task.input_mean == pytest.approx(float(task.train_x.mean()))
    assert task.input_std == pytest.approx(float(task.train_x.std()))
    assert 0.0 < task.input_mean < 0.5 and task.input_std > 0.1
    raw = MnistTask(
        make_cfg("task=mnist", f"task.data_root={mnist_root}", "task.normalize=false").task,
        CPU,
        50,
    )
    assert (raw.input_mean, raw.input_std) == (0.0, 1.0)


def test_mnist_readouts(make_cfg, mnist_root):
    task = MnistTask(make_cfg("task=mnist", f"task.data_root={mnist_root}").task, CPU, 50)
    assert task.readout("auto", bidirectional=False) == "flatten"
    assert task.readout("auto", bidirectional=True) == "final"
    assert task.readout("last", bidirectional=True) == "last"
    with pytest.raises(ConfigError, match="model.readout=each does not fit task mnist"):
        task.readout("each", bidirectional=False)


def test_mnist_missing_files_say_which_files_go_where(make_cfg, tmp_path):
    cfg = make_cfg("task=mnist", f"task.data_root={tmp_path / 'empty'}", "task.download=false")
    with pytest.raises(ConfigError) as caught:
        MnistTask(cfg.task, CPU, 50)
    message = str(caught.value)
    assert "train-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert str(tmp_path / "empty" / "MNIST" / "raw") in message and "\n" not in message


def test_fashion_mnist_reads_its_own_folder(make_cfg, mnist_root):
    (mnist_root / "MNIST").rename(mnist_root / "FashionMNIST")
    cfg = make_cfg("task=mnist", f"task.data_root={mnist_root}", "task.dataset=fashion_mnist")
    assert MnistTask(cfg.task, CPU, 50).test_x.shape == (200, 28, 28)
