"""Predict with a finished run: `python -m sweeper.predict RUN_DIR INPUTS...`.

Loads the run's `model.pt` (with `torch.load(weights_only=True)`): its model
class (`model_target`, any importable `nn.Module`, a user's too) is rebuilt with
the saved keyword arguments, and the run's task class (`task._target_` in the
saved config) parses the inputs and prints the answers (`Task.predict`):

- mnist:  image files or folders of them, made MNIST-like by `sweeper.tasks.mnist_preprocess`;
          prints file, digit and confidence, and saves the preprocessed inputs
          with their predictions as a figure (`--figure`, default RUN_DIR/predict.png);
- memory: a digit sequence, e.g. `3 1 4 1 5`, -> the digit at the trained position;
- adder:  two non-negative integers -> their predicted sum in binary and decimal,
          and whether it is right;
- a user's task: whatever its `predict` reads (run from the folder its module
  imports from, as the sweep was).

Each input that cannot be used gets its own error line; the others are still
predicted, and the exit code is 1 if any failed (2 if the run itself cannot
be loaded: no model.pt, a class that no longer imports, weights that do not fit).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import torch

from sweeper.core.config import ConfigError
from sweeper.core.modelspec import ModelSpec
from sweeper.tasks import legacy_task_target
from sweeper.tasks.base import Task, task_class

LEGACY_MODEL = "sweeper.models.SequenceModel"  # the one model class before model._target_


class RunError(Exception):
    """The run folder cannot be used for predictions."""


def load_run(run_dir: str | Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The trained model (eval mode, CPU) and the resolved config of a finished run.

    Raises RunError (one line) when the folder, model.pt or its model class cannot be used."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: no such run folder")
    checkpoint = run_dir / "model.pt"
    if not checkpoint.is_file():
        raise RunError(f"{run_dir}: no model.pt (not a finished sweeper run)")
    try:
        saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
        # model.pt of a run made before models were plugins: always sweeper's model
        spec = ModelSpec(saved.get("model_target", LEGACY_MODEL), saved["model_kwargs"])
        model = spec.build()
        model.load_state_dict(saved["state_dict"])
    except ConfigError as error:  # the model class does not import (here)
        raise RunError(f"{checkpoint}: {error}") from None
    except Exception as error:  # unpickling refused, missing keys, wrong shapes
        raise RunError(f"{checkpoint}: cannot load ({type(error).__name__}: {error})") from None
    return model.eval(), saved["config"]


def run_task(run_dir: Path, config: dict[str, Any]) -> type[Task]:
    """The run's task class, from its config's `task._target_`; RunError if unusable."""
    task = config.get("task") or {}
    target = task.get("_target_") or legacy_task_target(task.get("name"))
    if target is None:
        raise RunError(f"{run_dir}: its config names no task._target_ (made by an older sweeper)")
    try:
        return task_class(target)
    except ConfigError as error:
        raise RunError(f"{run_dir}: {error}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sweeper predict", description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", type=Path, help="a finished run's folder (with model.pt)")
    parser.add_argument("inputs", nargs="+", help="what the run's task reads (see its predict)")
    parser.add_argument("--figure", type=Path, help="where a task that draws saves its figure")
    args = parser.parse_args(argv)
    try:
        model, config = load_run(args.run_dir)
        cls = run_task(args.run_dir, config)
    except RunError as error:
        print(f"sweeper predict: error: {error}", file=sys.stderr)
        return 2
    ok = cls.predict(model, config, args.inputs, args.run_dir, args.figure)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
