# Copyright (c) Facebook, Inc. and its affiliates. All Rights Reserved
"""hydra-optuna-sweeper's own test suite, run against sweeper's search sweeper.

Adapted from hydra-optuna-sweeper v1.3.5 (MIT licence),
plugins/hydra_optuna_sweeper/tests/test_optuna_sweeper_plugin.py, with its example
apps (example/) and test configs (conf/, the plugin's tests/conf/) copied next to it.
sweeper's `hydra/sweeper=optuna` is meant to be a drop-in for the plugin, so the tests
and their assertions are the plugin's except for these adaptations:

1. The plugin under test: hydra_plugins.sweeper_search.search_sweeper.SearchSweeper
   (test_discovery; hydra/sweeper=optuna in the configs selects it) instead of
   hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper.
2. `_impl.create_optuna_distribution_from_config`, `_impl.create_optuna_distribution_
   from_override` and `_impl.create_params_from_overrides` are thin helpers below,
   built on sweeper's public `distribution_from_config` and `build_space`
   (sweeper.sweeps.search_space).
3. Expected distributions are written with Optuna's FloatDistribution,
   IntDistribution and CategoricalDistribution: Optuna 5 still has the old
   IntUniformDistribution, UniformDistribution, LogUniformDistribution,
   IntLogUniformDistribution and DiscreteUniformDistribution, but they compare
   unequal to the new classes that every sampler and sweeper use.
4. Deliberate difference, `range(a, b)` stops before b, as Python's and Hydra's own
   range (and so a grid over the same text) do: `range(1,3)` is IntDistribution(1, 2)
   (plugin: IntUniformDistribution(1, 3)), and `range(0.5, 5.5, step=1)` is
   FloatDistribution(0.5, 4.5, step=1) (plugin: DiscreteUniformDistribution(0.5,
   5.5, 1)). Only those expected values change; no assertion of the end-to-end
   tests depends on it (test_grid.yaml's `y: range(-1.0, 1.0, step=1)` is -1, 0 here,
   which the test's `by in [-1, 0]` already expects for fewer than 12 trials).
5. test_warnings builds sweeper.sweeps.search.SearchSweeper (the implementation the
   plugin class wraps, the counterpart of OptunaSweeperImpl) with the same settings,
   `direction="minimize"` for the plugin's `Direction.minimize` enum (sweeper has
   none), and calls its `deprecated_search_space()`, which plays the role of the
   plugin's `_process_searchspace_config()` for these warnings.
6. `chdir_plugin_root()` (which looks for the plugin's setup.py, at import time, for the
   whole session) is an autouse fixture that changes into this folder with
   monkeypatch.chdir for each test only; the test configs' `--config-dir=tests/conf`
   is `--config-dir=conf` (this folder's conf/).
7. test_launch_jobs passes `temp_dir=tmp_path` to hydra_sweep_runner: left out,
   Hydra's fixture makes its sweep folder `str(None)`, a folder named "None" in the
   working directory (here: in the source tree).
8. The subprocess tests (every test that runs an example app) are marked
   `@pytest.mark.slow`, sweeper's marker for end-to-end runs.
9. Typing modernised as ruff's UP rules ask (list/tuple, `X | None`), imports sorted,
   long lines wrapped (the suite's test_lint runs ruff over the tree).

The deliberate defaults that differ (sweeper: max_failure_rate 1.0, n_jobs 1; the
plugin: 0.0 and 2) change no test: every test sets both where they matter.

No test is marked as a known failure: sweeper tells Optuna's GridSampler's end of grid
apart from an error (it calls `study.stop()` outside `optimize`), names the last failed
trial's error in its too-many-failures line on stderr, and warns about the deprecated
`search_space` in the plugin's words.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import optuna
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from hydra.test_utils.test_utils import (
    TSweepRunner,
    run_process,
    run_python_script,
)
from omegaconf import DictConfig, OmegaConf
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.samplers import RandomSampler
from pytest import mark, warns

from hydra_plugins.sweeper_search.search_sweeper import SearchSweeper as OptunaSweeper
from sweeper.sweeps.search import SearchSweeper as OptunaSweeperImpl
from sweeper.sweeps.search_space import build_space, distribution_from_config

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def chdir_plugin_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The plugin's chdir_plugin_root(): its tests run from the folder of example/. Hydra's
    in-process sweep runner (test_launch_jobs) leaves its global HydraConfig set: cleared
    after each test, so that later tests in the same worker see no Hydra run."""
    from hydra.core.hydra_config import HydraConfig

    monkeypatch.chdir(HERE)
    yield
    HydraConfig.instance().cfg = None


# ---------------------------------------------------------------- stand-ins for _impl
def create_optuna_distribution_from_config(config: Any) -> BaseDistribution:
    """_impl.create_optuna_distribution_from_config: a deprecated search_space entry."""
    return distribution_from_config("key", dict(config))


def create_optuna_distribution_from_override(override: Override) -> BaseDistribution:
    """_impl.create_optuna_distribution_from_override: the one sweep override's space."""
    assert override.input_line is not None
    space = build_space([], [override.input_line])
    return space.distributions[override.key_or_group]


def create_params_from_overrides(
    arguments: list[str],
) -> tuple[dict[str, BaseDistribution], dict[str, Any]]:
    """_impl.create_params_from_overrides: (searched distributions, fixed overrides)."""
    space = build_space([], arguments)
    return space.distributions, space.fixed


# ---------------------------------------------------------------- the plugin's tests
def test_discovery() -> None:
    assert OptunaSweeper.__name__ in [x.__name__ for x in Plugins.instance().discover(Sweeper)]


def check_distribution(expected: BaseDistribution, actual: BaseDistribution) -> None:
    if not isinstance(expected, CategoricalDistribution):
        assert expected == actual
        return

    assert isinstance(actual, CategoricalDistribution)
    # shuffle() will randomize the order of items in choices.
    assert set(expected.choices) == set(actual.choices)


@mark.parametrize(
    "input, expected",
    [
        (
            {"type": "categorical", "choices": [1, 2, 3]},
            CategoricalDistribution([1, 2, 3]),
        ),
        ({"type": "int", "low": 0, "high": 10}, IntDistribution(0, 10)),
        (
            {"type": "int", "low": 0, "high": 10, "step": 2},
            IntDistribution(0, 10, step=2),
        ),
        ({"type": "int", "low": 0, "high": 5}, IntDistribution(0, 5)),
        (
            {"type": "int", "low": 1, "high": 100, "log": True},
            IntDistribution(1, 100, log=True),
        ),
        ({"type": "float", "low": 0, "high": 1}, FloatDistribution(0, 1)),
        (
            {"type": "float", "low": 0, "high": 10, "step": 2},
            FloatDistribution(0, 10, step=2),
        ),
        (
            {"type": "float", "low": 1, "high": 100, "log": True},
            FloatDistribution(1, 100, log=True),
        ),
    ],
)
def test_create_optuna_distribution_from_config(input: Any, expected: Any) -> None:
    actual = create_optuna_distribution_from_config(input)
    check_distribution(expected, actual)


@mark.parametrize(
    "input, expected",
    [
        ("key=choice(1,2)", CategoricalDistribution([1, 2])),
        ("key=choice(true, false)", CategoricalDistribution([True, False])),
        ("key=choice('hello', 'world')", CategoricalDistribution(["hello", "world"])),
        ("key=shuffle(range(1,3))", CategoricalDistribution((1, 2))),
        # Deliberate difference: range stops before its end (plugin: IntUniform(1, 3)).
        ("key=range(1,3)", IntDistribution(1, 2)),
        ("key=interval(1, 5)", FloatDistribution(1, 5)),
        ("key=int(interval(1, 5))", IntDistribution(1, 5)),
        ("key=tag(log, interval(1, 5))", FloatDistribution(1, 5, log=True)),
        ("key=tag(log, int(interval(1, 5)))", IntDistribution(1, 5, log=True)),
        # Deliberate difference (plugin: DiscreteUniformDistribution(0.5, 5.5, 1)).
        ("key=range(0.5, 5.5, step=1)", FloatDistribution(0.5, 4.5, step=1)),
    ],
)
def test_create_optuna_distribution_from_override(input: Any, expected: Any) -> None:
    parser = OverridesParser.create()
    parsed = parser.parse_overrides([input])[0]
    actual = create_optuna_distribution_from_override(parsed)
    check_distribution(expected, actual)


@mark.parametrize(
    "input, expected",
    [
        (["key=choice(1,2)"], ({"key": CategoricalDistribution([1, 2])}, {})),
        (["key=5"], ({}, {"key": "5"})),
        (
            ["key1=choice(1,2)", "key2=5"],
            ({"key1": CategoricalDistribution([1, 2])}, {"key2": "5"}),
        ),
        (
            ["key1=choice(1,2)", "key2=5", "key3=range(1,3)"],
            (
                {
                    "key1": CategoricalDistribution([1, 2]),
                    # Deliberate difference (plugin: IntUniformDistribution(1, 3)).
                    "key3": IntDistribution(1, 2),
                },
                {"key2": "5"},
            ),
        ),
    ],
)
def test_create_params_from_overrides(input: Any, expected: Any) -> None:
    actual = create_params_from_overrides(input)
    assert actual == expected


def test_launch_jobs(hydra_sweep_runner: TSweepRunner, tmp_path: Path) -> None:
    sweep = hydra_sweep_runner(
        calling_file=None,
        calling_module="hydra.test_utils.a_module",
        config_path="configs",
        config_name="compose.yaml",
        task_function=None,
        overrides=[
            "hydra/sweeper=optuna",
            "hydra/launcher=basic",
            "hydra.sweeper.n_trials=8",
            "hydra.sweeper.n_jobs=3",
        ],
        temp_dir=tmp_path,
    )
    with sweep:
        assert sweep.returns is None


@mark.slow
@mark.parametrize("with_commandline", (True, False))
def test_optuna_example(with_commandline: bool, tmpdir: Path) -> None:
    storage = "sqlite:///" + os.path.join(str(tmpdir), "test.db")
    study_name = "test-optuna-example"
    cmd = [
        "example/sphere.py",
        "--multirun",
        "hydra.sweep.dir=" + str(tmpdir),
        "hydra.job.chdir=True",
        "hydra.sweeper.n_trials=20",
        "hydra.sweeper.n_jobs=1",
        f"hydra.sweeper.storage={storage}",
        f"hydra.sweeper.study_name={study_name}",
        "hydra/sweeper/sampler=tpe",
        "hydra.sweeper.sampler.seed=123",
        "~z",
    ]
    if with_commandline:
        cmd += [
            "x=choice(0, 1, 2)",
            "y=0",  # Fixed parameter
        ]
    run_python_script(cmd)
    returns = OmegaConf.load(f"{tmpdir}/optimization_results.yaml")
    study = optuna.load_study(storage=storage, study_name=study_name)
    best_trial = study.best_trial
    assert isinstance(returns, DictConfig)
    assert returns.name == "optuna"
    assert returns["best_params"]["x"] == best_trial.params["x"]
    if with_commandline:
        assert "y" not in returns["best_params"]
        assert "y" not in best_trial.params
    else:
        assert returns["best_params"]["y"] == best_trial.params["y"]
    assert returns["best_value"] == best_trial.value
    # Check the search performance of the TPE sampler.
    # The threshold is the 95th percentile calculated with 1000 different seed values
    # to make the test robust against the detailed implementation of the sampler.
    # See https://github.com/facebookresearch/hydra/pull/1746#discussion_r681549830.
    assert returns["best_value"] <= 2.27


@mark.slow
@mark.parametrize(
    "num_trials",
    (
        10,
        1,
    ),
)
def test_example_with_grid_sampler(
    tmpdir: Path,
    num_trials: int,
) -> None:
    storage = "sqlite:///" + os.path.join(str(tmpdir), "test.db")
    study_name = "test-grid-sampler"
    cmd = [
        "example/sphere.py",
        "--multirun",
        "--config-dir=conf",
        "--config-name=test_grid",
        "hydra.sweep.dir=" + str(tmpdir),
        "hydra.job.chdir=False",
        f"hydra.sweeper.n_trials={num_trials}",
        "hydra.sweeper.n_jobs=1",
        f"hydra.sweeper.storage={storage}",
        f"hydra.sweeper.study_name={study_name}",
    ]
    run_python_script(cmd)
    returns = OmegaConf.load(f"{tmpdir}/optimization_results.yaml")
    assert isinstance(returns, DictConfig)
    bv, bx, by, bz = (
        returns["best_value"],
        returns["best_params"]["x"],
        returns["best_params"]["y"],
        returns["best_params"]["z"],
    )
    if num_trials >= 12:
        assert bv == 1 and abs(bx) == 1 and by == 0
    else:
        assert bx in [-1, 1] and by in [-1, 0]
    assert bz in ["foo", "bar"]


@mark.slow
@mark.parametrize("with_commandline", (True, False))
def test_optuna_multi_objective_example(with_commandline: bool, tmpdir: Path) -> None:
    cmd = [
        "example/multi-objective.py",
        "--multirun",
        "hydra.sweep.dir=" + str(tmpdir),
        "hydra.job.chdir=True",
        "hydra.sweeper.n_trials=20",
        "hydra.sweeper.n_jobs=1",
        "hydra/sweeper/sampler=random",
        "hydra.sweeper.sampler.seed=123",
    ]
    if with_commandline:
        cmd += [
            "x=range(0, 5)",
            "y=range(0, 3)",
        ]
    run_python_script(cmd)
    returns = OmegaConf.load(f"{tmpdir}/optimization_results.yaml")
    assert isinstance(returns, DictConfig)
    assert returns.name == "optuna"
    if with_commandline:
        for trial_x in returns["solutions"]:
            assert trial_x["params"]["x"] % 1 == 0
            assert trial_x["params"]["y"] % 1 == 0
            # The trials must not dominate each other.
            for trial_y in returns["solutions"]:
                assert not _dominates(trial_x, trial_y)
    else:
        for trial_x in returns["solutions"]:
            assert trial_x["params"]["x"] % 1 in {0, 0.5}
            assert trial_x["params"]["y"] % 1 in {0, 0.5}
            # The trials must not dominate each other.
            for trial_y in returns["solutions"]:
                assert not _dominates(trial_x, trial_y)


def _dominates(values_x: list[float], values_y: list[float]) -> bool:
    return all(x <= y for x, y in zip(values_x, values_y)) and any(
        x < y for x, y in zip(values_x, values_y)
    )


@mark.slow
def test_optuna_custom_search_space_example(tmpdir: Path) -> None:
    max_z_difference_from_x = 0.3
    cmd = [
        "example/custom-search-space-objective.py",
        "--multirun",
        "hydra.sweep.dir=" + str(tmpdir),
        "hydra.job.chdir=True",
        "hydra.sweeper.n_trials=20",
        "hydra.sweeper.n_jobs=1",
        "hydra/sweeper/sampler=random",
        "hydra.sweeper.sampler.seed=123",
        f"max_z_difference_from_x={max_z_difference_from_x}",
    ]
    run_python_script(cmd)
    returns = OmegaConf.load(f"{tmpdir}/optimization_results.yaml")
    assert isinstance(returns, DictConfig)
    assert returns.name == "optuna"
    assert abs(returns["best_params"]["x"] - returns["best_params"]["z"]) <= max_z_difference_from_x
    w = returns["best_params"]["+w"]
    assert 0 <= w <= 1


@mark.parametrize(
    "search_space,params,raise_warning,msg",
    [
        (None, None, False, None),
        (
            {},
            {},
            True,
            r"Both hydra.sweeper.params and hydra.sweeper.search_space are configured.*",
        ),
        pytest.param(
            {},
            None,
            True,
            r"`hydra.sweeper.search_space` is deprecated and will be removed in the next "
            r"major release.*",
            id="deprecated",
        ),
        (None, {}, False, None),
    ],
)
def test_warnings(
    tmpdir: Path,
    search_space: DictConfig | None,
    params: DictConfig | None,
    raise_warning: bool,
    msg: str | None,
) -> None:
    partial_sweeper = partial(
        OptunaSweeperImpl,
        sampler=RandomSampler(),
        direction="minimize",
        storage=None,
        study_name="test",
        n_trials=1,
        n_jobs=1,
        max_failure_rate=0.0,
        custom_search_space=None,
    )
    if search_space is not None:
        search_space = OmegaConf.create(search_space)
    if params is not None:
        params = OmegaConf.create(params)
    sweeper = partial_sweeper(search_space=search_space, params=params)
    if raise_warning:
        with warns(
            UserWarning,
            match=msg,
        ):
            sweeper.deprecated_search_space()
    else:
        sweeper.deprecated_search_space()


@mark.slow
@mark.parametrize(
    "max_failure_rate",
    (
        0.5,
        1.0,
    ),
)
def test_failure_rate(max_failure_rate: float, tmpdir: Path) -> None:
    cmd = [
        sys.executable,
        "example/sphere.py",
        "--multirun",
        "hydra.sweep.dir=" + str(tmpdir),
        "hydra.job.chdir=True",
        "hydra.sweeper.n_trials=20",
        "hydra.sweeper.n_jobs=2",
        "hydra/sweeper/sampler=random",
        "hydra.sweeper.sampler.seed=123",
        f"hydra.sweeper.max_failure_rate={max_failure_rate}",
        "error=true",
    ]
    out, err = run_process(cmd, print_error=False, raise_exception=False)
    error_string = "RuntimeError: cfg.error is True"
    if max_failure_rate < 1.0:
        assert error_string in err
    else:
        assert error_string not in err


@mark.slow
def test_example_with_deprecated_search_space(
    tmpdir: Path,
) -> None:
    cmd = [
        "-W ignore::UserWarning",
        "example/sphere.py",
        "--multirun",
        "--config-dir=conf",
        "--config-name=test_deprecated_search_space",
        "hydra.sweep.dir=" + str(tmpdir),
        "hydra.job.chdir=True",
        "hydra.sweeper.n_trials=20",
        "hydra.sweeper.n_jobs=1",
    ]

    run_python_script(cmd)
    returns = OmegaConf.load(f"{tmpdir}/optimization_results.yaml")
    assert isinstance(returns, DictConfig)
    assert returns.name == "optuna"
    assert abs(returns["best_params"]["x"]) <= 5.5
