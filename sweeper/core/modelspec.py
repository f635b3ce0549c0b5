"""Models are plugins: `model._target_` names any `torch.nn.Module` class.

The contract a model class meets (sweeper's `SequenceModel` and a user's own):

- it is built as `cls(**model_cfg, **task_inputs)`: the model node's keys (all
  but `_target_`, e.g. `hidden`, `cell`), plus what the task declares
  (`Task.model_inputs()`): `input_size` and `output_size` always, and
  `seq_len`, `input_mean`, `input_std` only if the class's signature names them
  (or takes `**kwargs`);
- a `readout` key in the model node is resolved by the task first (`auto` ->
  the task's choice; one the task's data cannot use is a ConfigError);
- `forward(x)`: x (batch, steps, input_size) float32 -> logits shaped as the
  task's target kind needs (`sweeper.core.targets`: (batch, steps, output_size)
  or (batch, steps) for `bits`, (batch, output_size) for `classes`);
  `check_output` refuses another shape before training, in one line;
- optionally a classmethod `check_config(model_cfg)` raising ConfigError for
  values the class cannot use (`SequenceModel` checks its cell, readout, ...).

`model.hidden`, when the node has it, is the one spelling of the hidden size
(the command line's `hidden_size=` is rewritten to it) and must be a positive
integer. model.pt stores `_target_` and the keyword arguments the model was built
with (`ModelSpec`), so `sweeper.predict` rebuilds any model class with
`torch.load(weights_only=True)`.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from sweeper.core.config import ConfigError, import_target, positive_int
from sweeper.core.targets import TargetKind


@dataclass
class ModelSpec:
    """What rebuilds a model: its class path and keyword arguments (plain values only)."""

    target: str
    kwargs: dict[str, Any]

    def build(self) -> torch.nn.Module:
        """`cls(**kwargs)`; raises ConfigError when the class cannot be imported."""
        return model_class(self.target)(**self.kwargs)


def model_class(target: Any) -> type[torch.nn.Module]:
    """The `torch.nn.Module` subclass `model._target_` names; ConfigError (one line) if
    it does not import or is not a module class."""
    if not isinstance(target, str) or not target:
        raise ConfigError(f"model._target_ must name a torch.nn.Module class, got {target!r}")
    cls = import_target("model._target_", target)
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise ConfigError(f"model._target_={target} is not a torch.nn.Module subclass")
    return cls


def check_model(model_cfg: DictConfig) -> None:
    """The model node's values: `_target_` imports, `hidden` (if any) a positive integer,
    the class's own `check_config`. Raises ConfigError naming `model.<key>`."""
    cls = model_class(OmegaConf.select(model_cfg, "_target_"))
    if "hidden" in model_cfg:
        problem = positive_int(model_cfg.hidden)
        if problem:
            raise ConfigError(f"model.hidden {problem}, got {model_cfg.hidden!r}")
    check = getattr(cls, "check_config", None)
    if callable(check):
        check(model_cfg)


def _accepts(cls: type, name: str) -> bool:
    parameters = inspect.signature(cls).parameters
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def hidden_override(overrides: Sequence[str]) -> str | None:
    """The override among `overrides` (a job's command line) that sets the hidden size."""
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if key in ("model.hidden", "hidden_size"):
            return override
    return None


def model_spec(model_cfg: DictConfig, task: Any, overrides: Sequence[str] = ()) -> ModelSpec:
    """The class and arguments `model_cfg` and `task` (a `sweeper.tasks.base.Task`) give.

    `hidden` is the task's recommended size (each task's overlay sets `model.hidden`):
    a class whose constructor takes no `hidden` (nor **kwargs) is built without it,
    unless the command line (`overrides`) set it. Raises ConfigError for an unusable readout, a
    class that does not take `input_size` and `output_size`, or a hidden size given
    on the command line to a class that takes none."""
    target = str(model_cfg._target_)
    cls = model_class(target)
    kwargs = {k: v for k, v in OmegaConf.to_container(model_cfg, resolve=True).items()}
    kwargs.pop("_target_")
    if "hidden" in kwargs and not _accepts(cls, "hidden"):
        given = hidden_override(overrides)
        if given is not None:
            raise ConfigError(
                f"model._target_={target} takes no hidden size, but the command line sets {given}"
            )
        del kwargs["hidden"]
    if "readout" in kwargs:
        kwargs["readout"] = task.readout(kwargs["readout"], bool(kwargs.get("bidirectional")))
    for name, value in task.model_inputs().items():
        required = name in ("input_size", "output_size")
        if required and not _accepts(cls, name):
            raise ConfigError(
                f"model._target_={target} does not take {name}, which every model must"
            )
        if required or _accepts(cls, name):
            kwargs[name] = value
    return ModelSpec(target, kwargs)


def build_model(spec: ModelSpec) -> torch.nn.Module:
    """The model `spec` describes; a constructor that raises is a ConfigError naming the class."""
    try:
        return spec.build()
    except ConfigError:
        raise
    except (TypeError, ValueError) as error:
        raise ConfigError(f"model._target_={spec.target}: {error}") from None


def check_output(
    logits: torch.Tensor, x: torch.Tensor, y: torch.Tensor, target: TargetKind, spec: ModelSpec
) -> None:
    """ConfigError unless the task's targets `y` are what its target kind needs
    (`TargetKind.check_targets`) and the model's logits for inputs `x` (after
    `sweeper.core.train.forward`) have the shape the kind needs for them
    (`TargetKind.logits_shape`: bits: y's (batch, steps); classes: (batch, output_size))."""
    output_size = spec.kwargs["output_size"]
    need = target.check_targets(y, output_size)
    if need is not None:
        raise ConfigError(
            f"the task's {target.name} targets have shape {tuple(y.shape)} and dtype {y.dtype} "
            f"(output_size {output_size}); kind {target.name} needs {need}"
        )
    expected = tuple(target.logits_shape(y, output_size))
    if tuple(logits.shape) != expected:
        raise ConfigError(
            f"model._target_={spec.target} returns shape {tuple(logits.shape)} for inputs of "
            f"shape {tuple(x.shape)}; the task's {target.name} targets need {expected}"
        )
