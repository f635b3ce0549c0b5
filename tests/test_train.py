"""train(cfg) end to end on each task: accuracy, files written, reproducibility, failures."""

from __future__ import annotations

import json
import math
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
import torch

import sweeper.core.train as train_module
import sweeper.run.job as job_module
from sweeper.models import SequenceModel
from sweeper.run.job import metric_names, train

RUN_FILES = {"metrics.json", "history.csv", "model.pt", "curves.png"}


def read_metrics(cfg) -> dict:
    return json.loads(Path(cfg.output_dir, "metrics.json").read_text())


def test_adder_learns_to_add(make_cfg):
    cfg = make_cfg("loss=ce")
    value = train(cfg)
    record = read_metrics(cfg)
    assert record["status"] == "ok" and record["reason"] is None
    assert value == record["objective"] == record["metrics"]["val_accuracy"]
    assert value > 0.99  # mean bit accuracy over lengths 1..20
    assert record["metrics"]["test_exact_accuracy"] > 0.9


def test_adder_learns_with_mse_too(make_cfg):
    cfg = make_cfg("loss=mse")
    assert train(cfg) > 0.97


def test_bf16_precision_trains_and_is_recorded(make_cfg, monkeypatch):
    seen = []
    real_forward = SequenceModel.forward

    def spy(self, x):
        out = real_forward(self, x)
        seen.append(out.dtype)
        return out

    monkeypatch.setattr(SequenceModel, "forward", spy)
    cfg = make_cfg("loss=ce", "trainer.precision=bf16")
    assert train(cfg) > 0.97
    record = read_metrics(cfg)
    assert record["settings"]["trainer.precision"] == "bf16"
    assert torch.bfloat16 in seen  # the model really ran under autocast
    # weights stay float32: the checkpoint is the same kind as an fp32 run's
    state = torch.load(Path(cfg.output_dir, "model.pt"), weights_only=True)["state_dict"]
    assert {v.dtype for v in state.values()} == {torch.float32}


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_is_bf16_only_where_the_cpu_computes_it(make_cfg, monkeypatch, native):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    seen = set()
    real_forward = SequenceModel.forward
    monkeypatch.setattr(
        SequenceModel,
        "forward",
        lambda self, x: seen.add((out := real_forward(self, x)).dtype) or out,
    )
    cfg = make_cfg("device=cpu", "trainer.precision=auto", "trainer.epochs=1")
    train(cfg)
    assert read_metrics(cfg)["settings"]["trainer.precision"] == ("bf16" if native else "fp32")
    assert seen == ({torch.bfloat16} if native else {torch.float32})  # what really ran


def test_only_mnist_defaults_to_auto_precision(make_cfg):
    assert make_cfg("task=mnist").trainer.precision == "auto"
    assert make_cfg("task=mnist", "device=cpu").trainer.precision == "auto"  # task sets it last
    assert make_cfg("task=mnist", "trainer.precision=fp32").trainer.precision == "fp32"
    assert make_cfg("task=memory").trainer.precision == "fp32"


def test_memory_learns_to_recall(make_cfg):
    cfg = make_cfg("task=memory", "model.hidden=10")
    assert train(cfg) > 0.9


@pytest.mark.parametrize("model", ["rnn", "lstm", "bilstm"])
def test_mnist_learns_the_fake_digits(make_cfg, mnist_root, model):
    cfg = make_cfg("task=mnist", f"model={model}", f"task.data_root={mnist_root}")
    train(cfg)
    record = read_metrics(cfg)
    assert record["status"] == "ok"
    assert record["metrics"]["test_accuracy"] > 0.8
    assert record["objective_metric"] == "val_accuracy"
    assert not Path(cfg.output_dir, "by_length.csv").exists()


def test_run_writes_every_file(make_cfg, tmp_path):
    cfg = make_cfg("trainer.epochs=2", "trainer.stop_accuracy=null")
    train(cfg)
    out = tmp_path / "run"
    assert RUN_FILES | {"by_length.csv"} <= {p.name for p in out.iterdir()}
    assert not list(out.glob(".*.tmp"))  # no leftovers of the atomic writes
    history = pd.read_csv(out / "history.csv")
    assert list(history["epoch"]) == [1, 2]
    assert {"train_loss", "val_loss", "val_accuracy"} <= set(history.columns)
    by_length = pd.read_csv(out / "by_length.csv")
    assert list(by_length["length"]) == [*range(1, 21), 24]
    assert set(by_length["split"]) == {"test", "extrapolation"}
    assert {"accuracy", "exact_accuracy", "mean_loss", "n"} <= set(by_length.columns)
    record = json.loads((out / "metrics.json").read_text())
    assert record["settings"]["model.hidden"] == 8 and record["settings"]["loss.name"] == "ce"
    assert record["metrics"]["epochs_run"] == 2 and record["wall_seconds"] > 0
    assert list(record["metrics"]) == metric_names(cfg)
    assert record["metrics"]["test_accuracy"] == pytest.approx(
        by_length.query("split == 'test'")["accuracy"].mean()
    )
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_model_pt_reloads_with_weights_only(make_cfg, tmp_path):
    cfg = make_cfg("task=memory", "trainer.epochs=1")
    train(cfg)
    saved = torch.load(tmp_path / "run" / "model.pt", weights_only=True)
    assert saved["model_target"] == "sweeper.models.SequenceModel"
    model = SequenceModel(**saved["model_kwargs"])
    model.load_state_dict(saved["state_dict"])
    assert saved["config"]["task"]["name"] == "memory"
    assert model(torch.zeros(2, 5, 10)).shape == (2, 10)


def test_same_config_and_seed_give_identical_metrics(make_cfg, tmp_path):
    runs = []
    for name in ("a", "b"):
        cfg = make_cfg("task=memory", "trainer.epochs=3", out=tmp_path / name)
        train(cfg)
        record = json.loads((tmp_path / name / "metrics.json").read_text())
        runs.append((record["metrics"], (tmp_path / name / "history.csv").read_text()))
    assert runs[0][0] == runs[1][0]
    strip_seconds = lambda text: pd.read_csv(StringIO(text)).drop(  # noqa: E731
        columns=["seconds", "train_seconds"]
    )
    pd.testing.assert_frame_equal(strip_seconds(runs[0][1]), strip_seconds(runs[1][1]))
    cfg = make_cfg("task=memory", "trainer.epochs=3", "seed=1", out=tmp_path / "c")
    train(cfg)
    other = json.loads((tmp_path / "c" / "metrics.json").read_text())["metrics"]
    assert other != runs[0][0]


def test_nan_loss_fails_the_run_not_the_process(make_cfg, tmp_path, monkeypatch):
    real_make_loss = job_module.make_loss

    def poisoned(name, kind):
        loss = real_make_loss(name, kind)
        return lambda logits, y: loss(logits, y) * float("nan")

    monkeypatch.setattr(job_module, "make_loss", poisoned)
    cfg = make_cfg()
    value = train(cfg)
    assert value == -math.inf and not math.isnan(value)
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["status"] == "failed" and "nan" in record["reason"].lower()
    assert record["objective"] == -math.inf
    assert not (tmp_path / "run" / "model.pt").exists()
    assert len(pd.read_csv(tmp_path / "run" / "history.csv")) == 1


def test_failed_minimised_objective_is_plus_inf(make_cfg, monkeypatch):
    monkeypatch.setattr(train_module, "fit", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    cfg = make_cfg("objective.metric=val_loss", "objective.direction=minimize")
    assert train(cfg) == math.inf
    assert read_metrics(cfg)["reason"] == "RuntimeError: boom"


def test_huge_learning_rate_is_recorded_not_raised(make_cfg):
    cfg = make_cfg("optim.name=sgd", "optim.lr=1e30", "trainer.grad_clip=0", "trainer.epochs=2")
    value = train(cfg)
    record = read_metrics(cfg)
    assert not math.isnan(value)
    assert record["status"] in {"ok", "failed"}  # either way, a finished record


def test_unknown_objective_metric_is_a_config_error(make_cfg):
    from sweeper.core.config import ConfigError

    cfg = make_cfg("objective.metric=nope", "trainer.epochs=1")
    with pytest.raises(ConfigError, match="objective.metric=nope is not a metric of task adder"):
        train(cfg)
    assert not Path(cfg.output_dir).exists()  # refused before any file was written


def test_early_stop_and_keep_best(make_cfg, tmp_path):
    cfg = make_cfg("trainer.epochs=40", "trainer.stop_accuracy=0.5")
    train(cfg)
    record = read_metrics(cfg)
    assert record["metrics"]["epochs_run"] < 40
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert history["val_accuracy"].iloc[-1] >= 0.5


def test_stop_epochs_needs_that_many_epochs_in_a_row_at_the_stop_level(make_cfg, tmp_path):
    def history_with(stop_epochs: int) -> pd.DataFrame:
        out = tmp_path / f"stop-{stop_epochs}"
        cfg = make_cfg(
            "trainer.epochs=40",
            "trainer.stop_accuracy=0.5",
            f"trainer.stop_epochs={stop_epochs}",
            out=out,
        )
        train(cfg)
        return pd.read_csv(out / "history.csv")

    once, twice = history_with(1), history_with(2)
    first = int((once["val_accuracy"] >= 0.5).idxmax())  # the first epoch at the level
    assert len(once) == first + 1
    # the same seed trains identically up to there; then it needs a second epoch in a row
    assert twice["val_accuracy"].iloc[: len(once)].tolist() == once["val_accuracy"].tolist()
    at_level = (twice["val_accuracy"] >= 0.5).tolist()
    assert at_level[-2:] == [True, True] and len(twice) > len(once)
    assert not any(a and b for a, b in zip(at_level[:-2], at_level[1:-1]))  # no earlier pair


class _Recorder:
    """An epoch observer that keeps what it is told and can stop training."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.rows: list[dict] = []
        self.ends: list[str] = []
        self.stop_after = stop_after

    def epoch_end(self, row: dict) -> None:
        self.rows.append(dict(row))
        if self.stop_after is not None and row["epoch"] >= self.stop_after:
            raise RuntimeError(f"observer stopped at epoch {row['epoch']}")

    def run_end(self, record) -> None:
        self.ends.append(record.status)


def test_observers_see_every_epoch_row_and_the_run_end(make_cfg, tmp_path, monkeypatch):
    recorder = _Recorder()
    monkeypatch.setattr(job_module, "build_observers", lambda cfg, out_dir: [recorder])
    train(make_cfg("trainer.epochs=3", "trainer.patience=10"))
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert [row["epoch"] for row in recorder.rows] == [1, 2, 3]
    assert [row["val_accuracy"] for row in recorder.rows] == list(history["val_accuracy"])
    assert recorder.ends == ["ok"]


def test_an_observer_raising_ends_training_there_and_is_recorded(make_cfg, tmp_path, monkeypatch):
    recorder = _Recorder(stop_after=2)
    monkeypatch.setattr(job_module, "build_observers", lambda cfg, out_dir: [recorder])
    train(make_cfg("trainer.epochs=5", "trainer.patience=10"))
    record = read_metrics(make_cfg())
    assert record["status"] == "failed" and "observer stopped at epoch 2" in record["reason"]
    assert len(pd.read_csv(tmp_path / "run" / "history.csv")) == 2
    assert recorder.ends == ["failed"]


def test_preflight_builds_each_task_and_model_once_whatever_the_seed(make_cfg, monkeypatch):
    calls = []
    real = job_module.prepare
    monkeypatch.setattr(
        job_module, "prepare", lambda cfg, device: calls.append(1) or real(cfg, device)
    )
    preflight = job_module.Preflight()
    for seed in (0, 1, 2):
        preflight.check(make_cfg(f"seed={seed}"))
    assert len(calls) == 1  # a seed grid builds its task once
    preflight.check(make_cfg("model.hidden=5"))
    assert len(calls) == 2
    with pytest.raises(job_module.ConfigError, match="objective.metric=nope"):
        preflight.check(make_cfg("objective.metric=nope"))
    with pytest.raises(job_module.ConfigError, match="objective.metric=nope"):
        preflight.check(make_cfg("objective.metric=nope", "seed=4"))  # the cached refusal
    assert len(calls) == 3
