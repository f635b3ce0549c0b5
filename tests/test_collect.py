"""Sweep collection and comparison on small real sweep folders and broken ones."""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from fake_folders import GOOD_RECORD, fake_job, make_job
from omegaconf import OmegaConf

from conftest import ROOT
from sweeper import collect as collect_module
from sweeper import compare as compare_module
from sweeper.cli import cli
from sweeper.collect import collect, report, summary_markdown
from sweeper.reports.results import load_sweep


@pytest.fixture
def adder_sweep(make_cfg, tmp_path) -> Path:
    sweep = tmp_path / "sweep"
    grid = [(h, loss) for h in (3, 5) for loss in ("mse", "ce")]
    for num, (hidden, loss) in enumerate(grid):
        make_job(make_cfg, sweep, num, "task=adder", f"model.hidden={hidden}", f"loss={loss}")
    return sweep


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_grid_sweep_becomes_one_table(adder_sweep):
    sweep = collect(adder_sweep)
    assert sweep.swept == ["model.hidden", "loss"] and sweep.skipped == []
    results = pd.read_csv(adder_sweep / "results.csv")
    assert len(results) == 4
    assert list(results.columns[:5]) == ["job", "task", "model.hidden", "loss", "status"]
    assert list(results["model.hidden"]) == [3, 3, 5, 5]
    assert list(results["loss"]) == ["mse", "ce", "mse", "ce"]
    for job, row in results.set_index("job").iterrows():
        record = json.loads((adder_sweep / str(job) / "metrics.json").read_text())
        assert row["test_accuracy"] == pytest.approx(record["metrics"]["test_accuracy"])
        assert row["objective"] == pytest.approx(record["objective"])
        assert row["parameters"] == record["parameters"] > 0  # the model's count, per job
        assert row["job_dir"] == str((adder_sweep / str(job)).resolve())
    by_length = pd.read_csv(adder_sweep / "by_length.csv")
    assert {"job", "model.hidden", "loss", "split", "length", "accuracy", "exact_accuracy"} <= set(
        by_length.columns
    )
    assert len(by_length) == 4 * 21
    history = pd.read_csv(adder_sweep / "history.csv")
    assert list(history.columns[:4]) == ["job", "task", "model.hidden", "loss"]
    assert set(history["job"]) == {0, 1, 2, 3}
    for figure in ("bit_accuracy_vs_length.png", "curves.png"):
        assert (adder_sweep / figure).read_bytes()[:4] == b"\x89PNG"


def test_summary_pivots_hidden_by_loss(adder_sweep):
    collect(adder_sweep)
    summary = (adder_sweep / "summary.md").read_text()
    results = pd.read_csv(adder_sweep / "results.csv").set_index(["model.hidden", "loss"])
    header = next(line for line in summary.splitlines() if line.startswith("| "))
    assert header.replace(" ", "") == "|model.hidden|mse|ce|"
    row_3 = next(line for line in summary.splitlines() if line.replace(" ", "").startswith("|3|"))
    assert f"{results.loc[(3, 'ce'), 'objective']:.4f}" in row_3
    assert "Swept: `model.hidden`, `loss`" in summary


def test_memory_sweep_draws_accuracy_vs_length(make_cfg, tmp_path):
    sweep = tmp_path / "memory"
    for num, hidden in enumerate((2, 5)):
        make_job(make_cfg, sweep, num, "task=memory", f"model.hidden={hidden}")
    collect(sweep)
    assert (sweep / "accuracy_vs_length.png").exists()
    assert not (sweep / "bit_accuracy_vs_length.png").exists()
    assert "exact_accuracy" not in pd.read_csv(sweep / "by_length.csv").columns


def test_broken_and_failed_jobs_are_reported_not_fatal(adder_sweep, capsys):
    (adder_sweep / "1" / "metrics.json").unlink()  # a killed run
    (adder_sweep / "2" / "metrics.json").write_text("{not json")  # a corrupted file
    record = json.loads((adder_sweep / "3" / "metrics.json").read_text())
    record.update(
        status="failed", reason="Diverged: loss became nan in epoch 1", objective=float("-inf")
    )
    (adder_sweep / "3" / "metrics.json").write_text(json.dumps(record))
    (adder_sweep / "stray").mkdir()  # not a job folder: ignored
    assert collect_module.main([str(adder_sweep)]) == 0
    out = capsys.readouterr().out
    assert "skipped 1: no metrics.json" in out and "skipped 2: metrics.json: not JSON" in out
    results = pd.read_csv(adder_sweep / "results.csv")
    assert list(results["job"]) == [0, 3]
    assert list(results["status"]) == ["ok", "failed"]
    summary = (adder_sweep / "summary.md").read_text()
    assert "## Failed jobs" in summary and "Diverged: loss became nan" in summary
    assert "## Skipped folders" in summary and "- 1: no metrics.json" in summary


def test_recollecting_is_idempotent_and_keeps_job_files(adder_sweep):
    jobs_before = {j: digest(adder_sweep / j) for j in "0123"}
    collect(adder_sweep)
    first = digest(adder_sweep)
    collect(adder_sweep)
    assert digest(adder_sweep) == first
    assert {j: digest(adder_sweep / j) for j in "0123"} == jobs_before


def test_single_run_folder_is_one_job_and_keeps_its_files(make_cfg, tmp_path):
    job = make_job(make_cfg, tmp_path, 0, "task=adder")
    before = digest(job)
    assert len(collect(job).results) == 1
    assert digest(job) == before  # its history.csv and curves.png are the run's own


def test_missing_empty_and_non_sweep_folders(tmp_path, capsys):
    assert collect_module.main([str(tmp_path / "nope")]) == 1
    assert "nope: no such folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert collect_module.main([str(tmp_path / "empty")]) == 1
    assert "no finished job folders" in capsys.readouterr().err
    other = tmp_path / "other"
    (other / "sub").mkdir(parents=True)
    (other / "notes.txt").write_text("hello")
    assert collect_module.main([str(other)]) == 1
    assert (other / "notes.txt").read_text() == "hello"


def test_console_script_runs_collect(adder_sweep, monkeypatch):
    monkeypatch.setattr("sys.argv", ["sweeper", "collect", str(adder_sweep)])
    with pytest.raises(SystemExit) as exited:
        cli()
    assert exited.value.code == 0 and (adder_sweep / "results.csv").exists()


def fake_results(path: Path, rows: list[dict]) -> Path:
    frame = pd.DataFrame(rows)
    keys = [c for c in frame.columns if c not in ("status", "objective", "test_accuracy")]
    frame.insert(0, "job", range(len(frame)))
    frame = frame[["job", *keys, "status", "objective", "test_accuracy"]]
    frame.to_csv(path, index=False)
    return path


def test_compare_joins_on_shared_keys(tmp_path, capsys):
    a = fake_results(
        tmp_path / "a.csv",
        [
            {
                "model.hidden": 3,
                "loss": "mse",
                "status": "ok",
                "objective": 0.9,
                "test_accuracy": 0.9,
            },
            {
                "model.hidden": 5,
                "loss": "mse",
                "status": "ok",
                "objective": 0.8,
                "test_accuracy": 0.8,
            },
            {
                "model.hidden": 7,
                "loss": "mse",
                "status": "ok",
                "objective": 0.5,
                "test_accuracy": 0.5,
            },
        ],
    )
    b = fake_results(
        tmp_path / "b.csv",
        [
            {
                "model.hidden": 5,
                "loss": "mse",
                "status": "ok",
                "objective": 1.0,
                "test_accuracy": 1.0,
            },
            {
                "model.hidden": 3,
                "loss": "mse",
                "status": "ok",
                "objective": 0.95,
                "test_accuracy": 0.95,
            },
        ],
    )
    out = tmp_path / "cmp.csv"
    assert compare_module.main([str(a), str(b), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    objective = table[table["metric"] == "objective"].set_index("model.hidden")
    assert sorted(objective.index) == [3, 5]  # hidden 7 is only in A
    assert objective.loc[5, "A"] == 0.8 and objective.loc[5, "B"] == 1.0
    assert objective.loc[5, "B - A"] == pytest.approx(0.2)
    assert "B - A" in capsys.readouterr().out


def test_compare_with_no_matching_rows_exits_1(tmp_path, capsys):
    a = fake_results(
        tmp_path / "a.csv",
        [{"loss": "mse", "status": "ok", "objective": 0.9, "test_accuracy": 0.9}],
    )
    b = fake_results(
        tmp_path / "b.csv", [{"loss": "ce", "status": "ok", "objective": 0.9, "test_accuracy": 0.9}]
    )
    # Fixed (not swept) on each side: compared, with a warning naming the difference.
    assert compare_module.main([str(a), str(b)]) == 0
    assert "fixed settings differ between A and B: loss (A mse, B ce)" in capsys.readouterr().err
    assert compare_module.main([str(a), str(b), "--on", "loss"]) == 1
    assert "no rows of A and B share values of loss" in capsys.readouterr().err
    assert compare_module.main([str(a), str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv: no such file" in capsys.readouterr().err
    assert compare_module.main([str(a), str(b), "--on", "nope"]) == 1
    assert "A has no column nope" in capsys.readouterr().err


def test_compare_two_real_sweeps(adder_sweep, tmp_path, capsys):
    collect(adder_sweep)
    results = adder_sweep / "results.csv"
    out = tmp_path / "same.csv"
    # the same file is refused (tests/test_compare_inputs.py has its other spellings) ...
    assert compare_module.main([str(results), str(results), "--out", str(out)]) == 2
    assert not out.exists()
    # ... a copy of it is compared, with a warning that it is one
    copy = tmp_path / "copy.csv"
    copy.write_bytes(results.read_bytes())
    capsys.readouterr()
    assert compare_module.main([str(results), str(copy), "--out", str(out)]) == 0
    assert "holds the same jobs and values" in capsys.readouterr().err
    table = pd.read_csv(out)
    assert set(table["metric"]) >= {"objective", "test_accuracy"}
    assert (table["B - A"] == 0).all() and len(table[table["metric"] == "objective"]) == 4
    assert (table["A n"] == 1).all() and (table["verdict"] == "no evidence").all()


# --- job folders written by hand: every shape collect may meet, without training ---


# (the `two_jobs` fixture is in conftest.py)


def test_jobs_in_nested_subdirs_are_named_by_their_path(tmp_path, capsys):
    # hydra.sweep.subdir=${task.name}/${hydra.job.num}
    sweep = tmp_path / "sweep"
    fake_job(sweep / "memory" / "2", 2, ["task=memory", "model.hidden=5"])
    fake_job(sweep / "adder" / "0", 0, ["task=adder", "model.hidden=3"])
    best = dict(GOOD_RECORD, objective=0.9)
    fake_job(sweep / "adder" / "1", 1, ["task=adder", "model.hidden=5"], record=best)
    assert collect_module.main([str(sweep)]) == 0
    assert "3 jobs collected" in capsys.readouterr().out
    results = pd.read_csv(sweep / "results.csv")
    assert list(results["job"]) == ["adder/0", "adder/1", "memory/2"]
    assert list(results["task"]) == ["adder", "adder", "memory"]
    summary = (sweep / "summary.md").read_text()
    assert (
        "Best: job adder/1 (task=adder, model.hidden=5): test_accuracy 0.9000 (test split)"
        in summary
    )
    assert set(pd.read_csv(sweep / "history.csv")["job"]) == {"adder/0", "adder/1", "memory/2"}
    assert (sweep / "curves.png").exists()


def test_jobs_without_hydra_folder_are_found_by_metrics_json(tmp_path):
    # hydra.output_subdir=null: no .hydra/, only the run's own files
    sweep = tmp_path / "sweep"
    for num in (0, 1):
        job = fake_job(sweep / str(num), num, [])
        for name in ("config.yaml", "hydra.yaml", "overrides.yaml"):
            (job / ".hydra" / name).unlink()
        (job / ".hydra").rmdir()
    assert list(collect(sweep).results["job"]) == ["0", "1"]


DROP = object()  # a key left out of the record
# An ok record whose objective is NaN, infinite, null or missing is no malformed file but a
# failed run: a counted row (tests/test_results.py), not in this list.
BAD_METRICS = {
    "list": ("[1, 2]", "metrics.json: a JSON list, not an object"),
    "string": ('"ok"', "metrics.json: a JSON str, not an object"),
    "null": ("null", "metrics.json: a JSON NoneType, not an object"),
    "number": ("3.5", "metrics.json: a JSON float, not an object"),
    "empty": ("", "metrics.json: empty"),
    "blank": ("  \n", "metrics.json: empty"),
    "truncated": ('{"status": "ok", "obj', "metrics.json: not JSON"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "metrics.json: not UTF-8 text"),
    "no status": ({"status": DROP}, "metrics.json: no status"),
    "status number": ({"status": 1}, "metrics.json: status is 1, not a string"),
    "status list": ({"status": ["ok"]}, "metrics.json: status is ['ok'], not a string"),
    "status unknown": ({"status": "great"}, "metrics.json: status is 'great', not a finished"),
    "interrupted": (
        {"status": "interrupted", "reason": "KeyboardInterrupt"},
        "status is 'interrupted', not a finished run: KeyboardInterrupt",
    ),
    "objective text": ({"objective": "abc"}, "metrics.json: objective is 'abc', not a number"),
    "objective true": ({"objective": True}, "metrics.json: objective is True, not a number"),
    "objective list": ({"objective": [1]}, "metrics.json: objective is [1], not a number"),
    "objective dict": ({"objective": {}}, "metrics.json: objective is {}, not a number"),
    "objective 10**30": ({"objective": 10**30}, "objective is 1000000000000000000000000000000"),
    "objective 5000 digits": ('{"status": "ok", "objective": ' + "9" * 5000 + "}", "not usable"),
    "deep nesting": ("[" * 100_000 + "]" * 100_000, "metrics.json: not usable JSON"),
    "metrics list": ({"metrics": [0.5]}, "metrics.json: metrics is [0.5], not an object"),
    "metrics text": ({"metrics": "good"}, "metrics.json: metrics is 'good', not an object"),
    "metric text": (
        {"metrics": {"test_accuracy": "0.9"}},
        "metrics.json: metrics.test_accuracy is '0.9', not a number",
    ),
    "metric nested": ({"metrics": {"by": {"a": 1}}}, "metrics.json: metrics.by is {'a': 1}"),
    "metric bool": ({"metrics": {"done": True}}, "metrics.json: metrics.done is True"),
    "metric reserved": ({"metrics": {"job": 7}}, "metrics.json: metrics.job takes a name"),
    "metric status": ({"metrics": {"status": 1}}, "metrics.json: metrics.status takes a name"),
    "settings list": ({"settings": ["adder"]}, "metrics.json: settings is ['adder'], not an"),
    "settings nested": ({"settings": {"model": {"cell": "lstm"}}}, "settings.model is {'cell'"),
    "wall text": ({"wall_seconds": "1s"}, "metrics.json: wall_seconds is '1s', not a number"),
    "parameters float": ({"parameters": 1.5}, "metrics.json: parameters is 1.5, not a count"),
    "parameters negative": ({"parameters": -3}, "metrics.json: parameters is -3, not a count"),
    "reason number": ({"reason": 3}, "metrics.json: reason is 3, not a string"),
    "direction": ({"objective_direction": "up"}, "objective_direction is 'up', not one of"),
    "metric name": ({"objective_metric": 5}, "metrics.json: objective_metric is 5, not a string"),
    "a folder": ("make a folder", "metrics.json: not a regular file"),
    "a fifo": ("make a fifo", "metrics.json: not a regular file"),
    "dangling link": ("make a dangling link", "metrics.json: cannot be read"),
    "huge": ("make it huge", "too large to be written by sweeper"),
}


@pytest.mark.parametrize("content, reason", BAD_METRICS.values(), ids=BAD_METRICS.keys())
def test_malformed_metrics_json_is_skipped_with_its_reason(two_jobs, capsys, content, reason):
    path = two_jobs / "1" / "metrics.json"
    if content == "make a folder":
        path.unlink()
        path.mkdir()
    elif content == "make a fifo":
        path.unlink()
        os.mkfifo(path)  # reading it would block forever
    elif content == "make a dangling link":
        path.unlink()
        path.symlink_to(two_jobs / "nowhere.json")
    elif content == "make it huge":
        path.write_text(json.dumps(dict(GOOD_RECORD, pad="x" * (17 * 2**20))))
    elif isinstance(content, dict):
        record = {k: v for k, v in {**GOOD_RECORD, **content}.items() if v is not DROP}
        path.write_text(json.dumps(record))
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    sweep = load_sweep(two_jobs)  # what main() prints and writes, without drawing figures
    out = report(sweep)
    skipped = [line for line in out.splitlines() if line.startswith("skipped 1: ")]
    assert len(skipped) == 1 and reason in skipped[0], out
    assert list(sweep.results["job"]) == ["0"] and set(sweep.history["job"]) == {"0"}
    assert f"- 1: {skipped[0].removeprefix('skipped 1: ')}" in summary_markdown(sweep)


@pytest.mark.parametrize("content", [b"\xff\xfe\x00", b"hydra: [", b"- 1\n", None])
def test_a_broken_hydra_yaml_only_loses_the_jobs_number(two_jobs, content):
    path = two_jobs / "1" / ".hydra" / "hydra.yaml"
    path.unlink()
    if content is None:
        os.mkfifo(path)
    else:
        path.write_bytes(content)
    sweep = load_sweep(two_jobs)
    assert list(sweep.results["job"]) == ["0", "1"] and sweep.skipped == []


def test_a_failed_run_may_carry_infinite_or_null_objective(two_jobs):
    failed = dict(GOOD_RECORD, status="failed", reason="Diverged", metrics={})
    (two_jobs / "1" / "metrics.json").write_text(json.dumps(dict(failed, objective=float("-inf"))))
    fake_job(two_jobs / "2", 2, ["model.hidden=7"], record=dict(failed, objective=None))
    sweep = collect(two_jobs)
    assert sweep.skipped == [] and list(sweep.results["status"]) == ["ok", "failed", "failed"]
    summary = (two_jobs / "summary.md").read_text()
    assert "Best: job 0 (model.hidden=3): test_accuracy 0.7500 (test split)" in summary
    assert "- job 2 (model.hidden=7): Diverged" in summary


BAD_OVERRIDES = {
    "mapping": ("a: 1\n", ".hydra/overrides.yaml: not a list of overrides"),
    "list of dicts": ("- {model.hidden: 3}\n", ".hydra/overrides.yaml: not a list of overrides"),
    "list of ints": ("- 3\n- 5\n", ".hydra/overrides.yaml: not a list of overrides"),
    "a string": ("model.hidden=3\n", ".hydra/overrides.yaml: not a list of overrides"),
    "bad yaml": ("- [unclosed\n", ".hydra/overrides.yaml: unreadable"),
    "binary": (b"\xff\xfe\x00garbage", ".hydra/overrides.yaml: not UTF-8 text"),
    "a folder": (None, ".hydra/overrides.yaml: not a regular file"),
}


@pytest.mark.parametrize("content, reason", BAD_OVERRIDES.values(), ids=BAD_OVERRIDES.keys())
def test_malformed_overrides_yaml_is_skipped_with_its_reason(two_jobs, capsys, content, reason):
    path = two_jobs / "1" / ".hydra" / "overrides.yaml"
    if content is None:
        path.unlink()
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    sweep = load_sweep(two_jobs)
    assert f"skipped 1: {reason}" in report(sweep), report(sweep)
    assert list(sweep.results["job"]) == ["0"]


BAD_TABLES = {
    "history wrong columns": ("history.csv", "a,b\n1,2\n", "history.csv: no column epoch"),
    "history text epochs": (
        "history.csv",
        "epoch,train_loss,val_loss,val_accuracy\none,0.9,0.8,0.6\n",
        "history.csv: column epoch holds 'one', not a number",
    ),
    "history text loss": (
        "history.csv",
        "epoch,train_loss,val_loss,val_accuracy\n1,low,0.8,0.6\n",
        "history.csv: column train_loss holds 'low', not a number",
    ),
    "history empty epoch": (
        "history.csv",
        "epoch,train_loss,val_loss,val_accuracy\n1,0.9,0.8,0.6\n,0.5,0.4,0.7\n",
        "history.csv: column epoch has an empty value",
    ),
    "history empty": ("history.csv", "", "history.csv: empty"),
    "history ragged": ("history.csv", 'a,b\n1,2,3,4\n"x', "history.csv: not a readable CSV"),
    "history binary": ("history.csv", b"\x89PNG\xff\xfe\x00\x01", "history.csv: not a readable"),
    "history folder": ("history.csv", None, "history.csv: not a regular file"),
    "by_length no accuracy": (
        "by_length.csv",
        "split,length\ntest,1\n",
        "by_length.csv: no metric column (such as accuracy)",
    ),
    "by_length text length": (
        "by_length.csv",
        "split,length,accuracy\ntest,long,0.9\n",
        "by_length.csv: column length holds 'long', not a number",
    ),
}


@pytest.mark.parametrize("name, content, note", BAD_TABLES.values(), ids=BAD_TABLES.keys())
def test_malformed_job_csv_is_noted_and_the_job_kept(two_jobs, capsys, name, content, note):
    path = two_jobs / "1" / name
    if content is None:
        path.unlink()
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    sweep = load_sweep(two_jobs)
    assert f"note 1: {note}" in report(sweep), report(sweep)
    assert list(sweep.results["job"]) == ["0", "1"]
    long_table = sweep.history if name == "history.csv" else sweep.by_length
    assert set(long_table["job"]) == {"0"}  # only the good job's rows
    summary = summary_markdown(sweep)
    assert "## Unusable files" in summary and f"- 1: {note}" in summary


def test_broken_files_end_to_end(two_jobs, capsys):
    """The command itself on a folder with a bad metrics.json, history.csv and by_length.csv."""
    fake_job(two_jobs / "2", 2, ["model.hidden=7"])
    (two_jobs / "1" / "metrics.json").write_text('{"status": "ok", "objective": "abc"}')
    (two_jobs / "2" / "history.csv").write_text("epoch,train_loss\nfirst,1\n")
    (two_jobs / "2" / "by_length.csv").write_bytes(b"\xff\x00\xfe")
    assert collect_module.main([str(two_jobs)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "skipped 1: metrics.json: objective is 'abc', not a number" in captured.out
    assert "note 2: history.csv: column epoch holds 'first', not a number" in captured.out
    assert "note 2: by_length.csv: not a readable CSV" in captured.out
    assert list(pd.read_csv(two_jobs / "results.csv")["job"]) == [0, 2]
    assert set(pd.read_csv(two_jobs / "history.csv")["job"]) == {0}
    assert (two_jobs / "curves.png").exists() and (two_jobs / "bit_accuracy_vs_length.png").exists()


def test_keys_missing_from_a_jobs_overrides_come_from_its_config(tmp_path):
    """`model.hidden=3,5` then `loss=mse,ce` added to the same folder."""
    sweep = tmp_path / "sweep"
    fake_job(sweep / "0", 0, ["model.hidden=3"], config={"model": {"hidden": 3}})
    fake_job(sweep / "1", 1, ["model.hidden=5"], config={"model": {"hidden": 5}})
    for num, loss in ((2, "mse"), (3, "ce")):
        settings = {**GOOD_RECORD["settings"], "model.hidden": 10}  # as the run recorded it
        best = dict(GOOD_RECORD, objective=0.9 if loss == "mse" else 0.5, settings=settings)
        fake_job(
            sweep / str(num),
            num,
            [f"loss={loss}"],
            record=best,
            config={"model": {"hidden": 10}, "loss": {"name": loss}},
            choices={"loss": loss, "model": "lstm"},
        )
    sweep_data = collect(sweep)
    assert sweep_data.swept == ["model.hidden", "loss"]
    results = pd.read_csv(sweep / "results.csv")
    assert list(results["model.hidden"]) == [3, 5, 10, 10]
    assert list(results["loss"]) == ["ce", "ce", "mse", "ce"]  # jobs 0, 1: the default group
    summary = (sweep / "summary.md").read_text()
    assert "Best: job 2 (model.hidden=10, loss=mse): test_accuracy 0.9000 (test split)" in summary
    assert "nan" not in summary.lower()


def test_a_config_value_is_spelt_as_an_override(tmp_path):
    sweep = tmp_path / "sweep"
    fake_job(sweep / "0", 0, ["task.fresh_data=false", "task.lengths=[24,30]"])
    config = {"task": {"fresh_data": True, "lengths": [40]}}
    fake_job(sweep / "1", 1, ["seed=1"], config=config)
    results = collect(sweep).results
    assert list(results["task.fresh_data"]) == ["false", "true"]
    assert list(results["task.lengths"]) == ["[24,30]", "[40]"]
    assert results["seed"].isna().tolist() == [True, False]  # job 0's config has no seed: unknown


def test_a_key_a_job_never_had_reads_unset_not_nan_and_stays_in_the_pivot(tmp_path):
    sweep = tmp_path / "sweep"
    fake_job(sweep / "0", 0, ["model.hidden=3"], config={"model": {"hidden": 3}})
    best = dict(GOOD_RECORD, objective=0.9)
    fake_job(sweep / "1", 1, ["+extra=bar"], config={"model": {"hidden": 8}}, record=best)
    collect(sweep)
    summary = (sweep / "summary.md").read_text()
    assert "Best: job 1 (model.hidden=8, extra=bar): test_accuracy 0.9000 (test split)" in summary
    table = [line.replace(" ", "") for line in summary.splitlines() if line.startswith("|")]
    assert table[0] == "|model.hidden|(unset)|bar|"
    assert "|3|0.7500|–|" in table and "|8|–|0.9000|" in table
    assert "nan" not in summary.lower()


def test_collecting_a_job_folder_writes_nothing_into_it(tmp_path, capsys):
    job = fake_job(tmp_path / "run", 0, ["task=adder"])
    (job / "inner").mkdir()
    before = digest(job)
    assert collect_module.main([str(job)]) == 0
    assert "1 jobs collected (a job folder: nothing written into it)" in capsys.readouterr().out
    assert collect_module.main([str(job / "inner")]) == 1  # inside a job: no jobs, nothing written
    assert digest(job) == before


def test_an_output_path_that_is_a_folder_is_one_error_line_and_nothing_written(two_jobs, capsys):
    (two_jobs / "results.csv").mkdir()
    assert collect_module.main([str(two_jobs)]) == 1
    captured = capsys.readouterr()
    assert "2 jobs collected" in captured.out and "model.hidden" in captured.out  # the table
    assert captured.err == (
        f"sweeper collect: error: cannot write to {two_jobs / 'results.csv'}: "
        "exists and is not a file\n"
    )
    assert not (two_jobs / "summary.md").exists()  # checked before anything was written


def test_the_callback_logs_one_line_when_it_cannot_write(two_jobs, caplog):
    (two_jobs / "summary.md").mkdir()
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(two_jobs)}}})
    with caplog.at_level("INFO", logger="sweeper.collect"):
        collect_module.CollectCallback().on_multirun_end(config)
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].exc_info is None
    assert errors[0].getMessage() == (
        f"could not collect {two_jobs}: cannot write to {two_jobs / 'summary.md'}: "
        "exists and is not a file"
    )
    assert not (two_jobs / "results.csv").exists()


def _without_dac_override() -> None:
    """In the child, before exec: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the
    bounding set, so root's process obeys file modes like any user's (prctl PR_CAPBSET_DROP)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


@pytest.mark.slow
def test_a_read_only_sweep_folder_is_one_error_line_after_the_table(tmp_path):
    """A real EACCES from a folder mode 0555 (as root: without CAP_DAC_OVERRIDE)."""
    sweep = tmp_path / "sweep"
    fake_job(sweep / "0", 0, ["model.hidden=3"])
    fake_job(sweep / "1", 1, ["model.hidden=5"])
    sweep.chmod(0o555)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "sweeper.collect", str(sweep)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=tmp_path,
            preexec_fn=_without_dac_override if os.geteuid() == 0 else None,
            timeout=120,
        )
    finally:
        sweep.chmod(0o755)
    assert done.returncode == 1, done.stderr
    assert done.stderr == f"sweeper collect: error: cannot write to {sweep}: Permission denied\n"
    assert "2 jobs collected" in done.stdout and "model.hidden" in done.stdout
    assert sorted(p.name for p in sweep.iterdir()) == ["0", "1"]


def test_compare_refuses_to_write_over_an_input_or_into_a_folder(adder_sweep, tmp_path, capsys):
    collect(adder_sweep)
    results = adder_sweep / "results.csv"
    before = results.read_bytes()
    assert compare_module.main([str(results), str(results), "--out", str(results)]) == 2
    assert "is an input or a file of an input sweep" in capsys.readouterr().err
    assert results.read_bytes() == before
    # an input given as a folder: its own tables are never replaced, whichever is named
    summary = (adder_sweep / "results_by_config.csv").read_bytes()
    for name in ("results.csv", "results_by_config.csv", "summary.md"):
        args = [str(adder_sweep), "--by", "loss", "--out", str(adder_sweep / name)]
        assert compare_module.main(args) == 2
        assert "it would be overwritten" in capsys.readouterr().err
    assert results.read_bytes() == before
    assert (adder_sweep / "results_by_config.csv").read_bytes() == summary
    args = [str(adder_sweep), "--by", "loss", "--out", str(adder_sweep / "mse_vs_ce.csv")]
    assert compare_module.main(args) == 0  # another name in the sweep folder is fine
    copy = tmp_path / "b.csv"  # B: not A itself (refused), nor a copy of it (a warning line)
    pd.read_csv(results).iloc[:-1].to_csv(copy, index=False)
    (tmp_path / "out").mkdir()
    assert compare_module.main([str(results), str(copy), "--out", str(tmp_path / "out")]) == 2
    assert (
        capsys.readouterr().err == f"sweeper compare: error: --out {tmp_path / 'out'} is a folder\n"
    )
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "cmp.csv"  # its folder is a file
    assert compare_module.main([str(results), str(copy), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"sweeper compare: error: cannot write to {tmp_path / 'file'}: ")
    assert err.count("\n") == 1


def test_each_task_class_draws_its_own_sweep_figures(tmp_path, caplog):
    """Figures come from each job's `task._target_`; a class that no longer imports only
    loses its figures (with a warning), never the table."""
    sweep = tmp_path / "sweep"
    memory = {**GOOD_RECORD["settings"], "task._target_": "sweeper.tasks.memory.MemoryTask"}
    gone = {**GOOD_RECORD["settings"], "task._target_": "my_gone_tasks.parity.ParityTask"}
    fake_job(sweep / "0", 0, ["model.hidden=3"])  # the adder
    fake_job(sweep / "1", 1, ["model.hidden=5"], record=dict(GOOD_RECORD, settings=memory))
    fake_job(sweep / "2", 2, ["model.hidden=7"], record=dict(GOOD_RECORD, settings=gone))
    with caplog.at_level("WARNING"):
        result = collect(sweep)
    assert len(result.results) == 3
    assert (sweep / "bit_accuracy_vs_length.png").exists()  # AdderTask's
    assert (sweep / "accuracy_vs_length.png").exists()  # MemoryTask's
    assert "no task figures for my_gone_tasks.parity.ParityTask" in caplog.text


def test_jobs_made_before_tasks_were_plugins_still_get_their_task_figures(tmp_path):
    """Older metrics.json name the task only (`task: adder`, no `task._target_`)."""
    sweep = tmp_path / "sweep"
    old_settings = {"task": "adder", "model": "lstm", "hidden": 8, "loss": "ce"}
    for num, hidden in enumerate((3, 5)):
        record = dict(GOOD_RECORD, settings={**old_settings, "hidden": hidden})
        fake_job(sweep / str(num), num, [f"model.hidden={hidden}"], record=record)
    result = collect(sweep)
    assert len(result.results) == 2
    assert (sweep / "bit_accuracy_vs_length.png").exists()  # the adder's, found by its name


def test_a_pivot_over_three_keys_has_a_column_per_row_key_not_tuples():
    from sweeper.collect import pivot_markdown

    rows = pd.MultiIndex.from_tuples(
        [("0.001", "3"), ("0.01", "5")], names=["optim.lr", "model.hidden"]
    )
    table = pd.DataFrame({"mse": ["0.9000", "0.8000"], "ce": ["0.7000", "–"]}, index=rows)
    lines = pivot_markdown(table).splitlines()
    assert lines[0].replace(" ", "") == "|optim.lr|model.hidden|mse|ce|"
    assert lines[2].replace(" ", "") == "|0.001|3|0.9000|0.7000|"
    assert "(" not in pivot_markdown(table)
