"""sweeper.sweeps.compose: a job's config made from an earlier job's is Hydra's own.

Each case composes a sequence of jobs through `ComposeOnce` and through Hydra's loader
alone and asks for the same configs (every key, the `hydra` node, struct and read-only
flags) and for how many full compositions were needed.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from conftest import CONF_DIR
from sweeper.sweeps.compose import ComposeOnce, compose_once


@pytest.fixture
def loader(tmp_path: Path) -> Iterator:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        yield GlobalHydra.instance().config_loader()


def master(loader, tmp_path: Path, hydra_overrides: list[str] = ()) -> DictConfig:
    """A multirun's config, as Hydra hands it to a sweeper."""
    return loader.load_configuration(
        config_name="config",
        overrides=[f"hydra.sweep.dir={tmp_path / 'sweep'}", *hydra_overrides],
        run_mode=RunMode.MULTIRUN,
    )


def snapshot(cfg: DictConfig) -> tuple:
    return (
        OmegaConf.to_container(cfg, resolve=False),
        OmegaConf.is_struct(cfg),
        OmegaConf.is_readonly(cfg.hydra),
        OmegaConf.is_struct(cfg.hydra),
    )


def same_as_hydra(loader, tmp_path, jobs: list[list[str]], hydra_overrides=()) -> int:
    """Compose `jobs` both ways, assert equal configs; the full compositions needed."""
    cfg = master(loader, tmp_path, list(hydra_overrides))
    once = ComposeOnce(loader)
    for overrides in jobs:
        ours = once.load_sweep_config(cfg, overrides)
        hydras = loader.load_sweep_config(cfg, overrides)
        assert snapshot(ours) == snapshot(hydras), overrides
        ours.hydra.job.id = 7  # what a launcher does next must not reach a later job
    return once.composed


def test_a_searchs_trials_are_composed_once(loader, tmp_path):
    jobs = [["task=adder", f"optim.lr={lr}"] for lr in (0.001, 0.0031, 0.02, 1e-05)]
    assert same_as_hydra(loader, tmp_path, jobs) == 1


def test_a_grid_is_composed_once_per_group_choice(loader, tmp_path):
    jobs = [
        ["task=adder", f"model.hidden={hidden}", f"loss={loss}"]
        for hidden in (3, 5, 10)
        for loss in ("mse", "ce")
    ]
    assert same_as_hydra(loader, tmp_path, jobs) == 2


def test_values_of_every_kind_and_the_override_dirname(loader, tmp_path):
    jobs = [
        ["seed=0", "optim.name=adam", "trainer.stop_accuracy=null", "trainer.keep_best=true"],
        ["seed=4", "optim.name='sgd'", "trainer.stop_accuracy=0.9", "trainer.keep_best=false"],
        ["seed=abc", "optim.name=x y", "trainer.stop_accuracy=1", "trainer.keep_best=1"],
        ["seed=${trainer.epochs}", "optim.name=", "trainer.stop_accuracy=1e3",
         "trainer.keep_best=0"],
    ]  # fmt: skip
    exclude = ["hydra.job.config.override_dirname.exclude_keys=[seed]"]
    assert same_as_hydra(loader, tmp_path, jobs, hydra_overrides=exclude) == 1


def test_overrides_that_interpolate_are_kept_unresolved(loader, tmp_path):
    """`hydra.sweep.subdir=trial_${hydra.job.num}` on the command line: Hydra keeps the
    line as written (job.num is only known per job), and so must the copy."""
    jobs = [[f"optim.lr={lr}", "+note=lr_${optim.lr}"] for lr in (0.1, 0.2)]
    subdir = ["hydra.sweep.subdir=trial_${hydra.job.num}"]
    assert same_as_hydra(loader, tmp_path, jobs, hydra_overrides=subdir) == 1


def test_a_plain_apps_trials_are_composed_once(loader, tmp_path):
    """What a search hands a plain app's jobs: `+key=` values and the trial's environment."""
    jobs = [
        [f"+x={x}", f"+y={y}", "++hydra.job.env_set.SWEEPER_STUDY='s'",
         f"++hydra.job.env_set.SWEEPER_TRIAL='{trial}'"]
        for trial, (x, y) in enumerate([(1.5, -2), (0.25, 3.5), (-4, 0)])
    ]  # fmt: skip
    assert same_as_hydra(loader, tmp_path, jobs, hydra_overrides=["hydra.job.name=app"]) == 1


def test_an_add_and_a_change_of_one_key_are_two_shapes(loader, tmp_path):
    cfg = master(loader, tmp_path)
    once = ComposeOnce(loader)
    once.load_sweep_config(cfg, ["+x=1"])
    with pytest.raises(ConfigCompositionException, match="'x'"):
        once.load_sweep_config(cfg, ["x=2"])  # x is not in the config: Hydra refuses
    with pytest.raises(ConfigCompositionException):
        once.load_sweep_config(cfg, ["+seed=2"])  # seed is: `+` refused
    with pytest.raises(ConfigCompositionException):
        loader.load_sweep_config(cfg, ["+seed=2"])


def test_what_is_not_a_plain_value_is_composed_by_hydra(loader, tmp_path):
    jobs = [
        ["+extra=[1]", "optim.lr=0.1"],
        ["+extra=[2]", "optim.lr=0.1"],  # a list: its line is the shape
        ["optim={lr: 0.5}"],  # a dict value merges: never from a template
        ["optim={lr: 0.6}"],
        ["trainer.batch_size=[1,2]"],
        ["trainer.batch_size=[3]"],
        ["~optim.schedule", "optim.lr=0.2"],
        ["hydra.job.name=a", "optim.lr=0.1"],
        ["hydra.job.name=b", "optim.lr=0.1"],  # a Hydra key: its line is the shape
        ["++hydra.job.env_set.A=1", "hydra.job.chdir=true"],
        ["++hydra.job.env_set.A=2", "hydra.job.chdir=false"],
        ["model=gru", "model.hidden=3"],
        ["model=rnn", "model.hidden=3"],
        ["model=gru", "model.hidden=4"],  # from the first's template
    ]
    assert same_as_hydra(loader, tmp_path, jobs) == len(jobs) - 1


def test_a_bad_override_still_fails_as_hydra_fails(loader, tmp_path):
    cfg = master(loader, tmp_path)
    once = ComposeOnce(loader)
    once.load_sweep_config(cfg, ["optim.lr=0.1"])
    with pytest.raises(ConfigCompositionException, match="optim.nope"):
        once.load_sweep_config(cfg, ["optim.nope=0.1"])
    with pytest.raises(ConfigCompositionException, match="optim.nope"):
        loader.load_sweep_config(cfg, ["optim.nope=0.1"])


def test_it_can_be_turned_off_for_comparison(loader, tmp_path, monkeypatch):
    monkeypatch.setenv("SWEEPER_COMPOSE_EVERY_JOB", "1")
    jobs = [["task=adder", f"optim.lr={lr}"] for lr in (0.001, 0.002, 0.003)]
    assert same_as_hydra(loader, tmp_path, jobs) == 3


def test_pickled_it_travels_without_its_templates(loader, tmp_path):
    cfg = master(loader, tmp_path)
    once = ComposeOnce(loader)
    once.load_sweep_config(cfg, ["optim.lr=0.1"])
    copy = pickle.loads(pickle.dumps(once))
    assert copy._templates == {} and once._templates
    assert snapshot(copy.load_sweep_config(cfg, ["optim.lr=0.2"])) == snapshot(
        loader.load_sweep_config(cfg, ["optim.lr=0.2"])
    )


def test_the_rest_of_the_loader_is_hydras(loader):
    once = ComposeOnce(loader)
    assert sorted(once.get_group_options("loss")) == ["ce", "mse"]
    assert once.repository is loader.repository
    assert once.get_search_path() is loader.get_search_path()


def test_a_context_is_wrapped_once(loader):
    from hydra.types import HydraContext

    context = compose_once(HydraContext(config_loader=loader, callbacks=None))
    assert isinstance(context.config_loader, ComposeOnce)
    assert compose_once(context) is context


def job_files(sweep: Path) -> dict[str, object]:
    """Every job's three Hydra files (the sweep folder's path blanked) and its metrics."""
    import json

    files: dict[str, object] = {}
    for job in sorted(p for p in sweep.iterdir() if (p / "metrics.json").exists()):
        for name in ("config.yaml", "hydra.yaml", "overrides.yaml"):
            text = (job / ".hydra" / name).read_text().replace(str(sweep), "SWEEP")
            files[f"{job.name}/{name}"] = text
        record = json.loads((job / "metrics.json").read_text())
        files[f"{job.name}/metrics"] = (record["status"], record["metrics"])
    return files


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind",
    [
        ["model.hidden=3,5", "loss=mse,ce", "seed=0"],
        ["hparams_search=lr", "hydra.sweeper.n_trials=3"],
    ],
    ids=["grid", "search"],
)
def test_a_sweeps_jobs_are_the_same_both_ways(tmp_path, kind):
    """A grid and a search run with compose once (the default) and with Hydra composing
    every job: the same job configs byte for byte, the same metrics."""
    from conftest import SMALL_RUN, sweeper

    swept = {}
    for way, env in (("once", {}), ("every", {"SWEEPER_COMPOSE_EVERY_JOB": "1"})):
        sweep = tmp_path / way
        result = sweeper(
            "task=adder", *SMALL_RUN, "device.threads=1", *kind,
            f"hydra.sweep.dir={sweep}", "-m",
            cwd=tmp_path, env=env,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        swept[way] = job_files(sweep)
    assert len(swept["once"]) == 4 * (4 if kind[0].startswith("model") else 3)
    assert swept["once"] == swept["every"]
