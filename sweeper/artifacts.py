"""Atomic writes of a run's files: a reader sees the old file or the whole new one.

Every writer goes to a temporary file in the same folder and is renamed into
place, so a killed run never leaves a half-written metrics.json or model.pt.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import torch


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp_path)`, then rename tmp_path to `path` in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | Path, data: Any) -> Path:
    def write(tmp: Path) -> None:
        # allow_nan: a failed run may carry inf/nan metrics; json writes them as Infinity/NaN.
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")

    return atomic_write(path, write)


def write_csv(path: str | Path, frame: pd.DataFrame) -> Path:
    return atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def save_torch(path: str | Path, obj: Any) -> Path:
    return atomic_write(path, lambda tmp: torch.save(obj, tmp))


def save_figure(path: str | Path, figure: Any) -> Path:
    """Save a matplotlib figure (PNG) atomically; close it if pyplot made it.

    sweeper's own figures are plain `Figure`s; Optuna's plots come from pyplot,
    which keeps every figure open until it is closed."""
    try:
        return atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=110))
    finally:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close(figure)
