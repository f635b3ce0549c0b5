"""The `logger` config group: which experiment trackers a run writes to, besides its files.

`logger=csv` (the default) and `logger=none` add nothing: the run's own files
(metrics.json, history.csv, ...) are always written. `logger=tensorboard`
(`sweeper.loggers.tensorboard`) and `logger=mlflow` (`sweeper.loggers.mlflow`)
add a tracker; several at once with a list: `logger=[csv,tensorboard,mlflow]`.
Each chosen option is a node under `logger` (`logger.tensorboard.log_dir`,
`logger.mlflow.tracking_uri`, ...).

`check_loggers(cfg)` refuses settings of the wrong type before anything runs
(ConfigError, exit 2; `sweeper.core.config.validate` calls it); `build_loggers(cfg,
out_dir)` makes the run's loggers (`sweeper.core.observers.build_observers`). A tracker
that fails at run time (package missing, server unreachable, folder unwritable)
never stops the run: see `sweeper.loggers.base.Guarded`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from sweeper.core.config import ConfigError
from sweeper.loggers.base import JobPlace

if TYPE_CHECKING:
    from sweeper.core.observers import EpochObserver

# Logger name -> its keys and what each must be (None: no keys).
KEYS: dict[str, dict[str, str]] = {
    "csv": {},
    "tensorboard": {"log_dir": "null or a folder"},
    "mlflow": {
        "tracking_uri": "an MLflow tracking URI",
        "experiment": "null or an experiment name",
        "log_artifacts": "true or false",
    },
}


def chosen(cfg: DictConfig) -> dict[str, Any]:
    """The `logger` node's entries (logger name -> its settings node); {} for none."""
    try:
        node = OmegaConf.select(cfg, "logger", default=None)
    except Exception as error:  # an interpolation that cannot be resolved
        raise ConfigError(f"logger: {error}") from None
    if node is None:
        return {}
    if not isinstance(node, DictConfig):
        raise ConfigError(
            f"logger must be logger options (logger=tensorboard, logger=[csv,mlflow]), got {node!r}"
        )
    return {str(k): node.get(k) for k in node}


def _good(rule: str, value: Any) -> bool:
    if rule.startswith("null or"):
        return value is None or (isinstance(value, str) and value.strip() != "")
    if rule == "true or false":
        return isinstance(value, bool)
    return isinstance(value, str) and value.strip() != ""


def check_loggers(cfg: DictConfig) -> None:
    """Raise ConfigError naming the key for a logger or logger setting the run cannot use."""
    for name, settings in chosen(cfg).items():
        if name not in KEYS:
            raise ConfigError(f"logger.{name} is not a logger: choose among {', '.join(KEYS)}")
        if settings is None:
            continue
        if not isinstance(settings, DictConfig):
            raise ConfigError(f"logger.{name} must hold the logger's settings, got {settings!r}")
        for key in settings:
            if key not in KEYS[name]:
                known = ", ".join(KEYS[name]) or "none"
                raise ConfigError(f"logger.{name}.{key} is not a setting of {name} ({known})")
        for key, rule in KEYS[name].items():
            try:
                value = OmegaConf.select(settings, key, default=None)
            except Exception as error:
                raise ConfigError(f"logger.{name}.{key}: {error}") from None
            if not _good(rule, value):
                raise ConfigError(f"logger.{name}.{key} must be {rule}, got {value!r}")


def build_loggers(cfg: DictConfig, out_dir: Path) -> list[EpochObserver]:
    """The loggers of the run writing into `out_dir`, in a fixed order (tensorboard, mlflow).

    Never raises for a tracker's failure (that is reported and recorded); ConfigError
    for bad settings, as `check_loggers`."""

    names = chosen(cfg)
    check_loggers(cfg)
    place = JobPlace.of(out_dir)
    loggers: list[EpochObserver] = []
    if "tensorboard" in names:
        from sweeper.loggers.tensorboard import TensorBoardLogger  # optional: tensorboard

        loggers.append(TensorBoardLogger(cfg, place))
    if "mlflow" in names:
        from sweeper.loggers.mlflow import MlflowLogger  # optional: mlflow

        loggers.append(MlflowLogger(cfg, place))
    return loggers
