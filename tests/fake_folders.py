"""Sweep folders written by hand or by tiny real runs, shared by the tests of collect,
compare, confirm, the statistics and report.html: job folders as Hydra and a finished run
leave them (metrics.json, .hydra/, history.csv, by_length.csv) and results.csv rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from omegaconf import OmegaConf
from PIL import Image, ImageDraw

from sweeper.run.job import train

TINY = ["trainer.epochs=1", "task.train_size=256"]


def make_job(make_cfg, sweep: Path, num: int, *overrides: str) -> Path:
    """A job folder as Hydra leaves it: .hydra/{config,overrides}.yaml plus the run's files."""
    job = sweep / str(num)
    cfg = make_cfg(*overrides, *TINY, out=job)
    train(cfg)
    (job / ".hydra").mkdir(parents=True, exist_ok=True)
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(list(overrides)))
    OmegaConf.save(cfg, job / ".hydra" / "config.yaml")
    return job


GOOD_RECORD = {
    "status": "ok",
    "reason": None,
    "objective": 0.75,
    "objective_metric": "test_accuracy",
    "objective_direction": "maximize",
    "metrics": {"test_accuracy": 0.75, "val_loss": 0.5, "epochs_run": 2},
    "settings": {
        "task.name": "adder",
        "task._target_": "sweeper.tasks.adder.AdderTask",
        "model.hidden": 8,
        "loss.name": "ce",
        "device.name": "cpu",
    },
    "parameters": 123,
    "wall_seconds": 1.5,
}


HISTORY = "epoch,train_loss,val_loss,val_accuracy\n1,0.9,0.8,0.6\n2,0.5,0.4,0.75\n"


BY_LENGTH = "split,length,n,loss,accuracy\ntest,1,10,0.3,0.9\ntest,2,10,0.4,0.8\n"


def fake_job(
    folder: Path,
    num: int,
    overrides: list[str],
    record: dict | None = None,
    config: dict | None = None,
    choices: dict | None = None,
) -> Path:
    """A finished job folder as Hydra and sweeper.core.train leave it, with made-up numbers."""
    hydra = folder / ".hydra"
    hydra.mkdir(parents=True)
    config = config or {"model": {"hidden": 8}, "loss": {"name": "ce"}, "task": {"name": "adder"}}
    (hydra / "config.yaml").write_text(yaml.safe_dump(config))
    hydra_cfg = {"job": {"num": num}, "runtime": {"choices": choices or {"loss": "ce"}}}
    (hydra / "hydra.yaml").write_text(yaml.safe_dump({"hydra": hydra_cfg}))
    (hydra / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    (folder / "metrics.json").write_text(json.dumps(record or GOOD_RECORD))
    (folder / "history.csv").write_text(HISTORY)
    (folder / "by_length.csv").write_text(BY_LENGTH)
    return folder


COLUMNS = ["status", "objective", "objective_metric", "objective_direction", "test_accuracy"]


def results_csv(path: Path, rows: list[dict], keys: list[str]) -> Path:
    """A results.csv as collect writes it: job, the override keys, status, metrics, settings."""
    frame = pd.DataFrame(rows)
    frame.insert(0, "job", range(len(frame)))
    rest = [c for c in frame.columns if c not in ("job", *keys, *COLUMNS)]
    frame[["job", *keys, *[c for c in COLUMNS if c in frame], *rest]].to_csv(path, index=False)
    return path


FIXED = {"task": "task.name", "epochs": "trainer.epochs"}  # fixed settings' results.csv names


def grid(spell: str, shifts: dict, seeds=range(5), noise=0.01, rng_seed=0, **fixed) -> list[dict]:
    """Rows of a hidden 3/5/10 grid x seeds; test_accuracy = 0.8 + shift[hidden] + noise."""
    rng = np.random.default_rng(rng_seed)
    rows = []
    for hidden in (3, 5, 10):
        for seed in seeds:
            value = 0.8 + shifts.get(hidden, 0.0) + rng.normal(0, noise)
            rows.append(
                {
                    "task": fixed.get("task", "adder"),
                    "task.name": fixed.get("task", "adder"),
                    "model.hidden": hidden,
                    spell: hidden,
                    "seed": seed,
                    "status": "ok",
                    "objective": value,
                    "objective_metric": "test_accuracy",
                    "objective_direction": "maximize",
                    "test_accuracy": value,
                    "trainer.epochs": 30,
                    **{FIXED.get(k, k): v for k, v in fixed.items()},
                }
            )
    return rows


def report_job(
    sweep: Path,
    name: str,
    overrides: list[str],
    objective: float | None,
    status: str = "ok",
    reason: str | None = None,
    epochs: int = 3,
) -> Path:
    """A job folder as a finished run leaves it: .hydra/overrides.yaml, metrics.json, CSVs."""
    job = sweep / name
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    (job / ".hydra" / "config.yaml").write_text("seed: 0\n")
    record = {
        "status": status,
        "reason": reason,
        "objective": objective if status == "ok" else None,
        "objective_metric": "test_accuracy",
        "objective_direction": "maximize",
        "metrics": {"test_accuracy": objective, "epochs_run": epochs} if objective else {},
        "settings": {
            "task.name": "adder",
            "task._target_": "sweeper.tasks.adder.AdderTask",
            "model.cell": "lstm",
            "model.bidirectional": False,
        },
        "wall_seconds": 1.5,
    }
    (job / "metrics.json").write_text(json.dumps(record))
    if status == "ok":
        epoch = np.arange(1, epochs + 1)
        pd.DataFrame(
            {
                "epoch": epoch,
                "train_loss": 1.0 / epoch,
                "val_loss": 1.1 / epoch,
                "val_accuracy": objective * epoch / epochs,
            }
        ).to_csv(job / "history.csv", index=False)
        lengths = np.arange(1, 6)
        pd.DataFrame(
            {"split": "test", "length": lengths, "accuracy": objective, "exact_accuracy": 0.5}
        ).to_csv(job / "by_length.csv", index=False)
    return job


def killed_job(job: Path, overrides: list[str]) -> None:
    """A job folder Hydra made whose run never wrote metrics.json (killed)."""
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "config.yaml").write_text("seed: 0\n")
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))


def draw_seven(
    size=(200, 150), box=(120, 30, 170, 110), ink=30, paper=225, noise=0.0, angle=0.0, seed=0
) -> Image.Image:
    """A '7' drawn with thick strokes inside `box` on a (width, height) sheet."""
    rng = np.random.default_rng(seed)
    image = Image.new("L", size, paper)
    pen = ImageDraw.Draw(image)
    left, top, right, bottom = box
    width = max(3, (right - left) // 6)
    pen.line([(left, top), (right, top)], fill=ink, width=width)
    pen.line([(right, top), (left + (right - left) // 3, bottom)], fill=ink, width=width)
    if angle:
        image = image.rotate(angle, fillcolor=paper)
    array = np.asarray(image, dtype=np.float32)
    if noise:
        array = array + rng.normal(0, noise, array.shape)
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))
