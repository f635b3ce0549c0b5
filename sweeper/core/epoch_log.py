"""One INFO line per epoch in the job's log, whatever the terminal.

`fit` logs each epoch through the `sweeper.epochs` logger:

    epoch 3/30: train loss 0.1234, val loss 0.1111, val accuracy 98.76% (exact 95.00%),
    lr 0.03, 0.41 s    (on one line)

Hydra's file handler writes every line into the job's `train.log`, so a run
under SLURM, nohup or CI says how far it got while it runs. On a terminal where
tqdm's bars are shown, the bar already shows the epoch and its numbers, so the
line skips the handlers that write to that terminal (the log file still gets
it); off a terminal there is no bar and the console gets the lines too.

`bars_disabled` decides whether a job may draw tqdm's bars at all: only a job
running in the process the user started (a single run, or a multirun job of
Hydra's basic launcher) does. A job of `hydra/launcher=joblib` runs in a worker
process that shares the terminal with the sweep and with the other workers; its
bars would redraw over theirs and over the sweep's progress lines
(`sweeper.sweeps.progress`) into garbage, so it draws none and its epoch lines
go to the console as whole lines instead.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sweeper.core.private_apis import BASIC_LAUNCHER  # the in-process launcher, by name

NAME = "sweeper.epochs"
log = logging.getLogger(NAME)


def bars_disabled() -> bool | None:
    """tqdm's `disable` for this job's per-epoch bars: True in a process that is not the
    one the user started, else None (tqdm then draws them only on a terminal).

    True when this process has a parent process of `multiprocessing` (joblib's loky
    workers, any pool), or when Hydra runs a multirun whose launcher is not the basic,
    in-process one (joblib, submitit: their workers' output is not the sweep's)."""
    import multiprocessing

    if multiprocessing.parent_process() is not None:
        return True
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None
    hydra = HydraConfig.get()
    if hydra.mode != RunMode.MULTIRUN:
        return None

    target = str(hydra.launcher.get("_target_", "")) if hydra.launcher else ""
    return None if target in ("", BASIC_LAUNCHER) else True


def epoch_line(row: dict[str, Any], epochs: int) -> str:
    """The line for one history row (epoch, losses, the validation metrics, lr, seconds):
    accuracies in percent (`val accuracy 98.76% (exact 95.00%)`), others as numbers."""
    parts = []
    for key, value in row.items():
        name = key.removeprefix("val_")
        if name == key or name == "loss" or (name == "exact_accuracy" and "val_accuracy" in row):
            continue
        text = f"val {name.replace('_', ' ')} {_shown(name, value)}"
        if name == "accuracy" and "val_exact_accuracy" in row:
            text += f" (exact {_percent(row['val_exact_accuracy'])})"
        parts.append(text)
    parts.append("")  # the comma before lr
    return (
        f"epoch {row['epoch']}/{epochs}: train loss {_number(row.get('train_loss'))}, "
        f"val loss {_number(row.get('val_loss'))}, {', '.join(parts)}"
        f"lr {_number(row.get('lr'), '.3g')}, {float(row.get('seconds', math.nan)):.2f} s"
    )


def _number(value: Any, spec: str = ".4f") -> str:
    return format(float(value), spec) if isinstance(value, (int, float)) else "n/a"


def _shown(name: str, value: Any) -> str:
    """An accuracy (a fraction) in percent, any other metric as a number."""
    return _percent(value) if name.endswith("accuracy") else _number(value)


def _percent(value: Any) -> str:
    return f"{100 * float(value):.2f}%" if isinstance(value, (int, float)) else "n/a"


def log_epoch(row: dict[str, Any], epochs: int, bars_shown: bool = False) -> None:
    """Log `row` as the epoch's INFO line (see `epoch_line`); with `bars_shown`, not on the
    root logger's handlers that write to a terminal."""
    with quiet_on_terminal(bars_shown):
        log.info("%s", epoch_line(row, epochs))


class _NotEpochLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != NAME


def _on_terminal(handler: logging.Handler) -> bool:
    if not isinstance(handler, logging.StreamHandler) or isinstance(handler, logging.FileHandler):
        return False
    try:
        return bool(handler.stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


@contextmanager
def quiet_on_terminal(bars_shown: bool) -> Iterator[None]:
    """While it lasts, epoch lines skip the root logger's handlers that write to a terminal
    when `bars_shown` (tqdm's bars give the same numbers there); files still get them."""
    handlers = [h for h in logging.getLogger().handlers if _on_terminal(h)] if bars_shown else []
    quiet = _NotEpochLines()
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)
