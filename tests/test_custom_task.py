"""A user's own task and model, from a folder outside the repository: examples/custom_task.

The example is copied to a temporary folder; it sweeps, searches, collects and
predicts there with no file of sweeper touched. The in-process tests check the
bad inputs a user's plugin can give: a class that does not implement the
protocol, a value of the wrong type, a key its schema lacks, a model whose
output does not fit the task.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import torch

from conftest import ROOT, compose_example, copy_example, sweeper
from sweeper.core.config import ConfigError
from sweeper.run.job import train
from sweeper.run.validate import validate

EXAMPLE = ROOT / "examples" / "custom_task"
# Tiny parity runs: a job takes well under a second of training.
TINY = [
    "task.train_size=256",
    "task.val_size=55",
    "task.test_per_length=10",
    "task.extrapolation_lengths=[14]",
    "trainer.epochs=2",
]


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """examples/custom_task copied outside the repository, importable as the sweep sees it."""
    return copy_example(EXAMPLE, tmp_path, monkeypatch, ("my_tasks", "my_models"))


def make(example: Path, *overrides: str):
    """The config `python -m sweeper --config-dir my_conf OVERRIDES` composes there."""
    return compose_example(example, list(overrides))


def test_adding_the_example_touched_no_file_in_sweeper():
    assert not list((ROOT / "sweeper").rglob("*parity*"))
    assert not list((ROOT / "sweeper").rglob("*elman*"))
    task_files = sorted(p.relative_to(EXAMPLE).as_posix() for p in EXAMPLE.rglob("*parity*"))
    assert task_files == ["my_conf/task/parity.yaml", "my_tasks/parity.py"]  # the two files


def test_parity_trains_in_process(example):
    cfg = make(example, "task=parity", *TINY)
    validate(cfg)
    value = train(cfg)
    record = json.loads((example / "run" / "metrics.json").read_text())
    assert record["objective_metric"] == "val_accuracy"  # the example tunes on validation too
    assert value == record["metrics"]["val_accuracy"] and 0.0 <= value <= 1.0
    assert (example / "run" / "by_length.csv").exists()


def test_the_custom_model_trains_in_process(example):
    cfg = make(example, "task=parity", "model=elman", "model.hidden=4", *TINY)
    train(cfg)
    saved = torch.load(example / "run" / "model.pt", weights_only=True)
    assert saved["model_target"] == "my_models.elman.ElmanRNN"
    assert saved["model_kwargs"] == {"hidden": 4, "input_size": 1, "output_size": 1}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("task.p_one=abc", "task.p_one must be a number, got 'abc'"),
        ("task.fresh_data=maybe", "task.fresh_data must be true or false, got 'maybe'"),
        ("task.train_size=2.5", "task.train_size must be an integer, got 2.5"),
        ("task.extrapolation_lengths=abc", "task.extrapolation_lengths must be a list, got 'abc'"),
        ("task.p_one=1.5", "task.p_one must be in (0, 1), got 1.5"),
        ("task.min_length=0", "task.min_length must be a positive integer, got 0"),
        ("task.extrapolation_lengths=[x]", "task.extrapolation_lengths[0]: Value 'x'"),
        ("+task.colour=red", "task.colour is not a setting of my_tasks.parity.ParityTask"),
        ("model.hidden=0", "model.hidden must be a positive integer, got 0"),
    ],
)
def test_bad_values_of_a_user_task_name_the_key(example, override, message):
    with pytest.raises(ConfigError) as error:
        validate(make(example, "task=parity", override))
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def write_module(example: Path, name: str, source: str) -> None:
    (example / "my_tasks" / f"{name}.py").write_text(textwrap.dedent(source))


def test_a_task_class_that_does_not_implement_the_protocol_is_refused(example):
    write_module(
        example,
        "broken",
        """
        import torch

        from sweeper.tasks.synthetic import SyntheticSequenceTask

        class NoData(SyntheticSequenceTask):
            kind = "bits"
            input_size = 1
            output_size = 1

        class NotATask:
            pass

        class InitBug(SyntheticSequenceTask):
            kind = "bits"
            input_size = 1
            output_size = 1

            def __init__(self, cfg, device, batch_size):
                raise KeyError("oops")

            def make(self, n, length, generator):
                raise NotImplementedError

        class OneHotBits(SyntheticSequenceTask):
            kind = "bits"
            input_size = 3
            output_size = 3

            def make(self, n, length, generator):
                symbols = torch.randint(0, 3, (n, length), generator=generator)
                x = torch.nn.functional.one_hot(symbols, 3).float()
                return x, x

        class NoSizes(SyntheticSequenceTask):
            kind = "bits"

            def make(self, n, length, generator):
                x = torch.randint(0, 2, (n, length, 1), generator=generator).float()
                return x, x[..., 0]

        class BadKind(NoData):
            kind = "regression"

            def make(self, n, length, generator):
                raise NotImplementedError
        """,
    )
    cases = {
        "my_tasks.broken.NoData": "does not implement make",
        "my_tasks.broken.NotATask": "is not a subclass of sweeper.tasks.base.Task",
        "my_tasks.broken.BadKind": "kind is 'regression', not one of bits, classes",
        "my_tasks.nothere.Task": "cannot be imported: module 'my_tasks' has no attribute 'nothere'",
    }
    for target, why in cases.items():
        with pytest.raises(ConfigError, match=f"^task._target_={target}.*{why}"):
            validate(make(example, "task=parity", f"task._target_={target}"))
    # what only building the task shows: no input and output sizes
    target = "my_tasks.broken.NoSizes"
    with pytest.raises(ConfigError, match=f"^task._target_={target} must set input_size"):
        train(make(example, "task=parity", f"task._target_={target}", "~task.p_one"))
    target = "my_tasks.broken.InitBug"
    with pytest.raises(ConfigError, match=f"^task._target_={target} could not be built: KeyError"):
        train(make(example, "task=parity", f"task._target_={target}", "~task.p_one"))
    # a bits task's targets are (batch, steps): one-hot symbols per step are refused
    target = "my_tasks.broken.OneHotBits"
    with pytest.raises(ConfigError, match=r"bits targets have shape \(2, \d+, 3\)"):
        train(make(example, "task=parity", f"task._target_={target}", "~task.p_one"))
    assert not (example / "run").exists()


def test_a_model_whose_output_does_not_fit_the_task_is_refused_before_training(example):
    (example / "my_models" / "flat.py").write_text(
        textwrap.dedent(
            """
            import torch

            class LastStep(torch.nn.Module):
                def __init__(self, input_size, output_size, hidden=4):
                    super().__init__()
                    self.rnn = torch.nn.RNN(input_size, hidden, batch_first=True)
                    self.head = torch.nn.Linear(hidden, output_size + 1)

                def forward(self, x):
                    return self.head(self.rnn(x)[0][:, -1])
            """
        )
    )
    (example / "my_conf" / "model" / "flat.yaml").write_text(
        "_target_: my_models.flat.LastStep\nhidden: 4\n"
    )
    cfg = make(example, "task=parity", "model=flat")
    with pytest.raises(ConfigError, match=r"^model._target_=my_models.flat.LastStep returns shape"):
        train(cfg)
    assert not (example / "run").exists()  # nothing written


@pytest.mark.slow
def test_the_example_sweeps_collects_and_predicts_from_its_own_folder(example):
    models = ["model=elman,lstm", "model.hidden=4,8"]
    grid = sweeper("--config-dir", "my_conf", "task=parity", *models, *TINY,
                   "hydra.sweep.dir=grid", "-m", cwd=example)  # fmt: skip
    assert grid.returncode == 0, grid.stderr[-3000:]
    results = pd.read_csv(example / "grid" / "results.csv")
    assert list(results["model.hidden"]) == [4, 8, 4, 8]
    assert set(results["model._target_"]) == {
        "my_models.elman.ElmanRNN",
        "sweeper.models.SequenceModel",
    }
    assert (results["status"] == "ok").all() and (results["task.name"] == "parity").all()
    assert (example / "grid" / "parity_accuracy_vs_length.png").exists()
    (example / "grid" / "summary.md").unlink()
    collect = sweeper("collect", "grid", cwd=example)
    assert collect.returncode == 0, collect.stderr[-3000:]
    assert "4 jobs collected" in collect.stdout and (example / "grid" / "summary.md").exists()
    for job in ("0", "1"):  # the custom model, then sweeper's LSTM
        predict = sweeper("predict", f"grid/{job}", "1011", "10x", cwd=example)
        assert predict.returncode == 1  # 10x is refused, 1011 answered
        lines = predict.stdout.splitlines()
        assert lines[0].startswith("1011: running parity ") and lines[1].startswith("10x: error:")


@pytest.mark.slow
def test_the_example_runs_a_four_trial_search_of_the_custom_model(example):
    search = sweeper("--config-dir", "my_conf", "task=parity", "model=elman", "hparams_search=lr",
                     "hydra.sweeper.n_trials=4", *TINY, "-m", cwd=example)  # fmt: skip
    assert search.returncode == 0, search.stderr[-3000:]
    folder = example / "multirun" / "search" / "parity-lr"
    results = pd.read_csv(folder / "results.csv")
    assert len(results) == 4 and (results["status"] == "ok").all()
    assert results["optim.lr"].nunique() == 4
    assert (folder / "optuna.db").exists() and (folder / "parity_accuracy_vs_length.png").exists()


def test_a_bad_value_of_a_user_task_fails_a_grid_before_any_job(example):
    result = sweeper("--config-dir", "my_conf", "task=parity", "task.p_one=0.5,2", *TINY,
                     "hydra.sweep.dir=grid", "-m", cwd=example)  # fmt: skip
    assert result.returncode == 2
    assert "1 of 2 grid points is invalid, nothing was run" in result.stderr
    assert "task.p_one must be in (0, 1), got 2" in result.stderr
    assert not (example / "grid").exists()


NO_HIDDEN = """
import torch

class PerStep(torch.nn.Module):
    '''A per-step linear map: no hidden size at all.'''

    def __init__(self, input_size, output_size, width=3):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(input_size, width), torch.nn.Tanh(), torch.nn.Linear(width, output_size)
        )

    def forward(self, x):
        return self.net(x)
"""


def write_model(example: Path, name: str, source: str, yaml: str) -> None:
    (example / "my_models" / f"{name}.py").write_text(textwrap.dedent(source))
    (example / "my_conf" / "model" / f"{name}.yaml").write_text(yaml)


def test_a_model_without_a_hidden_size_trains_on_a_task_that_recommends_one(example):
    """Every task's overlay sets model.hidden; a class that takes none is built without it."""
    write_model(example, "perstep", NO_HIDDEN, "_target_: my_models.perstep.PerStep\nwidth: 3\n")
    for task in ("parity", "adder"):
        cfg = make(example, f"task={task}", "model=perstep", *TINY[-1:])
        assert "hidden" in cfg.model  # the task's recommendation
        train(cfg)
        record = json.loads((example / "run" / "metrics.json").read_text())
        assert record["status"] == "ok", record.get("reason")
        assert "model.hidden" not in record["settings"] and record["settings"]["model.width"] == 3
        shutil.rmtree(example / "run")


def test_grids_refuse_bad_models_before_any_job(example):
    """A hidden size swept on a model that takes none, an output shape that does not fit
    the task: one line, exit 2, no sweep folder (the preflight builds each model once)."""
    write_model(example, "perstep", NO_HIDDEN, "_target_: my_models.perstep.PerStep\n")
    hidden = sweeper("--config-dir", "my_conf", "task=parity", "model=perstep", "model.hidden=4,8",
                     *TINY, "hydra.sweep.dir=grid1", "-m", cwd=example)  # fmt: skip
    assert hidden.returncode == 2, hidden.stderr[-2000:]
    assert "takes no hidden size, but the command line sets model.hidden=4" in hidden.stderr
    write_model(example, "wide", NO_HIDDEN.replace("output_size)", "output_size + 1)"),
                "_target_: my_models.wide.PerStep\n")  # fmt: skip
    shape = sweeper("--config-dir", "my_conf", "task=parity", "model=wide", "seed=0,1", *TINY,
                    "hydra.sweep.dir=grid2", "-m", cwd=example)  # fmt: skip
    assert shape.returncode == 2, shape.stderr[-2000:]
    assert "2 of 2 grid points are invalid" in shape.stderr and "returns shape" in shape.stderr
    assert not (example / "grid1").exists() and not (example / "grid2").exists()
