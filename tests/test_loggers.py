"""The `logger` group: TensorBoard and MLflow read back with their own readers, failures
that never cost the run, bad settings refused, and the per-epoch log lines."""

from __future__ import annotations

import json
import logging
import shutil
import sys
from io import StringIO
from pathlib import Path

import pytest

from conftest import (
    SMALL_RUN,
    closed_port,
    console_script,
    get_json,
    loopback_get,
    serving,
    sweeper,
)
from sweeper.core.checkpoint import Checkpointer
from sweeper.core.config import ConfigError
from sweeper.core.epoch_log import epoch_line, log_epoch
from sweeper.core.record import BadFile, check_record
from sweeper.run.job import train
from sweeper.run.validate import validate

# Two epochs of a small adder, never stopped early: a second or two.
TWO_EPOCHS = (
    "task.train_size=512",
    "task.val_size=100",
    "task.test_per_length=10",
    "trainer.epochs=2",
    "trainer.patience=0",
    "trainer.stop_accuracy=null",
)


def events(folder: Path):
    """TensorBoard's own reader over one event folder."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder))
    accumulator.Reload()
    return accumulator


def hparams_session(accumulator) -> tuple[dict, str]:
    """The HParams plugin's session start (name -> value) and end status of a run."""
    from tensorboard.plugins.hparams import api_pb2, metadata

    content = accumulator.PluginTagToContent(metadata.PLUGIN_NAME)
    start = metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG])
    values = {k: getattr(v, v.WhichOneof("kind")) for k, v in start.hparams.items()}
    values["(trial id)"] = start.group_name
    status = "none"
    if metadata.SESSION_END_INFO_TAG in content:
        end = metadata.parse_session_end_info_plugin_data(content[metadata.SESSION_END_INFO_TAG])
        status = api_pb2.Status.Name(end.status)
    return values, status


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory) -> Path:
    """An empty MLflow SQLite store with its tables made (MLflow's migrations take ~10 s,
    once); tests copy it."""
    pytest.importorskip("mlflow")
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


def test_tensorboard_run_reads_back_scalars_and_hparams(make_cfg, tmp_path):
    pytest.importorskip("tensorboard")
    plain = make_cfg(*TWO_EPOCHS, out=tmp_path / "plain")
    cfg = make_cfg(*TWO_EPOCHS, "logger=[csv,tensorboard]", out=tmp_path / "run")
    train(plain)
    train(cfg)
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    # the logger changes nothing of the run: same metrics as without it, no error
    assert (
        record["metrics"]
        == json.loads((tmp_path / "plain" / "metrics.json").read_text())["metrics"]
    )
    assert record["logger_errors"] == []
    accumulator = events(tmp_path / "run" / "tensorboard")  # a single run's own folder
    history = [line.split(",") for line in (tmp_path / "run/history.csv").read_text().split()]
    column = history[0].index("val_loss")
    val_loss = [(e.step, e.value) for e in accumulator.Scalars("val_loss")]
    assert val_loss == [(i, pytest.approx(float(history[i][column]))) for i in (1, 2)]
    for tag in ("train_loss", "val_accuracy", "val_exact_accuracy", "lr", "seconds"):
        assert [e.step for e in accumulator.Scalars(tag)] == [1, 2]
    final = accumulator.Scalars("final/test_accuracy")
    assert final[0].value == pytest.approx(record["metrics"]["test_accuracy"])
    assert accumulator.Scalars("final/objective")[0].value == pytest.approx(record["objective"])
    hparams, status = hparams_session(accumulator)
    assert status == "STATUS_SUCCESS"
    assert hparams["model.hidden"] == 8 and hparams["optim.lr"] == pytest.approx(0.03)
    assert hparams["loss.name"] == "ce" and hparams["model.cell"] == "lstm"


def test_tensorboard_log_dir_holds_runs_by_folder(make_cfg, tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    monkeypatch.chdir(tmp_path)
    cfg = make_cfg(*TWO_EPOCHS, "logger=tensorboard", "logger.tensorboard.log_dir=tb")
    train(cfg)
    assert hparams_session(events(tmp_path / "tb" / "run"))[1] == "STATUS_SUCCESS"


def test_mlflow_run_reads_back(make_cfg, tmp_path, monkeypatch, mlflow_store):
    from mlflow import MlflowClient

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mlruns").mkdir()
    shutil.copy(mlflow_store, tmp_path / "mlruns" / "mlflow.db")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cfg = make_cfg(*TWO_EPOCHS, "logger=mlflow")
    assert cfg.logger.mlflow.tracking_uri == "sqlite:///mlruns/mlflow.db"  # the default
    train(cfg)
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["logger_errors"] == []
    client = MlflowClient(tracking_uri="sqlite:///mlruns/mlflow.db")
    experiment = client.get_experiment_by_name("adder")  # a single run: the task's name
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED" and run.data.tags["sweeper.status"] == "ok"
    params = run.data.params
    assert params["model.hidden"] == "8" and params["loss.name"] == "ce"
    assert params["device.name"] == "cpu" and params["trainer.precision"] == "fp32"  # as ran
    history = client.get_metric_history(run.info.run_id, "val_accuracy")
    assert [m.step for m in history] == [1, 2]
    assert run.data.metrics["final/test_accuracy"] == pytest.approx(
        record["metrics"]["test_accuracy"]
    )
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"metrics.json", "history.csv", "curves.png", "model.pt", "by_length.csv"} <= artifacts
    assert "checkpoint.pt" not in artifacts
    local = Path(client.download_artifacts(run.info.run_id, "metrics.json", str(tmp_path)))
    assert json.loads(local.read_text()) == record


def test_failing_trackers_cost_the_run_nothing(make_cfg, tmp_path, monkeypatch, caplog):
    pytest.importorskip("tensorboard")
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    (tmp_path / "a_file").write_text("in the way")
    uri = f"http://127.0.0.1:{closed_port()}"
    cfg = make_cfg(
        *TWO_EPOCHS,
        "logger=[csv,tensorboard,mlflow]",
        f"logger.tensorboard.log_dir={tmp_path / 'a_file' / 'tb'}",
        f"logger.mlflow.tracking_uri={uri}",
    )
    plain = make_cfg(*TWO_EPOCHS, out=tmp_path / "plain")
    with caplog.at_level(logging.WARNING):
        train(cfg)
    train(plain)
    out = Path(cfg.output_dir)
    record = json.loads((out / "metrics.json").read_text())
    assert record["status"] == "ok"
    assert record["metrics"] == json.loads((tmp_path / "plain/metrics.json").read_text())["metrics"]
    assert {"history.csv", "by_length.csv", "curves.png", "model.pt"} <= {
        p.name for p in out.iterdir()
    }
    tensorboard, mlflow = record["logger_errors"]
    assert tensorboard.startswith(f"tensorboard: cannot write to {tmp_path / 'a_file'}")
    assert mlflow == f"mlflow: tracking URI {uri}: cannot reach it ([Errno 111] Connection refused)"
    warnings = [r.getMessage() for r in caplog.records if r.name == "sweeper.loggers"]
    assert len(warnings) == 2  # once per logger, not once per epoch
    assert all("\n" not in w and w.startswith("sweeper: warning: logger ") for w in warnings)


def test_missing_packages_are_one_line_each(make_cfg, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow -> ImportError
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    cfg = make_cfg(*TWO_EPOCHS, "logger=[tensorboard,mlflow]")
    train(cfg)
    record = json.loads(Path(cfg.output_dir, "metrics.json").read_text())
    assert record["status"] == "ok"
    assert record["logger_errors"] == [
        "tensorboard: the tensorboard package is not installed "
        "(pip install 'sweeper[tensorboard]')",
        "mlflow: the mlflow package is not installed (pip install 'sweeper[mlflow]')",
    ]


def test_an_interrupted_run_ends_its_tensorboard_session(make_cfg, monkeypatch):
    pytest.importorskip("tensorboard")
    real_save = Checkpointer.save

    def save(self, state):
        real_save(self, state)
        if state["epoch"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(Checkpointer, "save", save)
    cfg = make_cfg(*TWO_EPOCHS, "logger=tensorboard")
    with pytest.raises(KeyboardInterrupt):
        train(cfg)
    assert json.loads(Path(cfg.output_dir, "metrics.json").read_text())["status"] == "interrupted"
    accumulator = events(Path(cfg.output_dir) / "tensorboard")
    assert hparams_session(accumulator)[1] == "STATUS_UNKNOWN"  # the plugin has no "stopped"
    assert [e.step for e in accumulator.Scalars("val_loss")] == [1]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "logger.mlflow.log_artifacts=maybe",
            "logger.mlflow.log_artifacts must be true or false, got 'maybe'",
        ),
        ("logger.mlflow.experiment=''", "logger.mlflow.experiment must be null or an experiment"),
        ("logger.mlflow.tracking_uri=null", "logger.mlflow.tracking_uri must be an MLflow"),
        ("logger.mlflow.tracking_uri=3", "logger.mlflow.tracking_uri must be an MLflow"),
        ("+logger.mlflow.uri=x", "logger.mlflow.uri is not a setting of mlflow"),
        ("+logger.wandb.project=x", "logger.wandb is not a logger: choose among csv, tens"),
        ("logger.tensorboard.log_dir=''", "logger.tensorboard.log_dir must be null or a folder"),
    ],
)
def test_bad_logger_settings_are_config_errors(make_cfg, override, message):
    cfg = make_cfg("logger=[tensorboard,mlflow]", override)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        validate(cfg)


def test_logger_none_and_csv_add_nothing(make_cfg):
    for choice in ("none", "csv", "[csv]", "[none,csv]"):
        validate(make_cfg(f"logger={choice}"))


def test_record_checks_logger_errors():
    base = {"status": "ok", "objective": 1.0}
    assert check_record({**base, "logger_errors": ["mlflow: down"]})
    with pytest.raises(BadFile, match="logger_errors is 'x', not a list of strings"):
        check_record({**base, "logger_errors": "x"})


def test_every_epoch_has_an_info_line(make_cfg, caplog):
    cfg = make_cfg(*TWO_EPOCHS)
    with caplog.at_level(logging.INFO, logger="sweeper.epochs"):
        train(cfg)
    lines = [r.getMessage() for r in caplog.records if r.name == "sweeper.epochs"]
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2: train loss ")
    assert all(word in lines[1] for word in ("val loss", "val accuracy", "(exact", "lr 0.0", " s"))


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_epoch_lines_skip_a_terminal_showing_bars_but_never_the_log_file(tmp_path):
    root = logging.getLogger()
    terminal, piped = Terminal(), StringIO()
    handlers = [
        logging.StreamHandler(terminal),
        logging.StreamHandler(piped),
        logging.FileHandler(tmp_path / "train.log"),
    ]
    old_level = root.level
    root.setLevel(logging.INFO)
    for handler in handlers:
        root.addHandler(handler)
    row = {"epoch": 1, "train_loss": 0.5, "val_loss": 0.25, "val_accuracy": 0.5, "lr": 1e-3}
    try:
        log_epoch({**row, "seconds": 1.0}, 3, bars_shown=True)
        log_epoch({**row, "epoch": 2, "seconds": 2.0}, 3, bars_shown=False)
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(old_level)
    assert terminal.getvalue().splitlines() == [epoch_line({**row, "epoch": 2, "seconds": 2}, 3)]
    assert len(piped.getvalue().splitlines()) == 2
    assert len((tmp_path / "train.log").read_text().splitlines()) == 2
    assert epoch_line({**row, "seconds": 1.0}, 3) == (
        "epoch 1/3: train loss 0.5000, val loss 0.2500, val accuracy 50.00%, lr 0.001, 1.00 s"
    )


@pytest.mark.slow
def test_grid_with_tensorboard_compares_the_sweep(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.plugin_event_multiplexer import EventMultiplexer
    from tensorboard.plugins.hparams import metadata
    from tensorboard.util import tensor_util

    result = sweeper(
        *SMALL_RUN,
        "model.hidden=3,5",
        "loss=mse",
        "logger=[csv,tensorboard]",
        "hydra.sweep.dir=sweep",
        "-m",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # What TensorBoard loads for `tensorboard --logdir sweep/tensorboard`: one run per job,
    # each an HParams session, so the HParams tab compares the two.
    multiplexer = EventMultiplexer().AddRunsFromDirectory(str(tmp_path / "sweep" / "tensorboard"))
    multiplexer.Reload()
    sessions = multiplexer.PluginRunToTagToContent(metadata.PLUGIN_NAME)
    assert sorted(sessions) == ["0", "1"]
    hidden = {}
    for run in ("0", "1"):
        values, status = hparams_session(multiplexer.GetAccumulator(run))
        hidden[run] = values["model.hidden"]
        assert values["(trial id)"] == f"{run} (sweep)"  # the job and its sweep folder
        assert "loss" not in values and values["loss.name"] == "mse"  # the group's keys
        assert status == "STATUS_SUCCESS"
        record = json.loads((tmp_path / "sweep" / run / "metrics.json").read_text())
        accumulator = multiplexer.GetAccumulator(run)
        # TensorBoard's loader keeps scalars as tensors
        (final,) = accumulator.Tensors("final/test_accuracy")
        value = tensor_util.make_ndarray(final.tensor_proto).item()
        assert value == pytest.approx(record["metrics"]["test_accuracy"])
        assert [e.step for e in accumulator.Tensors("val_accuracy")] == [1, 2]
    assert hidden == {"0": 3, "1": 5}
    # the event folders are not jobs: collect sees the two jobs only
    results = (tmp_path / "sweep" / "results.csv").read_text().splitlines()
    assert len(results) == 3


@pytest.fixture(scope="module")
def mlflow_grid(tmp_path_factory, mlflow_store) -> Path:
    """The folder a 2-job grid (`model.hidden=3,5 logger=mlflow`, sweep folder `sweep`) ran
    in, with the MLflow store it logged into at its default place, mlruns/mlflow.db. Its
    tests read it; none writes to it."""
    folder = tmp_path_factory.mktemp("mlflow-grid")
    (folder / "mlruns").mkdir()
    shutil.copy(mlflow_store, folder / "mlruns" / "mlflow.db")
    with pytest.MonkeyPatch.context() as patch:  # no_telemetry is per test
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        result = sweeper(
            *SMALL_RUN,
            "model.hidden=3,5",
            "logger=mlflow",
            "hydra.sweep.dir=sweep",
            "-m",
            cwd=folder,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return folder


@pytest.mark.slow
def test_grid_with_mlflow_is_one_experiment_of_runs(mlflow_grid):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{mlflow_grid / 'mlruns' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("sweep")  # the sweep folder's name
    runs = client.search_runs([experiment.experiment_id], order_by=["tags.`sweeper.job`"])
    assert [r.data.tags["sweeper.job"] for r in runs] == ["0", "1"]
    assert [r.data.params["model.hidden"] for r in runs] == ["3", "5"]
    assert [r.info.run_name for r in runs][0].startswith("0: ")
    for run in runs:
        record = json.loads(
            (mlflow_grid / "sweep" / run.data.tags["sweeper.job"] / "metrics.json").read_text()
        )
        assert run.info.status == "FINISHED" and record["logger_errors"] == []
        assert run.data.metrics["final/objective"] == pytest.approx(record["objective"])
        history = client.get_metric_history(run.info.run_id, "train_loss")
        assert [m.step for m in history] == [1, 2]
        hydra_files = {a.path for a in client.list_artifacts(run.info.run_id, ".hydra")}
        assert ".hydra/overrides.yaml" in hydra_files


@pytest.mark.slow
def test_mlflow_ui_from_this_environment_serves_a_grid(mlflow_grid, tmp_path):
    """`mlflow ui` runs from sweeper's own environment (SQLAlchemy 2, as Optuna's storage)
    on the store a grid wrote, started where the grid ran; its REST API lists the sweep's
    experiment, its runs and their artifacts."""
    port = closed_port()
    base = f"http://127.0.0.1:{port}"
    store = "sqlite:///mlruns/mlflow.db"  # the default tracking URI, relative to the folder
    command = [console_script("mlflow"), "ui", "--backend-store-uri", store]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    no_jobs = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}  # its job runners: ~3 s more
    log = tmp_path / "mlflow-ui.log"
    with serving(command, f"{base}/health", log, cwd=mlflow_grid, wait=60, env=no_jobs):
        api = f"{base}/api/2.0/mlflow"
        experiments = get_json(f"{api}/experiments/search", {"max_results": 10})["experiments"]
        [sweep] = [e for e in experiments if e["name"] == "sweep"]
        query = {"experiment_ids": [sweep["experiment_id"]], "max_results": 10}
        runs = get_json(f"{api}/runs/search", {**query, "order_by": ["tags.`sweeper.job`"]})
        runs = runs["runs"]
        files = get_json(f"{api}/artifacts/list?run_id={runs[0]['info']['run_id']}")["files"]
        page = loopback_get(f"{base}/")

    assert sorted(e["name"] for e in experiments) == ["Default", "sweep"]
    assert [r["info"]["status"] for r in runs] == ["FINISHED", "FINISHED"]
    for job, run in enumerate(runs):
        tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
        params = {p["key"]: p["value"] for p in run["data"]["params"]}
        metrics = {m["key"]: m["value"] for m in run["data"]["metrics"]}
        record = json.loads((mlflow_grid / "sweep" / str(job) / "metrics.json").read_text())
        assert (tags["sweeper.job"], tags["sweeper.status"]) == (str(job), "ok")
        assert params["model.hidden"] == ["3", "5"][job]
        assert metrics["final/objective"] == pytest.approx(record["objective"])
    assert {"history.csv", "model.pt", "metrics.json", ".hydra"} <= {f["path"] for f in files}
    assert b"<html" in page.lower()


def test_mlflow_store_that_cannot_be_made_is_one_line(make_cfg, tmp_path):
    pytest.importorskip("mlflow")
    (tmp_path / "a_file").write_text("in the way")
    uri = f"sqlite:///{tmp_path / 'a_file' / 'mlflow.db'}"
    cfg = make_cfg(*TWO_EPOCHS, "logger=mlflow", f"logger.mlflow.tracking_uri={uri}")
    train(cfg)
    record = json.loads(Path(cfg.output_dir, "metrics.json").read_text())
    assert record["status"] == "ok"
    assert record["logger_errors"] == [
        f"mlflow: tracking URI {uri}: cannot make {tmp_path / 'a_file'}: a file is in the way"
    ]


def test_mlflow_deleted_experiment_is_named(make_cfg, tmp_path, mlflow_store):
    from mlflow import MlflowClient

    shutil.copy(mlflow_store, tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    client.delete_experiment(client.create_experiment("mine"))
    cfg = make_cfg(
        *TWO_EPOCHS,
        "logger=mlflow",
        f"logger.mlflow.tracking_uri={uri}",
        "logger.mlflow.experiment=mine",
    )
    train(cfg)
    (error,) = json.loads(Path(cfg.output_dir, "metrics.json").read_text())["logger_errors"]
    assert error == (
        f"mlflow: tracking URI {uri}: experiment 'mine' is deleted: restore it "
        "(mlflow experiments restore) or set logger.mlflow.experiment"
    )
