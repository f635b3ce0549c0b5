"""Searches of a plain Hydra app (examples/plain_hydra_app: no torch, no sweeper task):
sweeper's search sweeper as a drop-in for hydra-optuna-sweeper, run from a temp folder.

Each test copies the example into tmp_path and runs it as a user would
(`python sphere.py ... -m`), under `-W error` like Hydra's own plugin tests."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pandas as pd
import pytest
import yaml

from conftest import ROOT

EXAMPLE = ROOT / "examples" / "plain_hydra_app"
SPACE = ["x=interval(-5,5)", "y=interval(-5,5)"]


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """The example app, copied into a fresh folder (its cwd in every run)."""
    shutil.copytree(EXAMPLE, tmp_path / "app")
    return tmp_path / "app"


def run(app: Path, *args: str, script: str = "sphere.py", check: bool = True):
    result = subprocess.run(
        [sys.executable, "-W", "error", script, *args, "-m"],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def trials(sweep: Path) -> pd.DataFrame:
    return pd.read_csv(sweep / "trials.csv")


@pytest.mark.slow
def test_a_20_trial_search_finds_the_minimum_of_its_trials_and_resumes(app):
    storage = "hydra.sweeper.storage=sqlite:///${hydra.sweep.dir}/optuna.db"
    common = [*SPACE, "hydra.sweep.dir=sphere", storage, "hydra.sweeper.study_name=sphere"]
    first = run(app, *common)
    sweep = app / "sphere"
    table = trials(sweep)
    assert len(table) == 20 and set(table["state"]) == {"COMPLETE"}
    best = yaml.safe_load((sweep / "best_trial.yaml").read_text())
    assert best["best"]["value"] == table["value"].min()
    assert best["direction"] == "minimize"
    x, y = best["best"]["params"]["x"], best["best"]["params"]["y"]
    assert math.isclose(best["best"]["value"], x**2 + y**2)
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert results == {
        "name": "optuna",
        "best_params": best["best"]["params"],
        "best_value": best["best"]["value"],
    }
    assert (sweep / "report.html").read_text().count("Best trial") == 1
    assert not list(sweep.glob("*/metrics.json"))  # a plain app keeps no sweeper record
    assert "new study sphere in" in first.stdout + first.stderr
    # The same command again resumes the study: 5 more trials, numbered on.
    again = run(app, *common, "hydra.sweeper.n_trials=5")
    assert "resumed study sphere" in again.stdout + again.stderr
    study = optuna.load_study(study_name="sphere", storage=f"sqlite:///{sweep}/optuna.db")
    assert len(study.trials) == 25 and len(trials(sweep)) == 25
    assert sorted(int(p.name) for p in sweep.iterdir() if p.name.isdigit()) == list(range(25))


@pytest.mark.slow
def test_a_multi_objective_search_writes_its_pareto_front(app):
    run(
        app,
        "objectives=2",
        "hydra.sweeper.direction=[minimize,minimize]",
        "x=range(0,5,step=0.5)",
        "y=range(0,3,step=0.5)",
        "hydra.sweeper.n_trials=12",
        "hydra.sweep.dir=multi",
    )
    sweep = app / "multi"
    front = pd.read_csv(sweep / "pareto_front.csv")
    assert list(front.columns[:3]) == ["number", "values_0", "values_1"] and len(front) >= 1
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    solutions = results["solutions"]
    assert len(solutions) == len(front)
    for solution in solutions:
        x, y = solution["params"]["x"], solution["params"]["y"]
        assert solution["values"] == pytest.approx(
            [4 * x**2 + 4 * y**2, (x - 5) ** 2 + (y - 5) ** 2]
        )
        assert x % 0.5 == 0 and 0 <= x <= 4.5  # range() stops before its end, as Hydra's does


@pytest.mark.slow
def test_joblib_runs_two_trials_at_once(app):
    run(
        app,
        *SPACE,
        "hydra/launcher=joblib",
        "hydra.sweeper.n_jobs=2",
        "hydra.sweeper.n_trials=6",
        "hydra.sweeper.storage=sqlite:///${hydra.sweep.dir}/optuna.db",
        "hydra.sweep.dir=parallel",
    )
    table = trials(app / "parallel")
    assert len(table) == 6 and set(table["state"]) == {"COMPLETE"}


@pytest.mark.slow
def test_a_pruner_stops_trials_that_report_through_sweeper_report(app):
    run(
        app,
        *SPACE,
        "epochs=6",
        "hydra/sweeper/pruner=median",
        "hydra.sweeper.pruner.n_startup_trials=2",
        "hydra.sweeper.pruner.n_warmup_steps=1",
        "hydra.sweeper.n_trials=12",
        "hydra.sweeper.storage=sqlite:///${hydra.sweep.dir}/optuna.db",
        "hydra.sweep.dir=pruned",
    )
    table = trials(app / "pruned")
    pruned = table[table["state"] == "PRUNED"]
    assert len(pruned) >= 1 and (table["state"] == "COMPLETE").sum() >= 2
    assert pruned["value"].notna().all()  # a pruned trial keeps its last reported value
    study = optuna.load_study(study_name=None, storage=f"sqlite:///{app / 'pruned' / 'optuna.db'}")
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert all(sorted(t.intermediate_values) == list(range(6)) for t in complete)


@pytest.mark.slow
def test_the_lightning_template_way_of_writing_a_search_runs_unchanged(app):
    # hparams_search/sphere_optuna.yaml names hydra-optuna-sweeper's class, as
    # lightning-hydra-template's mnist_optuna.yaml does, and sets hydra.mode: MULTIRUN.
    result = subprocess.run(
        [sys.executable, "-W", "error", "sphere.py", "hparams_search=sphere_optuna"],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    [sweep] = (app / "multirun").glob("*/*")
    table = trials(sweep)
    assert len(table) == 20 and set(table["params_y"]) <= {-4.0, -2.0, 0.0, 2.0, 4.0}
    best = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert best["best_value"] == table["value"].min()


ODD_APP = """
import math
import hydra


@hydra.main(version_base=None, config_path=None, config_name=None)
def main(cfg):
    kind = cfg.get("kind", "ok")
    if kind == "raises":
        raise ValueError("no value for this one")
    values = {"ok": 1.5, "none": None, "text": "1.0x", "notanumber": math.nan, "infinite": math.inf}
    return {**values, "pair": [1.0, 2.0]}[kind]


if __name__ == "__main__":
    main()
"""


@pytest.mark.slow
def test_a_trial_whose_app_returns_no_number_fails_and_the_search_goes_on(app):
    (app / "odd.py").write_text(textwrap.dedent(ODD_APP))
    kinds = "+kind=choice(ok,none,text,notanumber,pair,raises,infinite)"
    result = run(
        app,
        kinds,
        "hydra/sweeper=search",
        "hydra/sweeper/sampler=grid",
        "hydra.sweep.dir=odd",
        script="odd.py",
    )
    table = trials(app / "odd").set_index("params_+kind")
    assert table.loc["ok", "state"] == "COMPLETE" and table.loc["ok", "value"] == 1.5
    reasons = {
        "none": "the run returned None, not a number",
        "text": "the run returned '1.0x', not a number",
        "notanumber": "the run returned NaN",
        "pair": "the run returned [1.0, 2.0], not a number",
        "raises": "ValueError: no value for this one",
    }
    for kind, reason in reasons.items():
        assert table.loc[kind, "state"] == "FAIL"
        assert table.loc[kind, "user_attrs_reason"] == reason
    # An infinite value is told (the sampler learns from it) but counted failed, never best.
    assert (
        table.loc["infinite", "state"] == "COMPLETE"
        and table.loc["infinite", "user_attrs_status"] == "failed"
    )
    assert "an infinite value" in table.loc["infinite", "user_attrs_reason"]
    best = yaml.safe_load((app / "odd" / "best_trial.yaml").read_text())
    assert best["best"]["value"] == 1.5 and best["failed_trials"] == 6
    assert "best trial" in result.stdout + result.stderr


@pytest.mark.slow
def test_a_wrong_number_of_values_fails_a_multi_objective_trial(app):
    (app / "odd.py").write_text(textwrap.dedent(ODD_APP))
    result = run(
        app,
        "+kind=choice(pair,ok)",
        "hydra/sweeper=optuna",
        "hydra/sweeper/sampler=grid",
        "hydra.sweeper.direction=[minimize,minimize,minimize]",
        "hydra.sweep.dir=odd",
        script="odd.py",
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("sweeper: error: all 2 trials")
    table = trials(app / "odd").set_index("params_+kind")
    assert "2 value(s) for 3 objectives" in table.loc["pair", "user_attrs_reason"]
    assert "1.5: 1 value(s) for 3 objectives" in table.loc["ok", "user_attrs_reason"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["+hydra.sweeper.sampler.gamma_x=1"],
            "hydra.sweeper.sampler.gamma_x: TPESampler takes no option gamma_x",
        ),
        (
            ["hydra.sweeper.sampler._target_=optuna.samplers.NoSuchSampler"],
            "hydra.sweeper.sampler._target_=optuna.samplers.NoSuchSampler is not a class",
        ),
        (
            ["hydra/sweeper/sampler=qmc", "hydra.sweeper.sampler.qmc_type=nonsense"],
            "hydra.sweeper.sampler: QMCSampler: ValueError:",
        ),
        (
            ["hydra.sweeper.storage=postgresql://nobody@127.0.0.1:1/none"],
            "hydra.sweeper.storage=postgresql://nobody@127.0.0.1:1/none cannot be used",
        ),
        (["hydra.sweeper.direction=upward"], "hydra.sweeper.direction='upward' must be"),
        (
            ["hydra.sweeper.n_trials=-2"],
            "hydra.sweeper.n_trials=-2 must be a positive integer (or 0: only report",
        ),
        (
            ["hydra/sweeper/pruner=median", "hydra/launcher=joblib"],
            "hydra.sweeper.pruner needs a study its jobs can reach",
        ),
        (
            ["hydra/sweeper/pruner=median", "hydra.sweeper.direction=[minimize,minimize]"],
            "Optuna cannot prune a multi-objective study",
        ),
        (["x=interval(3,3)"], "search interval for x is empty or inverted"),
        (
            ["hydra.sweeper.sampler.n_startup_trials=abc"],
            "hydra.sweeper.sampler.n_startup_trials='abc' must be int",
        ),
        (
            ["hydra/sweeper/sampler=bruteforce"],
            "BruteForceSampler cannot draw from this search space with these options",
        ),
        (["hydra.sweeper.heartbeat_interval=abc"], "heartbeat_interval='abc' must be a number"),
        (["hydra.sweeper.heartbeat_interval=-1"], "heartbeat_interval=-1 must be > 0 seconds"),
        (  # an option TPE reads only after its 10 start-up trials
            ["hydra.sweeper.sampler.n_ei_candidates=abc"],
            "hydra.sweeper.sampler.n_ei_candidates='abc' must be int (TPESampler's",
        ),
        (
            ["hydra.sweeper.sampler.multivariate=maybe"],
            "hydra.sweeper.sampler.multivariate='maybe' must be bool",
        ),
        (
            ["hydra/sweeper/sampler=qmc", "hydra.sweeper.sampler.scramble=maybe"],
            "hydra.sweeper.sampler.scramble='maybe' must be bool (QMCSampler's scramble)",
        ),
        (["hydra.sweeper.total_trials=maybe"], "total_trials='maybe' must be true or false"),
        (["hydra.sweeper.direction=[]"], "hydra.sweeper.direction=[] names no objective"),
        (["hydra.sweeper.max_failure_rate=abc"], "max_failure_rate='abc' must be a number"),
        (
            ["hydra.sweeper.custom_search_space=nosuch.fn"],
            "custom_search_space=nosuch.fn is not a function that can be imported",
        ),
    ],
)
def test_bad_settings_are_one_line_before_any_trial(app, args, message):
    storage = "hydra.sweeper.storage=sqlite:///${hydra.sweep.dir}/optuna.db"
    if any("storage" in a or "launcher" in a for a in args):
        storage = "hydra.sweep.dir=bad"  # the case sets its own storage
    result = run(app, *SPACE[1:], *args, "hydra.sweep.dir=bad", storage, check=False)
    assert result.returncode == 2, result.stderr[-2000:]
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("sweeper: error: ") and message in line
    assert not (app / "bad").exists() or not any((app / "bad").glob("0"))
    if (app / "bad" / "optuna.db").exists():  # refused before the study got a trial
        assert not optuna.get_all_study_summaries(f"sqlite:///{app / 'bad' / 'optuna.db'}")


@pytest.mark.slow
def test_a_sweep_folder_named_with_url_characters_holds_its_study(app):
    folder = "odd?name#with%41 space"
    result = run(
        app,
        *SPACE,
        f"hydra.sweep.dir='{folder}'",
        "hydra.sweeper.storage=sqlite:///${hydra.sweep.dir}/optuna.db",
        "hydra.sweeper.study_name=odd",
        "hydra.sweeper.n_trials=3",
    )
    sweep = app / folder
    assert (sweep / "optuna.db").is_file() and len(trials(sweep)) == 3
    assert str(sweep.resolve() / "optuna.db") in result.stdout + result.stderr
    assert sorted(p.name for p in app.iterdir()) == sorted(
        [*(p.name for p in EXAMPLE.iterdir()), folder]
    )
    # The same command again finds the same study (the file, not a look-alike elsewhere).
    again = run(
        app,
        *SPACE,
        f"hydra.sweep.dir='{folder}'",
        "hydra.sweeper.storage=sqlite:///${hydra.sweep.dir}/optuna.db",
        "hydra.sweeper.study_name=odd",
        "hydra.sweeper.n_trials=2",
    )
    assert "3 trials before this run" in again.stdout + again.stderr
    assert len(trials(sweep)) == 5


@pytest.mark.parametrize(
    "name", ["tpe", "motpe", "random", "cmaes", "nsgaii", "nsgaiii", "qmc", "gp", "bruteforce"]
)
def test_every_sampler_optuna_ships_is_a_config_option(name):
    from hydra_plugins.sweeper_search.configs import SAMPLERS
    from sweeper.trials.plugins import instantiate_checked

    node = {**SAMPLERS[name], "seed": 7}
    sampler = instantiate_checked(node, "hydra.sweeper.sampler")
    expected = {"motpe": "TPESampler"}.get(name, node["_target_"].rpartition(".")[2])
    assert type(sampler).__name__ == expected
    assert isinstance(sampler, optuna.samplers.BaseSampler)


def test_the_grid_sampler_is_built_over_the_space():
    from hydra_plugins.sweeper_search.configs import SAMPLERS
    from sweeper.sweeps.search_space import build_space, grid_choices
    from sweeper.trials.plugins import instantiate_checked

    partial = instantiate_checked({**SAMPLERS["grid"], "_partial_": True}, "s")
    space = build_space([], ["x=choice(-1,1)", "y=range(-1.0,1.0,step=1)", "z=range(2,5)"])
    grid = grid_choices(space.distributions)
    assert grid == {"x": [-1, 1], "y": [-1.0, 0.0], "z": [2, 3, 4]}
    assert isinstance(partial(grid), optuna.samplers.GridSampler)


def test_hydras_plugin_scan_imports_nothing_heavy_and_warns_nothing():
    # Hydra imports every hydra_plugins module on every start of every app.
    probe = (
        "import sys\n"
        "from hydra.core.plugins import Plugins\n"
        "from hydra.core.config_store import ConfigStore\n"
        "Plugins.instance()\n"
        "heavy = {'torch', 'optuna', 'matplotlib', 'pandas', 'sqlalchemy'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "repo = ConfigStore.instance().repo['hydra']['sweeper']\n"
        "assert {'optuna.yaml', 'search.yaml', 'sampler'} <= set(repo), sorted(repo)\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.slow
def test_without_a_pruner_nothing_is_pruned_though_the_app_reports(app):
    # A job loads its study by name: it must get the search's pruner (none), not
    # Optuna's default MedianPruner.
    run(
        app,
        *SPACE,
        "epochs=4",
        "hydra.sweeper.n_trials=12",
        "hydra.sweeper.storage=sqlite:///${hydra.sweep.dir}/optuna.db",
        "hydra.sweep.dir=reported",
    )
    table = trials(app / "reported")
    assert set(table["state"]) == {"COMPLETE"} and len(table) == 12
    study = optuna.load_study(study_name=None, storage=f"sqlite:///{app / 'reported/optuna.db'}")
    assert all(len(t.intermediate_values) == 4 for t in study.trials)  # reported all the same


SLOW_APP = """
import time
import hydra
import sweeper


@hydra.main(version_base=None, config_path=None, config_name=None)
def main(cfg):
    for step in range(60):
        time.sleep(0.5)
        sweeper.report(float(cfg.x) ** 2, step)
    return float(cfg.x) ** 2


if __name__ == "__main__":
    main()
"""


@pytest.mark.slow
def test_sigterm_stops_a_plain_apps_search_cleanly(app):
    import signal
    import time

    (app / "slow.py").write_text(textwrap.dedent(SLOW_APP))
    process = subprocess.Popen(
        [
            sys.executable,
            "slow.py",
            "hydra/sweeper=optuna",
            "+x=interval(-3,3)",
            "hydra.sweeper.n_trials=3",
            "hydra.sweeper.study_name=sig",
            "hydra.sweeper.storage=sqlite:///${hydra.sweep.dir}/optuna.db",
            "hydra.sweep.dir=sig",
            "-m",
        ],
        cwd=app,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (app / "sig" / "0").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.5)  # inside trial 0's job
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err[-2000:]
    assert err.strip().splitlines()[-1].startswith("sweeper: interrupted: trial(s) 0 cut off")
    table = trials(app / "sig")
    assert list(table["state"]) == ["FAIL"] and list(table["user_attrs_status"]) == ["interrupted"]


@pytest.mark.slow
def test_a_finished_grid_run_again_runs_nothing_more(app):
    args = [
        "hydra/sweeper/sampler=grid",
        "x=choice(1,2)",
        "y=choice(0,3)",
        "hydra.sweeper.study_name=g",
        "hydra.sweeper.storage=sqlite:///${hydra.sweep.dir}/optuna.db",
        "hydra.sweep.dir=grid",
    ]
    run(app, *args, "hydra.sweeper.n_trials=3")
    again = run(app, *args)  # the one point left, then nothing
    assert "1 of its 4 points left to run" in again.stdout + again.stderr
    final = run(app, *args)
    assert "nothing left to run" in final.stdout + final.stderr
    table = trials(app / "grid")
    assert len(table) == 4
    assert len({(r.params_x, r.params_y) for r in table.itertuples()}) == 4
