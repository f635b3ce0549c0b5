"""MLflow database stores: parallel jobs creating a new store all log their runs (a lock),
and a database that cannot be used costs one line at once, not MLflow's 10 retries."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from conftest import SMALL_RUN, closed_port, sweeper
from sweeper.loggers.mlflow_store import (
    StoreError,
    backend,
    check_database,
    lock_path,
    shown_uri,
    store_lock,
)
from sweeper.run.job import train

TWO_EPOCHS = (
    "task.train_size=512",
    "task.val_size=100",
    "task.test_per_length=10",
    "trainer.epochs=2",
    "trainer.patience=0",
    "trainer.stop_accuracy=null",
)
RETRY_WARNING = "SQLAlchemy engine could not be created"  # MLflow's, once per retry


def test_database_uris_and_their_lock_files(tmp_path):
    assert backend("postgresql+psycopg2://u@h/db") == "postgresql"
    assert backend("sqlite:///mlruns/mlflow.db") == "sqlite"
    assert backend("http://127.0.0.1:5000") is None and backend("file:///tmp/x") is None
    assert lock_path("sqlite:///mlruns/mlflow.db") == Path("mlruns/mlflow.db.lock")
    assert lock_path("http://server:5000") is None
    one, two = lock_path("postgresql://h/a"), lock_path("postgresql://h/b")
    assert one != two and one.name.startswith("sweeper-mlflow-")
    assert shown_uri("postgresql://me:secret@db.example:5432/x") == (
        "postgresql://me:***@db.example:5432/x"
    )
    assert shown_uri("sqlite:///mlruns/mlflow.db") == "sqlite:///mlruns/mlflow.db"


def test_store_lock_excludes_a_second_process(tmp_path):
    """While one holder has the lock, another process's non-blocking flock fails."""
    import subprocess
    import sys

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    probe = (
        "import fcntl, sys\n"
        "f = open(sys.argv[1], 'a')\n"
        "try:\n    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept OSError:\n"
        "    sys.exit(3)\n"
    )
    with store_lock(uri):
        held = subprocess.run([sys.executable, "-c", probe, str(lock_path(uri))])
    free = subprocess.run([sys.executable, "-c", probe, str(lock_path(uri))])
    assert (held.returncode, free.returncode) == (3, 0)


@pytest.mark.parametrize(
    "uri, start",
    [
        ("postgresql://u:secret@127.0.0.1:{port}/db", "cannot reach it (connection failed"),
        ("mssql+pyodbc://u:secret@127.0.0.1:{port}/db", "cannot use it ("),
        ("nosuchdb+x://u@127.0.0.1/db", None),  # no database MLflow knows: MLflow's own error
    ],
)
def test_check_database_is_one_line(uri, start):
    uri = uri.format(port=closed_port())
    if start is None:
        check_database(uri)  # not ours to check
        return
    if uri.startswith("mssql"):
        pytest.importorskip("sqlalchemy.dialects.mssql")
    with pytest.raises(StoreError) as raised:
        check_database(uri, timeout=2)
    assert str(raised.value).startswith(start) and "\n" not in str(raised.value)


def test_sqlite_file_that_is_no_database_is_one_line(tmp_path):
    (tmp_path / "notes.db").write_text("not a database, " * 100)
    with pytest.raises(StoreError, match=r"^cannot use it \(file is not a database\)"):
        check_database(f"sqlite:///{tmp_path / 'notes.db'}")


@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
def test_unreachable_database_uri_is_one_line_and_the_run_trains(make_cfg, scheme, caplog, capfd):
    """The issue's input: MLflow would retry ~100 s with 9 multi-line warnings."""
    pytest.importorskip("mlflow")
    uri = f"{scheme}://u:secret@127.0.0.1:{closed_port()}/db"
    cfg = make_cfg(*TWO_EPOCHS, "logger=mlflow", f"logger.mlflow.tracking_uri={uri}")
    with caplog.at_level(logging.WARNING):
        train(cfg)
    record = json.loads(Path(cfg.output_dir, "metrics.json").read_text())
    assert record["status"] == "ok"
    (error,) = record["logger_errors"]
    shown = uri.replace(":secret@", ":***@")
    assert error.startswith(f"mlflow: tracking URI {shown}: cannot ")
    assert "secret" not in error and "\n" not in error
    output = caplog.text + "".join(capfd.readouterr())
    assert RETRY_WARNING not in output
    warnings = [r for r in caplog.records if "logger mlflow" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.slow
def test_joblib_grid_into_a_new_store_logs_every_run(tmp_path, monkeypatch):
    """Two joblib workers open a store that does not exist yet: each job gets its run."""
    pytest.importorskip("mlflow")
    from mlflow import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    result = sweeper(
        *SMALL_RUN,
        "trainer.epochs=1",
        "model.hidden=3,5",  # two jobs, started together: the race
        "logger=mlflow",
        "logger.mlflow.log_artifacts=false",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "hydra.sweep.dir=sweep",
        "-m",
        cwd=tmp_path,
        env={"MLFLOW_DISABLE_TELEMETRY": "true"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "logger mlflow" not in result.stdout + result.stderr
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("sweep")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.data.tags["sweeper.job"] for r in runs) == ["0", "1"]
    assert all(r.info.status == "FINISHED" for r in runs)
    for job in range(2):
        record = json.loads((tmp_path / "sweep" / str(job) / "metrics.json").read_text())
        assert record["logger_errors"] == []
