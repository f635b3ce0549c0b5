"""The task protocol: everything the framework asks of a task, in one abstract class.

A task is a class that subclasses `Task` (importable as `sweeper.tasks.base.Task`
too), named by `task._target_` in its YAML
(`conf/task/<name>.yaml`, or a user's own `--config-dir`). The training loop,
config validation, `collect`, `predict` and the benchmark talk to a task only
through this class; none of them knows a task by name. A new task needs two
files: its module (any importable one) and its YAML.

What a task declares (class attributes and classmethods: known before any data
is made, so a grid can be checked before its first job):

- `Config`: a dataclass subclassing `TaskConfig`, the schema of the `task` node.
  `task_config` merges the composed node into `OmegaConf.structured(Config)`: a
  value of the wrong type, an unknown key or a missing one is a one-line
  `ConfigError` naming `task.<key>`. `check(cfg)` adds the value rules (ranges,
  one key against another) and raises `ConfigError` too.
- `target`: the target kind, a `sweeper.core.targets.TargetKind` (how logits are
  shaped, the losses, what an evaluation measures); a built-in one may be named
  instead by `kind = "bits"` (one 0/1 target per step: logits (batch, steps)) or
  `kind = "classes"` (one class per sequence: logits (batch, output_size)).
- `input_size`, `output_size` (features per step in and out), `seq_len` (a fixed
  length, or None when lengths vary), `natural_readout` (what a model with
  `readout: auto` reads out; see `sweeper.models`).
- `splits(cfg)` and `metric_names(cfg)`: the test splits (`test`,
  `extrapolation`, ...) and the metrics a finished run will have, so a wrong
  `objective.metric` is refused before training; `headline_metrics(cfg)`: those a
  run is described by (`sweeper.core.metrics`: metrics.json carries them).
- `describe(metrics)`: the one line a run logs at its end.
- `sweep_figures(by_length, labels, folder)`: the figures `collect` draws for a
  sweep of this task from its `by_length` table (`sweep_figure_names()` lists
  their file names, checked before anything is written).
- `predict(model, config, inputs, run_dir, figure)`: how `sweeper.predict` parses
  the inputs a user gives on the command line and prints the model's answers.

What a task instance gives the training loop (data on `device`, made once in
`__init__`; validation and test data from `cfg.data_seed`, so every run of a
sweep is judged on the same data):

- `train_batches(generator)`: one epoch of (x, y) batches, x (batch, steps,
  input_size) float32, y as `kind` says (bits: (batch, steps) float 0/1;
  classes: (batch,) int64); randomness only from `generator`;
- `val_batches()`: the validation set as (x, y) batches;
- `test_sets()`: `EvalSet`s, one per (split, length): by_length.csv's rows;
- `metrics(by_length)`: the test metrics from by_length (`<split>_accuracy`, ...);
- `model_inputs()`: what the model is built with (`input_size`, `output_size`,
  `seq_len`, `input_mean`, `input_std`: the model standardises its inputs with the
  last two, so a saved model carries its own preprocessing);
- `readout(requested, bidirectional)`: the readout a model with a `readout` key uses;
- `write_figures(model, out_dir)`: the task's own figures of a trained model.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import torch
from omegaconf import MISSING, DictConfig

from sweeper.core.config import ConfigError, check_rules, non_negative_int
from sweeper.core.metrics import final_metrics, headline
from sweeper.core.targets import TargetKind, kind_of

Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass
class EvalSet:
    """One evaluation group: a split at one length (None for fixed-length data)."""

    split: str  # e.g. "test" (lengths trained on) or "extrapolation" (longer ones)
    length: int | None
    batches: list[Batch]


@dataclass
class TaskConfig:
    """The keys every task has; a task's `Config` subclasses this and adds its own."""

    _target_: str = MISSING  # the Task subclass, e.g. sweeper.tasks.adder.AdderTask
    name: str = MISSING  # shown in logs, folder names and study names
    data_seed: int = 1234  # fixes the validation and test data across runs


class Task(ABC):
    """A task: its schema, data, target kind, metrics, figures and predict (module docstring)."""

    Config: ClassVar[type[TaskConfig]] = TaskConfig
    target: ClassVar[TargetKind]  # what its targets are (sweeper.core.targets)
    kind: ClassVar[str]  # the target kind's name: set it ("bits", "classes") or `target`
    input_size: int
    output_size: int
    seq_len: int | None = None
    # How `describe` names a test split's score (`extrapolation`: "beyond training lengths");
    # by default `<split> <score>`: "test accuracy".
    split_labels: ClassVar[dict[str, str]] = {}
    natural_readout: ClassVar[str] = "last"
    input_mean: float = 0.0
    input_std: float = 1.0
    num_train_batches: int  # batches per epoch (for the lr schedule and progress bars)

    def __init__(self, cfg: DictConfig, device: torch.device, batch_size: int) -> None:
        """`cfg`: the task node as `task_config` returns it (checked); `batch_size`: the
        trainer's. Subclasses make their data here; raise ConfigError for data that
        cannot be used (a missing file, a split larger than the data)."""
        self.cfg = cfg
        self.name: str = cfg.name
        self.device = device
        self.batch_size = batch_size

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A built-in kind named by `kind` becomes `target`; a `target` names `kind`."""
        super().__init_subclass__(**kwargs)
        if "target" not in cls.__dict__ and "kind" in cls.__dict__:
            # An unknown name leaves no target: `sweeper.tasks.base.task_class` refuses it.
            cls.target = kind_of(cls.__dict__["kind"])  # type: ignore[assignment]
        elif isinstance(cls.__dict__.get("target"), TargetKind):
            cls.kind = cls.__dict__["target"].name

    # ------------------------------------------------------------------ declared

    @classmethod
    def check(cls, cfg: DictConfig) -> None:
        """Value rules beyond the types `Config` declares; raise ConfigError naming `task.<key>`."""
        check_rules(cfg, "task", {"data_seed": non_negative_int})

    @classmethod
    def splits(cls, cfg: DictConfig) -> list[str]:
        """The test splits `test_sets` will return, in order (known from the config)."""
        return ["test"]

    @classmethod
    def metric_names(cls, cfg: DictConfig) -> list[str]:
        """Every metric a finished run's metrics.json holds (to check `objective.metric`)."""
        return final_metrics(cls.target, cls.splits(cfg))

    @classmethod
    def headline_metrics(cls, cfg: DictConfig) -> dict[str, str]:
        """The metrics a run is described by, each with its direction (summary tables,
        compare, confirm): the validation score, then each split's headline ones."""
        return headline(cls.target, cls.splits(cfg))

    @classmethod
    def describe(cls, metrics: dict[str, float]) -> str:
        """The end-of-run line: `test accuracy 99.10%, beyond training lengths 98.00%`."""
        score = cls.target.score
        parts = []
        for name, value in metrics.items():
            split = name.removesuffix(f"_{score}")
            if split == name or split in ("train", "val") or not isinstance(value, (int, float)):
                continue
            label = cls.split_labels.get(split, f"{split} {score.replace('_', ' ')}")
            shown = f"{value:.2%}" if score.endswith("accuracy") else f"{value:.4f}"
            parts.append(f"{label} {shown}")
        return ", ".join(parts)

    @classmethod
    def sweep_figure_names(cls) -> tuple[str, ...]:
        """The file names `sweep_figures` writes into a sweep folder."""
        return ()

    @classmethod
    def sweep_figures(
        cls, by_length: pd.DataFrame, labels: dict[str, str], folder: Path
    ) -> list[Path]:
        """Figures of a sweep from its by_length rows of this task (columns job, split,
        length, accuracy, ...); `labels`: job -> legend label. Returns the paths written."""
        return []

    @classmethod
    def predict(
        cls,
        model: torch.nn.Module,
        config: dict[str, Any],
        inputs: list[str],
        run_dir: Path,
        figure: Path | None,
    ) -> bool:
        """Parse `inputs` (the command line's), print one answer line per input; False if
        any input could not be used (each gets its own `<input>: error: <why>` line).
        `config`: the run's resolved config; `model`: on the CPU, in eval mode."""
        print(f"{config['task']['name']}: error: this task does not implement predict")
        return False

    # ------------------------------------------------------------------ data

    @abstractmethod
    def train_batches(self, generator: torch.Generator) -> Iterator[Batch]:
        """One epoch of (x, y) training batches on the device, drawn with `generator`."""

    @abstractmethod
    def val_batches(self) -> list[Batch]:
        """The validation set as (x, y) batches on the device."""

    @abstractmethod
    def test_sets(self) -> list[EvalSet]:
        """One EvalSet per (split, length), in the order of `splits`."""

    # ------------------------------------------------------------------ results

    def metrics(self, by_length: pd.DataFrame) -> dict[str, float]:
        """`<split>_loss` and `<split>_<metric>` for each of the target kind's metrics:
        means over each split's lengths of by_length's `mean_loss` and metric columns."""
        columns = {"mean_loss": "loss", **{m: m for m in self.target.metrics}}
        metrics = {}
        for split, rows in by_length.groupby("split", sort=False):
            for column, name in columns.items():
                metrics[f"{split}_{name}"] = float(rows[column].mean())
        return metrics

    def model_inputs(self) -> dict[str, Any]:
        """What a model class may take from the task (each passed only if its signature
        names it; `input_size` and `output_size` always)."""
        return {
            "input_size": self.input_size,
            "output_size": self.output_size,
            "seq_len": self.seq_len,
            "input_mean": self.input_mean,
            "input_std": self.input_std,
        }

    def readout(self, requested: str, bidirectional: bool) -> str:
        """The readout for a model config's `readout` (`auto`: `natural_readout`).

        Raises ConfigError for one this task's data cannot use."""
        readout = self.natural_readout if requested == "auto" else requested
        if readout != self.natural_readout:
            raise ConfigError(
                f"model.readout={requested} does not fit task {self.name}; "
                f"use auto or {self.natural_readout}"
            )
        return readout

    def write_figures(self, model: torch.nn.Module, out_dir: Path) -> None:
        """The task's own figures of a trained model in `out_dir` (none by default)."""
        return None
