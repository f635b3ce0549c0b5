"""A typo on the command line: one line naming it, exit 2, nothing written (issue #24).

An unknown group option lists the group's options; an unknown key names the nearest
known key (or the node's keys). Built-in groups and a user's own `--config-dir` groups
alike, with and without -m, for `python -m sweeper` and the `sweeper` console script.
The subprocess tests check what the user sees; the in-process ones check many siblings
of each kind through `typo_error`, the entrypoint's check, at a tenth of the cost.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hydra.core.global_hydra import GlobalHydra

from conftest import ROOT, sweeper
from hydra_plugins.sweeper_search.configs import choose, unknown_option
from sweeper.cli import typo_error
from sweeper.run.validate import override_problem

PARITY = ROOT / "examples" / "custom_task"
ADDER_KEYS = (
    "_target_, name, min_length, max_length, extrapolation_lengths, fresh_data, "
    "train_size, val_size, test_per_length, data_seed"
)

# (command line, the one line on stderr after "sweeper: error: ")
TYPOS = [
    (["task=adderr"], "task=adderr: no such option; choose one of adder, memory, mnist"),
    (["loss=bce"], "loss=bce: no such option; choose ce or mse"),
    (["hparams_search=lrr"], "hparams_search=lrr: no such option; choose arch or lr"),
    (["trainer.epochz=3"], "trainer.epochz: no such key; did you mean trainer.epochs?"),
    (["task.pone=0.3"], f"task.pone: no such key; the keys of task are {ADDER_KEYS}"),
    (["model=lstmm"], "model=lstmm: no such option; choose one of bilstm, gru, lstm, rnn"),
    (["device=cudaa"], "device=cudaa: no such option; choose one of auto, cpu, cuda"),
    (["optim.lrr=0.1"], "optim.lrr: no such key; did you mean optim.lr?"),
    (["model.hiddenn=3"], "model.hiddenn: no such key; did you mean model.hidden?"),
    (["loss=ce,bce", "-m"], "loss=bce: no such option; choose ce or mse"),
    (["-m", "trainer.epochz=3,4"], "trainer.epochz: no such key; did you mean trainer.epochs?"),
]


@pytest.mark.parametrize(("args", "message"), TYPOS)
def test_a_typo_is_one_line_and_exit_2_with_nothing_written(tmp_path, args, message):
    result = sweeper(*args, "trainer.epochs=1", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [f"sweeper: error: {message}"]
    assert list(tmp_path.iterdir()) == []  # no outputs/, no multirun/


def test_the_console_script_says_the_same(tmp_path):
    code = "import sys; sys.argv[0] = 'sweeper'; from sweeper.__main__ import cli; cli()"
    result = sweeper("loss=bce", cwd=tmp_path, code=code)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "sweeper: error: loss=bce: no such option; choose ce or mse"
    ]
    script = Path(sys.executable).parent / "sweeper"
    if script.exists():  # the installed entry point itself (PYTHONPATH: this checkout)
        result = subprocess.run(
            [str(script), "trainer.epochz=3"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr.splitlines() == [
            "sweeper: error: trainer.epochz: no such key; did you mean trainer.epochs?"
        ]
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def parity(tmp_path: Path) -> Path:
    """examples/custom_task copied outside the repository."""
    folder = tmp_path / "my_project"
    shutil.copytree(PARITY, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["task=parityy"],
            "task=parityy: no such option; choose one of adder, memory, mnist, parity",
        ),
        (
            ["task=parity", "model=elmn"],
            "model=elmn: no such option; choose one of bilstm, elman, gru, lstm, rnn",
        ),
        (["task=parity", "task.pone=0.3"], "task.pone: no such key; did you mean task.p_one?"),
        (
            ["task=parity", "task.pone=0.3,0.4", "-m"],
            "task.pone: no such key; did you mean task.p_one?",
        ),
    ],
)
def test_a_typo_in_a_users_own_groups(parity, args, message):
    result = sweeper("--config-dir", "my_conf", *args, cwd=parity)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [f"sweeper: error: {message}"]
    assert not (parity / "outputs").exists() and not (parity / "multirun").exists()


@pytest.fixture
def fresh_hydra():
    """`typo_error` initialises Hydra itself, as the entrypoint does before `main()`."""
    assert not GlobalHydra.instance().is_initialized()
    yield
    assert not GlobalHydra.instance().is_initialized()  # and leaves it as it found it


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # group options, in every form a command line picks one
        (["task=adder,adderr", "-m"], "task=adderr: no such option; choose one of adder,"),
        (["loss=choice(ce,bce)", "-m"], "loss=bce: no such option; choose ce or mse"),
        (["+experiment=assignment_addr"], "experiment=assignment_addr: no such option; choose"),
        (
            ["+experiment=assignment_adder"],
            "+experiment=assignment_adder: experiment is in the defaults list already "
            "(experiment=null); write experiment=assignment_adder",
        ),
        (["experiment=assignment_addr"], "experiment=assignment_addr: no such option; choose"),
        (["logger=[csv,tensorbord]"], "logger=tensorbord: no such option; choose one of csv,"),
        (["trainer=defaultt"], "trainer=defaultt: no such option; choose default"),
        (["pruner=median", "multirun=gridd"], "multirun=gridd: no such option; choose grid"),
        (["hydra/launcher=jobliib"], "hydra/launcher=jobliib: no such option; choose one of basic"),
        (["hydra/sweeper/sampler=tpee"], "hydra/sweeper/sampler=tpee: no such option; choose"),
        # groups and keys
        (
            ["hydra/launcherr=joblib"],
            "hydra/launcherr: no such group; did you mean hydra/launcher?",
        ),
        (["los=ce"], "los: no such key; did you mean loss?"),
        (["optimm.lrr=0.1"], "optimm.lrr: no such key; did you mean optim.lr?"),
        (
            ["objective.metrc=val_loss"],
            "objective.metrc: no such key; did you mean objective.metric?",
        ),
        (["hydra.run.dirr=x"], "hydra.run.dirr: no such key; did you mean hydra.run.dir?"),
        (
            ["hparams_search=lr", "hydra.sweeper.n_trialz=3", "-m"],
            "hydra.sweeper.n_trialz: no such key; did you mean hydra.sweeper.n_trials?",
        ),
        (
            ["optim.lrr=tag(log, interval(0.001, 0.1))", "hparams_search=lr", "-m"],
            "optim.lrr: no such key; did you mean optim.lr?",
        ),
        (["model.hidden=3", "model.zzz=1"], "model.zzz: no such key; the keys of model are"),
        (["seed.x=1"], "seed.x: no such key; seed is a value (0), not a node of keys"),
        (["task={min_lenght:3}"], "task.min_lenght: no such key; did you mean task.min_length?"),
        (["~nokey"], "~nokey: no such key; the top-level keys are seed, output_dir, optim,"),
        (
            ["+trainer.epochs=3"],
            "+trainer.epochs: trainer.epochs is in the config already; write trainer.epochs=3",
        ),
        (
            ["+loss=mse"],
            "+loss=mse: loss is in the defaults list already (loss=ce); write loss=mse",
        ),
        (  # a key one point of the sweep lacks: that point is named
            ["task=memory,adder", "task.position=3", "-m"],
            "task.position (with task=adder): no such key; the keys of task are",
        ),
    ],
)
def test_every_kind_of_typo_is_named(fresh_hydra, args, message):
    assert (typo_error(args) or "").startswith(message)


@pytest.mark.parametrize(
    "args",
    [
        ["task=memory", "model=gru", "trainer.epochs=1", "task.position=3"],
        ["task=adder", "model.hidden=3,5,10", "loss=mse,ce", "-m"],
        ["hparams_search=lr", "hydra.sweeper.n_trials=4", "optim.lr=interval(0.01,0.1)", "-m"],
        ["+foo=1", "++trainer.epochs=3", "~logger", "experiment=assignment_adder"],
        ["logger=[csv,tensorboard]", "hydra/launcher=joblib", "hydra/sweeper/sampler=random"],
        ["task=mnist", "--cfg", "job"],
        ["--help"],
        ["model=glob(*)", "-m"],
    ],
)
def test_a_good_command_line_passes(fresh_hydra, args):
    assert typo_error(args) is None


def test_the_users_groups_need_their_config_dir(fresh_hydra, parity, monkeypatch):
    monkeypatch.chdir(parity)
    assert typo_error(["--config-dir", "my_conf", "task=parity", "model=elman"]) is None
    assert typo_error(["--config-dir=my_conf", "task=parity", "task.p_one=0.2"]) is None
    assert typo_error(["-cd", "my_conf", "task=parity,adder", "-m"]) is None
    without = typo_error(["task=parity"])
    assert without == "task=parity: no such option; choose one of adder, memory, mnist"


def test_a_group_only_a_users_config_dir_has(fresh_hydra, tmp_path):
    (tmp_path / "extra" / "data").mkdir(parents=True)
    (tmp_path / "extra" / "data" / "small.yaml").write_text("size: 3\n")
    (tmp_path / "extra" / "data" / "large.yaml").write_text("size: 9\n")
    folder = str(tmp_path / "extra")
    assert override_problem(["+data=small"], config_dir=folder) is None
    assert override_problem(["+data=smal"], config_dir=folder) == (
        "data=smal: no such option; choose large or small"
    )
    assert override_problem(["+data=small", "data.sise=1"], config_dir=folder) == (
        "data.sise: no such key; did you mean data.size?"
    )


def test_unknown_option_builds_the_one_line():
    assert choose(["default"]) == "choose default"
    assert choose(["ce", "mse"]) == "choose ce or mse"
    assert choose(["a", "b", "c"]) == "choose one of a, b, c"
    # by default, the groups this plugin registers (any Hydra app: no config loaded)
    assert unknown_option(["hydra/sweeper/sampler=tpee"]).startswith(
        "hydra/sweeper/sampler=tpee: no such option; choose one of tpe, motpe, random"
    )
    groups = {"loss": ["ce", "mse"]}
    assert unknown_option(["loss=ce,bce"], groups) == "loss=bce: no such option; choose ce or mse"
    assert unknown_option(["loss=range(1,3)"], groups) == "loss=1: no such option; choose ce or mse"
    for fine in (["loss=mse"], ["~loss"], ["loss=glob(*)"], ["loss=choice(ce,mse)"], ["x=bce"]):
        assert unknown_option(fine, groups) is None
