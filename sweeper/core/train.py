"""The one training loop, for every task, model and loss.

`train(cfg)` is what the Hydra entrypoint calls for each job: it checks the
config, builds the task (`task._target_`, a `sweeper.tasks.base.Task`) and the
model (`model._target_`, any `nn.Module`: `sweeper.core.modelspec`), fits with the
`trainer.*` settings, evaluates on the task's test sets and writes the run's
files into `cfg.output_dir`. It knows tasks and models only through those
protocols, never by name:

    metrics.json   status ok/failed/pruned (+ reason), final metrics, key settings, wall seconds
                   (one schema: sweeper.core.record.RunRecord)
    history.csv    per epoch: train loss, val loss, val accuracy (+ exact), lr,
                   seconds in training steps and in all (with validation)
    by_length.csv  per split and length: n, mean_loss, accuracy (+ exact_accuracy for bits)
    model.pt       state dict + model class and arguments + resolved config
                   (loads with weights_only=True)
    checkpoint.pt  after every epoch, until the run ends: everything needed to resume it
                   (sweeper.core.checkpoint); re-running in the same folder continues from it
    curves.png     training loss, validation loss, validation accuracy per epoch
    ...            the task's own figures (Task.write_figures)

It returns the configured objective as a float for Hydra's sweepers (a list of
floats for a multi-objective `objective.metric=[a,b]`: sweeper.core.objectives); a
run that fails (a NaN loss, an exception in training) returns the worst value
(-inf when maximising, inf when minimising) so a sweep carries on.

The run holds its folder's lock throughout (sweeper.core.run_folder): a folder in
use by another process, an unwritable one, or one holding a finished run is
refused with a RunFolderError before anything is written. A KeyboardInterrupt
(Ctrl-C, or SIGTERM via sweeper.core.interrupt) is recorded as `status:
interrupted`, keeps the checkpoint, and is raised again for the sweep above.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from omegaconf import DictConfig, ListConfig, OmegaConf
from tqdm.auto import tqdm

from sweeper.core.artifacts import save_torch, write_csv
from sweeper.core.checkpoint import CHECKPOINT_NAME, Checkpointer, rng_state, set_rng_state
from sweeper.core.config import ConfigError
from sweeper.core.epoch_log import bars_disabled, log_epoch
from sweeper.core.interrupt import answered, raise_unanswered, signal_name
from sweeper.core.losses import LossFn
from sweeper.core.metrics import epoch_metrics
from sweeper.core.modelspec import ModelSpec, check_output
from sweeper.core.objectives import Objective, objective_of
from sweeper.core.observers import EpochObserver, Pruned
from sweeper.core.optim import CosineSchedule, Optimizer
from sweeper.core.private_apis import cpu_has_native_bf16
from sweeper.core.record import RunRecord
from sweeper.core.run_folder import RunFolder, RunFolderError, refuse_finished
from sweeper.core.targets import TargetKind
from sweeper.core.task import Batch, Task

log = logging.getLogger(__name__)


class Diverged(RuntimeError):
    """The loss stopped being a finite number."""


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (model initialisation)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def forward(model: torch.nn.Module, x: torch.Tensor, target: TargetKind) -> torch.Tensor:
    """The model's logits for x (batch, steps, input_size), shaped as the target kind
    needs ((batch, steps) for bits, (batch, classes) for classes: `TargetKind.forward`).

    Always float32 (a no-op unless under bf16 autocast), so losses are computed in full
    precision."""
    return target.forward(model, x)


def native_bf16(device: torch.device) -> bool:
    """Whether `device` computes in bfloat16 natively (a CUDA GPU that supports it, a CPU
    with AVX512-BF16 or AMX), rather than emulating it at a loss."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()

    return cpu_has_native_bf16()


def resolve_precision(requested: str, device: torch.device) -> str:
    """`trainer.precision`: fp32, bf16, or auto (bf16 where `native_bf16`, else fp32)."""
    if requested == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return requested


def precision(cfg: DictConfig, device: torch.device) -> torch.autocast:
    """bf16: autocast the model to bfloat16 (weights and optimiser stay float32). On this
    project's CPU (AVX512-BF16) an MNIST LSTM epoch takes 3.9 s instead of 5.7."""
    bf16 = resolve_precision(cfg.trainer.precision, device) == "bf16"
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)


@torch.no_grad()
def evaluate(
    model: torch.nn.Module, batches: list[Batch], loss_fn: LossFn, target: TargetKind
) -> dict[str, float]:
    """`n` (sequences), `loss` (mean per target element) and each of the target kind's
    metrics (`TargetKind.metrics`: accuracy, exact_accuracy, ...) over `batches`."""
    model.eval()
    loss_sum, elements, sequences = 0.0, 0, 0
    tally: dict[str, float] = {}
    for x, y in batches:
        logits = forward(model, x, target)
        loss_sum += float(loss_fn(logits, y)) * y.numel()
        elements, sequences = elements + y.numel(), sequences + y.shape[0]
        for key, value in target.tally(logits, y).items():
            tally[key] = tally.get(key, 0) + value
    return {"n": sequences, "loss": loss_sum / elements, **target.summarize(tally)}


def check_model_output(model: torch.nn.Module, task: Task, spec: ModelSpec) -> None:
    """ConfigError unless the model's logits for a few validation inputs fit the task's
    targets (a user's model with the wrong output shape fails here, before training)."""
    batches = task.val_batches()
    was_training = model.training
    model.eval()
    try:
        # The first and last validation batches: the shortest and longest sequences, so a
        # length that happens to equal output_size cannot hide a wrong shape.
        for x, y in (batches[0], batches[-1]):
            x, y = x[:2], y[:2]
            try:
                with torch.no_grad():
                    logits = forward(model, x, task.target)
            except Exception as error:  # a model that cannot take the task's inputs
                why = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise ConfigError(
                    f"model._target_={spec.target} fails on inputs of shape {tuple(x.shape)}: {why}"
                ) from None
            check_output(logits, x, y, task.target, spec)
    finally:
        model.train(was_training)


@dataclass
class Progress:
    """The early-stopping state that `fit` carries from epoch to epoch (and checkpoints)."""

    best_score: tuple[float, float] | None = None  # (val score, higher better; -val loss)
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] | None = None  # with trainer.keep_best
    stale: int = 0  # epochs since the best one
    at_stop_level: int = 0  # epochs in a row at trainer.stop_accuracy
    stopped: bool = False  # a stop rule ended training

    def state_dict(self) -> dict[str, Any]:
        state = dict(vars(self))
        state["best_score"] = None if self.best_score is None else list(self.best_score)
        return state

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Progress:
        best_score = state["best_score"]
        return cls(**{**state, "best_score": None if best_score is None else tuple(best_score)})


@dataclass
class Training:
    """What one run's training carries besides the model: the optimiser, the learning-rate
    schedule, the data stream's generator and the early-stopping `progress`; with the
    model, the history and the RNGs, a checkpoint of it (`checkpoint`) continues exactly."""

    optimizer: Optimizer
    scheduler: CosineSchedule | None
    generator: torch.Generator
    progress: Progress

    @classmethod
    def start(cls, model: torch.nn.Module, task: Task, cfg: DictConfig) -> Training:
        """Adam or SGD (`optim.*`, the gradient clip applied inside the fused step: see
        sweeper.core.optim), the cosine schedule over every step of `trainer.epochs`, the
        data stream seeded by `seed`."""
        optimizer = Optimizer(
            model.parameters(),
            cfg.optim.name,
            cfg.optim.lr,
            cfg.optim.weight_decay,
            grad_clip=cfg.trainer.grad_clip,
        )
        scheduler = None
        if cfg.optim.schedule == "cosine":
            scheduler = CosineSchedule(optimizer, cfg.trainer.epochs * task.num_train_batches)
        return cls(optimizer, scheduler, torch.Generator().manual_seed(cfg.seed), Progress())

    def resume(
        self, checkpoint: dict[str, Any], model: torch.nn.Module, history: list[dict[str, Any]]
    ) -> int:
        """Restore everything `checkpoint` holds; returns the first epoch still to train."""
        model.load_state_dict(checkpoint["model"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(checkpoint["schedule"])
        self.generator.set_state(checkpoint["generator"])
        set_rng_state(checkpoint["rng"])
        self.progress = Progress.from_state_dict(checkpoint["progress"])
        history[:] = checkpoint["history"]
        return int(checkpoint["epoch"]) + 1

    def checkpoint(
        self, epoch: int, model: torch.nn.Module, history: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The state after `epoch` that `resume` restores (sweeper.core.checkpoint saves it)."""
        return {
            "epoch": epoch,
            "history": history,
            "model": model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": None if self.scheduler is None else self.scheduler.state_dict(),
            "generator": self.generator.get_state(),
            "rng": rng_state(),
            "progress": self.progress.state_dict(),
        }


def train_epoch(
    model: torch.nn.Module,
    task: Task,
    training: Training,
    loss_fn: LossFn,
    autocast: torch.autocast,
    disable: bool | None,
) -> float:
    """One pass over the task's training batches; the mean loss per sequence."""
    model.train()
    device = next(model.parameters()).device
    optimizer, scheduler = training.optimizer, training.scheduler
    loss_sum, seen = torch.zeros((), device=device), 0
    batches = tqdm(
        task.train_batches(training.generator),
        total=task.num_train_batches,
        leave=False,
        disable=disable,
    )
    for x, y in batches:
        optimizer.zero_grad()
        with autocast:
            logits = forward(model, x, task.target)
        loss = loss_fn(logits, y)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        # Summed on the device: no host sync per step.
        loss_sum += loss.detach() * y.shape[0]
        seen += y.shape[0]
        raise_unanswered()  # a Ctrl-C whose KeyboardInterrupt was lost (core.interrupt)
    return float(loss_sum) / seen


def fit(
    model: torch.nn.Module,
    task: Task,
    cfg: DictConfig,
    loss_fn: LossFn,
    history: list[dict[str, Any]],
    checkpointer: Checkpointer | None = None,
    resume: dict[str, Any] | None = None,
    observers: Sequence[EpochObserver] = (),
) -> int:
    """Train for up to trainer.epochs, appending a row per epoch to `history`.

    Stops early after `trainer.patience` epochs without a better validation score
    (the target kind's `score`, e.g. accuracy, then loss) or once that score has reached
    `trainer.stop_accuracy` in `trainer.stop_epochs` epochs in a row.
    With `trainer.keep_best` the model ends with its best epoch's weights.
    Returns that epoch's number; raises Diverged on a non-finite loss.

    With a `checkpointer`, each finished epoch is saved (see sweeper.core.checkpoint);
    `resume`, a loaded checkpoint, restores model, optimiser, schedule, data stream,
    RNGs, early-stopping state and history (`Training`), and training goes on after its
    epoch exactly as if it had never stopped.
    Each of `observers` is told about every epoch trained here (not the resumed ones).
    """
    settings = cfg.trainer
    training = Training.start(model, task, cfg)
    first = 1 if resume is None else training.resume(resume, model, history)
    progress = training.progress
    device = next(model.parameters()).device
    # Read once, not per step: a DictConfig lookup costs microseconds the hot loop need not pay.
    autocast = precision(cfg, device)  # reusable: each `with` saves and restores its own state
    val_batches = task.val_batches()
    columns = epoch_metrics(task.target)  # history.csv's metric columns (sweeper.core.metrics)
    score = task.target.score
    last = first - 1 if progress.stopped else settings.epochs
    disable = bars_disabled()  # None: tqdm draws on a terminal; True in a joblib worker
    epochs = tqdm(
        range(first, last + 1),
        desc=f"{task.name} epochs",
        initial=first - 1,
        total=settings.epochs,
        disable=disable,
    )
    for epoch in epochs:
        started, lr = time.perf_counter(), training.optimizer.lr
        train_loss = train_epoch(model, task, training, loss_fn, autocast, disable)
        train_seconds = time.perf_counter() - started
        with autocast:
            val = evaluate(model, val_batches, loss_fn, task.target)
        measured = {"train_loss": train_loss, **{f"val_{k}": v for k, v in val.items()}}
        history.append(
            {
                "epoch": epoch,
                **{key: measured[key] for key in columns},
                "lr": lr,
                "train_seconds": train_seconds,
                "seconds": time.perf_counter() - started,
            }
        )
        log_epoch(history[-1], settings.epochs, bars_shown=not epochs.disable)
        if not (math.isfinite(train_loss) and math.isfinite(val["loss"])):
            raise Diverged(f"loss became {train_loss} (validation {val['loss']}) in epoch {epoch}")
        epochs.set_postfix({"loss": f"{train_loss:.4f}", f"val_{score}": f"{val[score]:.4f}"})
        _update_progress(progress, epoch, val, settings, model, task.target)
        if checkpointer is not None:
            checkpointer.save(training.checkpoint(epoch, model, history))
        for observer in observers:
            observer.epoch_end(history[-1])
        raise_unanswered()
        if progress.stopped:
            break
    if progress.best_state is not None:
        model.load_state_dict(progress.best_state)
        return progress.best_epoch
    return len(history)


def _update_progress(
    progress: Progress,
    epoch: int,
    val: dict[str, float],
    settings: DictConfig,
    model: torch.nn.Module,
    target: TargetKind,
) -> None:
    """Track the best epoch and the stop rules after `epoch`; set `progress.stopped`.

    An epoch is better for a higher `target.signed_score` (validation accuracy; a
    minimised score negated), then a lower validation loss."""
    score = (target.signed_score(val), -val["loss"])
    if progress.best_score is None or score > progress.best_score:
        progress.best_score, progress.best_epoch, progress.stale = score, epoch, 0
        if settings.keep_best:
            progress.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    else:
        progress.stale += 1
    level = settings.stop_accuracy
    reached = level is not None and target.reached(val[target.score], level)
    progress.at_stop_level = progress.at_stop_level + 1 if reached else 0
    if reached and progress.at_stop_level >= settings.stop_epochs:
        log.info(
            "epoch %d: validation %s %.4f at the stop level for %d epoch(s)",
            epoch,
            target.score.replace("_", " "),
            val[target.score],
            progress.at_stop_level,
        )
        progress.stopped = True
    elif settings.patience and progress.stale >= settings.patience:
        log.info(
            "epoch %d: no better validation score for %d epochs, stopping", epoch, progress.stale
        )
        progress.stopped = True


def evaluate_test_sets(model: torch.nn.Module, task: Task, loss_fn: LossFn) -> pd.DataFrame:
    """One row per (split, length) of the task's test sets."""
    rows = []
    for eval_set in task.test_sets():
        result = evaluate(model, eval_set.batches, loss_fn, task.target)
        result["mean_loss"] = result.pop("loss")  # `loss` would clash with the loss override key
        rows.append({"split": eval_set.split, "length": eval_set.length, **result})
    return pd.DataFrame(rows)


def save_checkpoint(path: Path, cfg: DictConfig, model: torch.nn.Module, spec: ModelSpec) -> None:
    """model.pt: weights, the model's class and arguments (`ModelSpec`), the resolved config.

    Only tensors and plain containers, so `torch.load(..., weights_only=True)` reads it."""
    save_torch(
        path,
        {
            "state_dict": model.state_dict(),
            "model_target": spec.target,
            "model_kwargs": spec.kwargs,
            "config": OmegaConf.to_container(cfg, resolve=True),
        },
    )


# metrics.json's `settings`: the config keys that tell runs apart (every key of the model
# and optim nodes too), spelt as overrides spell them, so results.csv has one column each.
SETTING_KEYS = (
    "task.name",
    "task._target_",
    "loss.name",
    "seed",
)
SETTING_NODES = ("model", "optim", "trainer")


def run_settings(cfg: DictConfig, device: torch.device | None = None) -> dict[str, Any]:
    """The settings that tell runs apart, for metrics.json and the sweep table: dotted
    config keys -> values; `device.name`, `device.threads` and `trainer.precision` as
    they ran on `device` (as configured when `device` is None: a refused run)."""
    settings = {key: _select(cfg, key) for key in SETTING_KEYS}
    for node in SETTING_NODES:
        values = _select(cfg, node)
        if isinstance(values, DictConfig):
            for key in values:
                value = _select(cfg, f"{node}.{key}")
                if value is None or isinstance(value, (str, int, float, bool)):
                    settings[f"{node}.{key}"] = value
    if device is None:
        settings["device.name"] = _select(cfg, "device.name")
        settings["trainer.precision"] = _select(cfg, "trainer.precision")
    else:
        settings["device.name"] = str(device)
        settings["device.threads"] = torch.get_num_threads()
        settings["trainer.precision"] = resolve_precision(cfg.trainer.precision, device)
    return settings


def worst_objective(cfg: DictConfig) -> float | list[float]:
    """What a failed run returns: -inf when maximising, inf when minimising (a list of
    them for a multi-objective run)."""
    try:
        objective = objective_of(cfg)
    except Exception:  # an objective the run refused: one value, by the first direction
        direction = _select(cfg, "objective.direction")
        if isinstance(direction, ListConfig) and len(direction):
            direction = direction[0]
        return math.inf if direction == "minimize" else -math.inf
    return objective.returned(objective.worst())


def _select(cfg: DictConfig, key: str) -> Any:
    try:
        return OmegaConf.select(cfg, key, default=None)
    except Exception:  # an interpolation that cannot be resolved
        return None


def record_config_failure(cfg: DictConfig, error: ConfigError) -> float | list[float]:
    """A multirun job whose config was refused at run time: log the one-line error, record
    `status: failed` with `reason: "config: <message>"` in its folder and return the worst
    objective, so the sweep goes on. A folder that cannot be used (RunFolderError: in use,
    unwritable, finished) is left untouched."""
    log.error("sweeper: error: %s", error)
    worst = worst_objective(cfg)
    metric, direction = _select(cfg, "objective.metric"), _select(cfg, "objective.direction")
    record = RunRecord(
        status="failed",
        reason=f"config: {error}",
        objective=worst[0] if isinstance(worst, list) else worst,
        objective_metric=metric if isinstance(metric, str) else None,
        objective_direction=direction if direction in ("maximize", "minimize") else None,
        settings=run_settings(cfg),
        wall_seconds=0.0,
    )
    if isinstance(worst, list):
        _set_objective(record, objective_of(cfg), worst)
    out_dir = Path(str(_select(cfg, "output_dir")))
    if (out_dir / CHECKPOINT_NAME).exists():  # an interrupted run's work: keep it resumable
        log.error("sweeper: error: not recorded in %s, which keeps a checkpoint to resume", out_dir)
        return worst
    try:
        refuse_finished(out_dir, option="run folder")  # before the lock: leave it untouched
        with RunFolder(out_dir):
            refuse_finished(out_dir, option="run folder")
            record.write(out_dir)
    except RunFolderError as folder_error:
        log.error("sweeper: error: %s (the failure above is not recorded there)", folder_error)
    return worst


def run(
    cfg: DictConfig,
    task: Task,
    model: torch.nn.Module,
    spec: ModelSpec,
    loss_fn: LossFn,
    device: torch.device,
    checkpointer: Checkpointer,
    resume: dict[str, Any] | None,
    started: float,
    observers: Sequence[EpochObserver] = (),
) -> float | list[float]:
    """One run once its folder is locked (`sweeper.run.job.train` builds the pieces and
    takes the lock): fit, test, write the files, tell the observers, return the objective."""
    out_dir = checkpointer.path.parent
    objective = objective_of(cfg)
    record = RunRecord(  # the values come at the end (an interrupted run has none)
        status="ok",
        objective_metric=objective.metrics[0],
        objective_direction=objective.directions[0],
        resumed_from_epoch=checkpointer.epoch if resume is not None else None,
        headline=task.headline_metrics(cfg.task),
    )
    history: list[dict[str, Any]] = []
    metrics: dict[str, float] = {}
    trained = False
    try:
        best_epoch = fit(model, task, cfg, loss_fn, history, checkpointer, resume, observers)
        trained = True
        with precision(cfg, device):
            by_length = evaluate_test_sets(model, task, loss_fn)
        raise_unanswered()
        final = history[best_epoch - 1]  # the epoch whose weights the model ends with
        metrics = {
            **{key: final[key] for key in epoch_metrics(task.target)},
            **task.metrics(by_length),
            "epochs_run": len(history),
            "best_epoch": best_epoch,
        }
        if task.seq_len is None:
            write_csv(out_dir / "by_length.csv", by_length)
        with precision(cfg, device):
            task.write_figures(model, out_dir)
        save_checkpoint(out_dir / "model.pt", cfg, model, spec)
        log.info("%s: %s", task.name, task.describe(metrics))
    except KeyboardInterrupt as interrupt:
        answered()
        record.settings = run_settings(cfg, device)
        _record_interrupt(interrupt, checkpointer, history, record, trained, started, observers)
        raise
    except Pruned as pruned:  # a search's pruner stopped it: history kept, no test, no model.pt
        log.info("%s", pruned)
        record.status = "pruned"
        record.reason = str(pruned)
        record.pruned_at_epoch = pruned.epoch
        record.objective = worst_objective(cfg)
        metrics = {**pruned_metrics(history, task.target), "epochs_run": len(history)}
    except Exception as error:  # a failed run is recorded, never fatal to a sweep
        log.exception("run failed")
        record.status = "failed"
        record.reason = f"{type(error).__name__}: {error}"
        _set_objective(record, objective, objective.worst())
    if history:
        write_csv(out_dir / "history.csv", pd.DataFrame(history))
    record.metrics = metrics
    record.settings = run_settings(cfg, device)
    record.parameters = sum(p.numel() for p in model.parameters())
    if record.status == "ok":  # a failed run keeps the worst values
        _set_objective(record, objective, objective.values({**metrics, **run_metrics(record)}))
    record.wall_seconds = round(time.perf_counter() - started, 3)
    for observer in observers:
        observer.run_end(record)
    # Written last: a metrics.json with status ok means every other file is in place.
    record.write(out_dir)
    # The run is finished (ok or failed): it will not be resumed, model.pt holds its weights.
    checkpointer.remove()
    values = [o["value"] for o in record.objectives] if record.objectives else [record.objective]
    return objective.returned(values)


def run_metrics(record: RunRecord) -> dict[str, float]:
    """The run-level numbers an objective may name besides the task's metrics
    (`sweeper.core.objectives.RUN_METRICS`): the model's parameter count."""
    return {"parameters": float(record.parameters or 0)}


def _set_objective(record: RunRecord, objective: Objective, values: list[float]) -> None:
    """Fill metrics.json's objective fields (`Objective.fields`) for `values`."""
    for key, value in objective.fields(values).items():
        setattr(record, key, value)


def pruned_metrics(history: list[dict[str, Any]], target: TargetKind) -> dict[str, float]:
    """A pruned run's metrics: its last epoch's values (`sweeper.core.metrics.epoch_metrics`:
    the losses and the target kind's validation metrics)."""
    last = history[-1] if history else {}
    return {key: last[key] for key in epoch_metrics(target) if key in last}


def _record_interrupt(
    interrupt: KeyboardInterrupt,
    checkpointer: Checkpointer,
    history: list[dict[str, Any]],
    record: RunRecord,
    trained: bool,
    started: float,
    observers: Sequence[EpochObserver] = (),
) -> None:
    """metrics.json `status: interrupted` (+ history.csv up to the checkpoint), which a
    re-run resumes from; the checkpoint stays. The observers' `run_end` sees the record."""
    done = checkpointer.saved_epoch()
    where = f"after epoch {done}, while testing" if trained else f"in epoch {done + 1}"
    reason = f"interrupted by {signal_name(interrupt)} {where}"
    out_dir = checkpointer.path.parent
    kept = history[:done]  # rows past the checkpoint would be trained again on resume
    if kept:
        write_csv(out_dir / "history.csv", pd.DataFrame(kept))
    record.status = "interrupted"
    record.reason = reason
    record.epochs_done = done
    record.wall_seconds = round(time.perf_counter() - started, 3)
    try:
        for observer in observers:
            observer.run_end(record)
    except KeyboardInterrupt:  # a second Ctrl-C while a tracker is told: write the record
        pass
    record.write(out_dir)
    log.warning(
        "%s; %s: re-run the same command in %s to resume",
        reason,
        f"checkpoint of epoch {done} kept" if done else "no epoch finished",
        out_dir,
    )
