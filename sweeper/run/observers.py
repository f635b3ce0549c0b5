"""Which observers a job gets: the one place that decides it from the job's config.

The training loop (`sweeper.core.train`) tells its observers about each epoch and
the run's end without knowing what they are (`sweeper.core.observers`). Here a
job's config picks them, in call order: the orphan guard (a job in a worker
process), the curves figure (curves.png), the search's pruning observer
(`sweeper.run.pruning`) and the experiment loggers (`sweeper.loggers`), which see
curves.png among the run's files.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from sweeper.core.observers import EpochObserver, orphan_guard
from sweeper.core.record import RunRecord
from sweeper.loggers import build_loggers
from sweeper.run.pruning import pruning_observer

HISTORY = "history.csv"
CURVES = "curves.png"


class CurvesFigure:
    """curves.png at the run's end, from its history.csv (every epoch, resumed ones too):
    training and validation loss and the validation score per epoch. Not drawn for an
    interrupted run (it is not finished) or one without a finished epoch."""

    def __init__(self, out_dir: Path, title: str) -> None:
        self.out_dir, self.title = out_dir, title

    def epoch_end(self, row: dict[str, Any]) -> None:
        pass

    def run_end(self, record: RunRecord) -> None:
        history = self.out_dir / HISTORY
        if record.status == "interrupted" or not history.is_file():
            return
        # matplotlib (~0.5 s to import) only in a job that draws: a sweep's jobs do not
        from sweeper.reports.plots import plot_run_curves

        plot_run_curves(pd.read_csv(history), self.out_dir / CURVES, self.title)


def run_curves_title(settings: Mapping[str, Any]) -> str:
    """A job's curves.png title from its settings (dotted keys, as in metrics.json):
    `adder: lstm, hidden 10, loss ce` (the model's own keys)."""
    target = str(settings.get("model._target_", ""))
    parts = [str(settings.get("model.cell") or target.rsplit(".", 1)[-1])]
    if settings.get("model.bidirectional"):
        parts[0] += " (bidirectional)"
    if settings.get("model.hidden") is not None:
        parts.append(f"hidden {settings['model.hidden']}")
    return f"{settings.get('task.name')}: {', '.join(parts)}, loss {settings.get('loss.name')}"


def curves_title(cfg: DictConfig) -> str:
    """curves.png's title: `adder: lstm, hidden 10, loss ce` (the model's own keys)."""
    settings = {f"model.{key}": cfg.model.get(key) for key in cfg.model}
    return run_curves_title({**settings, "task.name": cfg.task.name, "loss.name": cfg.loss.name})


def draws_curves(has_loggers: bool) -> bool:
    """Whether a job draws its own curves.png as it ends: a single run does; a job of a
    sweep (grid or search) does not, unless a tracker logs the figure with its files:
    the sweep's collect draws the missing ones (`sweeper.collect`), and a search running
    needs none."""
    if has_loggers or not HydraConfig.initialized():
        return True
    return HydraConfig.get().mode != RunMode.MULTIRUN


def build_observers(cfg: DictConfig, out_dir: Path) -> list[EpochObserver]:
    """The observers a run with config `cfg` writing into `out_dir` gets, in call order.

    Raises ConfigError for an observer's settings it cannot use (before the run trains)."""
    observers: list[EpochObserver] = []
    guard = orphan_guard()
    if guard is not None:
        observers.append(guard)
    loggers = build_loggers(cfg, out_dir)
    if draws_curves(bool(loggers)):
        observers.append(CurvesFigure(out_dir, curves_title(cfg)))
    pruner = pruning_observer(cfg)  # a search's trial with a pruner on
    if pruner is not None:
        observers.append(pruner)
    observers.extend(loggers)
    return observers
