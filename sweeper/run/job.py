"""One of sweeper's jobs, built from its config: what the entrypoint and the sweepers call.

`train(cfg)` is what `python -m sweeper` runs for each job: it validates the
whole config (`sweeper.run.validate`), builds the task (`task._target_`, a
`sweeper.core.task.Task`), the model (`model._target_`: `sweeper.core.modelspec`)
and the loss, locks the run folder, picks the observers
(`sweeper.run.observers`) and hands over to the training loop
(`sweeper.core.train.run`), which writes the run's files. `Preflight` checks
many configs the same way without training (a grid's points, a search's
trials); `metric_names(cfg)` lists a finished run's metrics before it trains.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf, open_dict

from sweeper.core.checkpoint import Checkpointer, config_snapshot
from sweeper.core.config import (
    TORCH_DEFAULT_THREADS,
    ConfigError,
    resolve_device,
    thread_count,
)
from sweeper.core.losses import LossFn, make_loss
from sweeper.core.modelspec import ModelSpec, build_model, hidden_override, model_spec
from sweeper.core.objectives import ObjectiveError, check_available, objective_of
from sweeper.core.run_folder import RunFolder, refuse_finished
from sweeper.core.task import Task
from sweeper.core.train import check_model_output, precision, run, seed_everything
from sweeper.run.observers import build_observers
from sweeper.run.validate import validate
from sweeper.tasks import build_task, task_class

log = logging.getLogger(__name__)


def metric_names(cfg: DictConfig) -> list[str]:
    """The keys of a finished run's metrics, known before training (to check objective.metric).

    Raises ConfigError when `task._target_` is not a usable task class."""
    cls = task_class(OmegaConf.select(cfg, "task._target_"))
    return cls.metric_names(cfg.task)


def command_line(cfg: DictConfig) -> list[str]:
    """The overrides `cfg` was composed with: its own `hydra.overrides.task` (a sweeper's
    composed point), else the running Hydra job's; none outside Hydra (tests)."""
    from hydra.core.hydra_config import HydraConfig

    given = OmegaConf.select(cfg, "hydra.overrides.task")
    if given is None and HydraConfig.initialized():
        given = HydraConfig.get().overrides.task
    return list(given or [])


def prepare(
    cfg: DictConfig, device: torch.device
) -> tuple[Task, ModelSpec, torch.nn.Module, LossFn]:
    """The task, model spec, model (on `device`) and loss a validated `cfg` runs with.

    Writes nothing. Raises ConfigError for what only building them shows: a task
    or model class that does not fit its config, an objective the task does not
    report, a model whose output shape does not match the task's targets."""
    task = build_task(cfg.task, device, cfg.trainer.batch_size)
    spec = model_spec(cfg.model, task, command_line(cfg))
    model = build_model(spec).to(device)
    loss_fn = make_loss(cfg.loss.name, task.target)
    try:
        check_available(objective_of(cfg), task.metric_names(task.cfg), task.name)
    except ObjectiveError as error:
        raise ConfigError(str(error)) from None
    with precision(cfg, device):  # as training will run it
        check_model_output(model, task, spec)
    return task, spec, model, loss_fn


class Preflight:
    """Checks many configs the way `train` would before training, writing nothing:
    `validate`, then `prepare` once per distinct task, model, loss, objective and
    trainer (a grid's seeds share one build). Used by the grid and search sweepers
    so a bad point is refused before any job runs."""

    def __init__(self) -> None:
        self._seen: dict[str, ConfigError | None] = {}

    def check(self, cfg: DictConfig) -> None:
        """Raise ConfigError for the first value in `cfg` a run cannot use."""
        validate(cfg)
        parts = {n: cfg.get(n) for n in ("task", "model", "loss", "objective", "trainer")}
        parts["device"] = cfg.device.name
        # what of the command line building depends on (not the seed: a seed grid builds once)
        parts["hidden_given"] = hidden_override(command_line(cfg))
        key = OmegaConf.to_yaml(OmegaConf.create(parts))
        if key not in self._seen:
            try:
                prepare(cfg, resolve_device(cfg.device.name))
                self._seen[key] = None
            except ConfigError as error:
                self._seen[key] = error
        if self._seen[key] is not None:
            raise self._seen[key]


def set_threads(cfg: DictConfig, model: torch.nn.Module) -> int:
    """Set torch's CPU threads for this run from `device.threads` (`auto`: by the run's
    work per step, its parameters times its batch size; `sweeper.core.config.thread_count`)
    and return them; metrics.json records them as `settings["device.threads"]`."""
    work = sum(p.numel() for p in model.parameters()) * cfg.trainer.batch_size
    threads = thread_count(cfg.device.threads, work) or TORCH_DEFAULT_THREADS
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def train(cfg: DictConfig) -> float | list[float]:
    """Train and test one configuration, write its files, return the objective.

    Resumes from `checkpoint.pt` in `cfg.output_dir` when one is there. Raises
    ConfigError for a value the run cannot use (before writing anything: a task or
    model class that does not import or fit, a model whose output shape does not
    match the task), its subclass RunFolderError for a folder it must not write into
    (in use, unwritable, holding a finished run or another config's checkpoint), and
    KeyboardInterrupt again after recording an interrupted run."""
    validate(cfg)
    out_dir = Path(cfg.output_dir)
    started = time.perf_counter()
    device = resolve_device(cfg.device.name)
    seed_everything(cfg.seed)
    task, spec, model, loss_fn = prepare(cfg, device)
    set_threads(cfg, model)
    if "hidden" in cfg.model and "hidden" not in spec.kwargs:
        with open_dict(cfg):  # the task's hidden size, which this model does not take
            del cfg.model.hidden
    checkpointer = Checkpointer(out_dir, config_snapshot(cfg))
    # Read-only checks first, so a refused folder is left exactly as it was; then again
    # under the lock, now that no other process can write there.
    refuse_finished(out_dir, option="run folder")
    checkpointer.load()
    with RunFolder(out_dir):
        refuse_finished(out_dir, option="run folder")
        resume = checkpointer.load()
        if resume is not None:
            log.info(
                "resuming from epoch %d (%s): %d of %d epochs done",
                checkpointer.epoch,
                checkpointer.path,
                checkpointer.epoch,
                cfg.trainer.epochs,
            )
        observers = build_observers(cfg, out_dir)
        return run(
            cfg, task, model, spec, loss_fn, device, checkpointer, resume, started, observers
        )
