"""Config composition of every group option, and the one-line errors for bad values."""

from __future__ import annotations

import pytest
import torch
from hydra.errors import ConfigCompositionException, HydraException
from omegaconf import OmegaConf

from conftest import CONF_DIR, ROOT
from sweeper.cli import ArgumentError, rewrite_overrides
from sweeper.core.config import ConfigError
from sweeper.reports.stats import metric_split
from sweeper.run.job import train
from sweeper.run.validate import validate


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def test_every_group_has_its_options():
    assert options("task") == ["adder", "memory", "mnist"]
    assert options("model") == ["bilstm", "gru", "lstm", "rnn"]
    assert options("loss") == ["ce", "mse"]
    assert options("device") == ["auto", "cpu", "cuda"]
    assert options("trainer") == ["default"]
    assert not (CONF_DIR / "hidden_size").exists()  # one spelling: model.hidden
    assert options("experiment") == [
        "assignment_adder",
        "assignment_memory",
        "assignment_mnist",
        "memory_hidden2",
        "mnist_tuned",
    ]
    assert options("hparams_search") == ["arch", "lr"]


@pytest.mark.parametrize("task", options("task"))
@pytest.mark.parametrize("model", options("model"))
@pytest.mark.parametrize("loss", options("loss"))
def test_task_model_loss_compose_and_validate(make_cfg, task, model, loss):
    cfg = make_cfg(f"task={task}", f"model={model}", f"loss={loss}", "device=cpu", fast=False)
    validate(cfg)
    assert cfg.task.name == task
    assert cfg.loss.name == loss
    assert cfg.model.cell == ("lstm" if model == "bilstm" else model)
    assert cfg.model.bidirectional is (model == "bilstm")


def test_defaults_are_the_adder_with_an_lstm(make_cfg):
    cfg = make_cfg(fast=False)
    assert (cfg.task.name, cfg.model.cell, cfg.loss.name, cfg.device.name) == (
        "adder",
        "lstm",
        "ce",
        "auto",
    )
    assert cfg.objective.metric == "val_accuracy"


CHOICES = [f"task={t}" for t in options("task")]
CHOICES += [f"experiment={e}" for e in options("experiment")]


@pytest.mark.parametrize("choice", CHOICES)
def test_every_default_objective_is_a_validation_metric(make_cfg, choice):
    # a search optimises the objective: it must never be chosen on the test set (issue 14)
    cfg = make_cfg(choice, fast=False)
    assert metric_split(cfg.objective.metric) == "validation split", cfg.objective.metric


def test_the_example_task_also_tunes_on_validation():
    example = ROOT / "examples" / "custom_task" / "my_conf" / "task"
    for path in example.glob("*.yaml"):
        metric = OmegaConf.load(path).objective.metric
        assert metric_split(metric) == "validation split", f"{path.name}: {metric}"


def test_task_sets_its_own_training_defaults(make_cfg):
    mnist = make_cfg("task=mnist", fast=False)
    assert (mnist.model.hidden, mnist.trainer.batch_size, mnist.optim.lr) == (128, 100, 0.001)
    assert mnist.objective.metric == "val_accuracy"
    memory = make_cfg("task=memory", fast=False)
    assert memory.task.position == 2
    assert (memory.task.min_length, memory.task.max_length) == (3, 11)


def test_each_task_yaml_names_its_class_and_sets_its_trainer_defaults(make_cfg):
    for task, target in [
        ("adder", "sweeper.tasks.adder.AdderTask"),
        ("memory", "sweeper.tasks.memory.MemoryTask"),
        ("mnist", "sweeper.tasks.mnist.MnistTask"),
    ]:
        cfg = make_cfg(f"task={task}", fast=False)
        assert cfg.task._target_ == target
        assert "epochs" not in cfg.task and "batch_size" not in cfg.task
    assert make_cfg("task=memory", fast=False).trainer.stop_epochs == 2
    assert make_cfg("task=mnist", fast=False).trainer.precision == "auto"
    assert make_cfg("task=adder", fast=False).trainer.grad_clip == 1.0
    assert make_cfg("task=adder", "trainer.epochs=3", fast=False).trainer.epochs == 3


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["hidden_size=3,5,10"], ["model.hidden=3,5,10"]),
        (["hidden_size='3','5'"], ["model.hidden=3,5"]),
        (["hidden_size=choice(3,5)"], ["model.hidden=choice(3,5)"]),
        (["hidden_size=range(2,8,2)", "seed=1"], ["model.hidden=range(2,8,2)", "seed=1"]),
        (["+hidden_size=4"], ["+model.hidden=4"]),
        (["model.hidden=4", "-m"], ["model.hidden=4", "-m"]),
    ],
)
def test_hidden_size_is_rewritten_to_model_hidden(given, expected):
    assert rewrite_overrides(given) == expected


def test_both_hidden_spellings_at_once_are_refused():
    with pytest.raises(ArgumentError, match="hidden size is given twice"):
        rewrite_overrides(["hidden_size=3", "model.hidden=5"])


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("task.epochs", "trainer.epochs"),
        ("task.batch_size", "trainer.batch_size"),
        ("task.stop_epochs", "trainer.stop_epochs"),
        ("optim.grad_clip", "trainer.grad_clip"),
        ("device.precision", "trainer.precision"),
    ],
)
def test_a_moved_key_fails_with_a_hint(old, new):
    with pytest.raises(ArgumentError, match=f"^{old} moved to {new}"):
        rewrite_overrides([f"{old}=3"])


@pytest.mark.parametrize("device", ["auto", "cpu"])
def test_device_options(make_cfg, device):
    cfg = make_cfg(f"device={device}", fast=False)
    validate(cfg)
    assert cfg.device.name == device


def test_assignment_presets(make_cfg):
    adder = make_cfg("experiment=assignment_adder", fast=False)
    assert adder.task.name == "adder"
    assert (adder.task.fresh_data, adder.task.train_size, adder.task.val_size) == (False, 500, 100)
    assert (adder.trainer.batch_size, adder.trainer.epochs, adder.optim.lr) == (1, 10, 0.001)
    assert adder.trainer.patience == 0 and adder.trainer.stop_accuracy is None
    memory = make_cfg("experiment=assignment_memory", fast=False)
    assert (memory.task.name, memory.task.train_size, memory.trainer.epochs) == ("memory", 900, 20)
    assert (memory.trainer.batch_size, memory.optim.lr) == (1, 0.002)
    # the assignment's loops neither clipped gradients nor (mnist) used bf16
    assert adder.trainer.grad_clip == 0 and memory.trainer.grad_clip == 0
    mnist = make_cfg("experiment=assignment_mnist", "model=bilstm", fast=False)
    assert (mnist.task.name, mnist.model.hidden, mnist.trainer.epochs) == ("mnist", 128, 10)
    assert mnist.model.bidirectional and mnist.task.normalize is False  # ToTensor pixels
    assert mnist.trainer.precision == "fp32"


def test_tuned_mnist_preset(make_cfg):
    cfg = make_cfg("experiment=mnist_tuned", fast=False)
    assert (cfg.task.name, cfg.model.cell, cfg.model.hidden, cfg.model.bidirectional) == (
        "mnist",
        "lstm",
        128,
        False,
    )
    assert (cfg.optim.lr, cfg.optim.schedule, cfg.trainer.epochs, cfg.trainer.batch_size) == (
        0.002,
        "cosine",
        20,
        100,
    )


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("model.hidden=0", "model.hidden"),
        ("model.hidden=abc", "model.hidden"),
        ("model.layers=-1", "model.layers"),
        ("optim.lr=-1", "optim.lr"),
        ("optim.lr=fast", "optim.lr"),
        ("trainer.epochs=-3", "trainer.epochs"),
        ("trainer.epochs=2.5", "trainer.epochs"),
        ("trainer.batch_size=0", "trainer.batch_size"),
        ("task.max_length=0", "task.max_length"),
        ("task.extrapolation_lengths=[0]", "task.extrapolation_lengths"),
        ("loss.name=hinge", "loss.name"),
        ("model.readout=sideways", "model.readout"),
        ("objective.direction=up", "objective.direction"),
        ("seed=-1", "seed"),
        ("trainer.stop_accuracy=2", "trainer.stop_accuracy"),
        ("trainer.stop_epochs=0", "trainer.stop_epochs"),
        ("trainer.precision=fp16", "trainer.precision"),
        ("model.init=xavier", "model.init"),
    ],
)
def test_bad_values_name_the_key(make_cfg, override, key):
    cfg = make_cfg(override)
    with pytest.raises(ConfigError) as caught:
        validate(cfg)
    message = str(caught.value)
    assert message.startswith(key) and "\n" not in message


def test_mnist_normalize_must_be_a_boolean(make_cfg, mnist_root):
    with pytest.raises(ConfigError, match="^task.normalize"):
        validate(make_cfg("task=mnist", f"task.data_root={mnist_root}", "task.normalize=maybe"))


def test_bad_value_leaves_no_run_files(make_cfg, tmp_path):
    cfg = make_cfg("model.hidden=0", out=tmp_path / "bad")
    with pytest.raises(ConfigError, match="model.hidden must be a positive integer, got 0"):
        train(cfg)
    assert not (tmp_path / "bad" / "metrics.json").exists()


def test_memory_position_must_fit_the_shortest_sequence(make_cfg):
    with pytest.raises(ConfigError, match="task.position"):
        validate(make_cfg("task=memory", "task.position=3"))


def test_readout_must_fit_the_task(make_cfg):
    with pytest.raises(ConfigError, match="model.readout=last does not fit task adder"):
        train(make_cfg("model.readout=last"))


def test_cuda_without_gpu_is_a_clear_error(make_cfg, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="device.name=cuda but no CUDA GPU"):
        validate(make_cfg("device=cuda"))


def test_unknown_task_is_rejected_by_hydra(make_cfg):
    with pytest.raises((ConfigCompositionException, HydraException), match="task/nope"):
        make_cfg("task=nope")


def test_unknown_key_is_rejected_by_hydra(make_cfg):
    with pytest.raises((ConfigCompositionException, HydraException), match="epochz"):
        make_cfg("task.epochz=3")


def test_lr_search_overlay_composes_the_search_sweeper():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            "config", overrides=["task=memory", "hparams_search=lr"], return_hydra_config=True
        )
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_ == "hydra_plugins.sweeper_search.search_sweeper.SearchSweeper"
    assert sweeper.study_name == "memory-lr" and sweeper.direction == "maximize"
    assert sweeper.params["optim.lr"] == "tag(log, interval(0.0001, 0.1))"
    assert sweeper.sampler.seed == 0 and sweeper.max_failure_rate == 1.0
    assert cfg.hydra.sweep.dir == "multirun/search/memory-lr"
    assert sweeper.storage == "sqlite:///multirun/search/memory-lr/optuna.db"


def test_thread_count_outside_hydra_and_when_set():
    from sweeper.core.config import thread_count

    assert thread_count(None) is None
    assert thread_count(3) == 3


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        ("optim.lr", "must be a finite number > 0"),
        ("optim.weight_decay", "must be a finite number >= 0"),
        ("trainer.grad_clip", "must be a finite number >= 0"),
        ("model.dropout", "must be a number in [0, 1)"),
        ("trainer.stop_accuracy", "must be null or a number in (0, 1]"),
    ],
)
@pytest.mark.parametrize("value", ["inf", "-inf", "nan"])
def test_every_number_key_refuses_inf_and_nan(make_cfg, key, rule, value):
    cfg = make_cfg(f"{key}={value}")
    with pytest.raises(ConfigError) as error:
        validate(cfg)
    assert str(error.value) == f"{key} {rule}, got {float(value)!r}"


@pytest.mark.parametrize("sampler", ["grid", "random", "nsgaii", "qmc", "motpe", "bruteforce"])
def test_every_sampler_composes_under_the_lr_preset(sampler):
    # The preset sets sampler.seed: ${seed}; every sampler takes a seed (grid too).
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            "config",
            overrides=["hparams_search=lr", f"hydra/sweeper/sampler={sampler}", "seed=3"],
            return_hydra_config=True,
        )
    assert cfg.hydra.sweeper.sampler.seed == 3
    assert cfg.hydra.sweeper.sampler._target_.startswith("optuna.samplers.")


def test_the_optuna_name_selects_the_same_sweeper():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=["hydra/sweeper=optuna"], return_hydra_config=True)
    assert cfg.hydra.sweeper._target_ == "hydra_plugins.sweeper_search.search_sweeper.SearchSweeper"
    assert cfg.hydra.sweeper.direction is None  # follows objective.direction for sweeper's jobs
