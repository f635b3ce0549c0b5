"""Validation of a whole job config, before anything is built or written.

The ground floor checks its own pieces (`sweeper.core.config`: the common keys'
rules, `TrainerConfig`; `sweeper.core.modelspec.check_model`); a task's node is
typed by its `Config` (`sweeper.tasks.base.task_config`), the objective parsed
(`sweeper.core.objectives`), the `logger` settings checked (`sweeper.loggers`).
`validate(cfg)` runs them all in that order and raises the first one-line
ConfigError.
"""

from __future__ import annotations

from omegaconf import DictConfig

from sweeper.core.config import (
    COMMON_RULES,
    TRAINER_RULES,
    ConfigError,
    TrainerConfig,
    check_rules,
    config_error,
    config_get,
    positive_int,
    resolve_device,
    typed_node,
)
from sweeper.core.modelspec import check_model
from sweeper.core.objectives import ObjectiveError, objective_of
from sweeper.loggers import check_loggers
from sweeper.tasks.base import task_class, task_config


def validate(cfg: DictConfig) -> None:
    """Raise ConfigError for the first value in `cfg` that a run cannot use.

    Checks the common keys, the trainer against `TrainerConfig`, the model (its
    `_target_` must import; `model.hidden` a positive integer; a model class's own
    `check_config`) and the task (its `_target_` must be a `Task`; the node is typed
    by the task's `Config` and checked by its `check`): the same for the built-in
    tasks and models as for a user's; and the `logger` settings (`sweeper.loggers`)."""
    check_rules(cfg, "", COMMON_RULES)
    check_rules(cfg.trainer, "trainer", TRAINER_RULES)
    typed_node(cfg.trainer, TrainerConfig, "trainer")
    check_model(cfg.model)
    task_config(task_class(config_get(cfg, "task._target_")), cfg.task)
    try:  # one metric and direction, or two lists of the same length (sweeper.core.objectives)
        objective_of(cfg)
    except ObjectiveError as error:
        raise ConfigError(str(error)) from None
    if cfg.device.threads is not None and positive_int(cfg.device.threads):
        raise config_error(
            "device.threads", cfg.device.threads, "must be null or a positive integer"
        )
    resolve_device(cfg.device.name)
    check_loggers(cfg)
