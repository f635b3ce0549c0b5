"""Every private torch / Hydra / Python API sweeper uses, fenced here, each with why.

Nothing else in sweeper reaches into a library's private names; each use below has
no public route that does the same, and tests/test_private_apis.py pins the
behaviour sweeper relies on, so an upgrade that changes it fails there first.

- `torch.cpu._is_avx512_bf16_supported`, `torch.cpu._is_amx_tile_supported`:
  whether this CPU computes bfloat16 natively (`trainer.precision=auto`). torch's
  public `torch.backends.cpu.get_cpu_capability()` names the vector ISA (AVX512)
  but not the BF16 or AMX extensions, and reading /proc/cpuinfo is Linux-only.
  Missing in a future torch: treated as "not native" (fp32), never an error.
- `hydra._internal.core_plugins.basic_sweeper.BasicSweeper`: the grid sweeper
  (sweeper.sweeps.grid) extends Hydra's own basic sweeper (and calls its `_parse_config`,
  which turns the sweeper's `params` into overrides, as `BasicSweeper.sweep` does),
  so `a,b,c`, `range()`, `glob()` and `max_batch_size` behave exactly as Hydra
  documents; Hydra exports no public base class with that grammar. grid.py
  imports it itself, when Hydra loads the grid sweeper plugin: imported here at
  start-up, before Hydra re-imports its core plugins while scanning them, its
  class would be a stale copy.
- `hydra._internal.core_plugins.basic_launcher.BasicLauncher` (its name only, never
  imported): a search with `n_jobs > 1` launches each trial on its own as soon as a
  slot is free (sweeper.sweeps.search), from threads, which is only safe with a
  launcher that runs jobs in other processes; Hydra's default launcher runs them in
  this one (working directory, logging, its global config) and has no public marker
  saying so. `runs_jobs_in_process` compares the launcher's class name with it.
- `atexit._run_exitfuncs`: `sweeper.cli.exit_without_teardown` runs the
  atexit handlers, then `os._exit`s to skip interpreter teardown (~0.15 s a
  process). It is what `Py_FinalizeEx` calls first; there is no public way to run
  the handlers without exiting.
- the `grad_scale` keyword of torch's functional `torch.optim.adam.adam` and
  `torch.optim.sgd.sgd` (public functions, but the keyword is undocumented, meant
  for AMP's unscaling): sweeper.core.optim passes max(1, norm / trainer.grad_clip) so
  the fused kernel clips by dividing every gradient, with no extra pass over
  them; tests pin that the step equals one on gradients divided beforehand.

- `optuna.study.Study._storage`: the storage of a study loaded or created by name,
  for the stale-trial check (sweeper.sweeps.stale_trials), which sets attributes on
  RUNNING trials this process did not ask. Optuna 4 removed `Trial.set_system_attr`
  and has no public handle on such a trial; the storage's own methods are public.
  `study_storage` reads it; a test pins that it is the storage the study writes to.
- `optuna.trial.Trial(study, trial_id)`: a job's handle on the trial its search asked
  (sweeper.run.pruning, sweeper.trial), to `report` and `should_prune` from the job's
  process; Optuna documents the constructor as not for direct use and offers no other
  handle on an existing trial. `trial_handle` builds it.

- `hydra._internal.config_loader_impl.ConfigLoaderImpl._apply_overrides_to_config` and
  `hydra._internal.config_loader_impl.get_overrides_dirname`: sweeper.sweeps.compose makes
  a job's config from the composed config of an earlier job of the same shape, applying
  the job's own `key=value` overrides with Hydra's own code (type checks, merge, the
  messages) and deriving `hydra.job.override_dirname` as Hydra does; Hydra's public
  `compose`/`load_sweep_config` only compose from scratch (~0.1-0.3 s a job). Tests pin
  the result equal to a full composition. `apply_overrides`, `overrides_dirname`.

hydra-optuna-sweeper's private `_impl` is not used: sweeper.sweeps.search drives
Optuna's public ask/tell API itself, with the plugin's configuration keys.
"""

from __future__ import annotations

import atexit
from typing import Any

__all__ = [
    "BASIC_LAUNCHER",
    "BASIC_SWEEPER",
    "OPTUNA_RDB_LOGGER",
    "OPTUNA_TRIALS_FALLBACK",
    "apply_overrides",
    "cpu_has_native_bf16",
    "overrides_dirname",
    "run_exit_handlers",
    "runs_jobs_in_process",
    "study_storage",
    "trial_handle",
]

BASIC_SWEEPER = (
    "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"  # sweeper.sweeps.grid's base
)

BASIC_LAUNCHER = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"

# Optuna's RDBStorage._get_trials reads any OperationalError of its query as "too many IN
# variables", logs this warning on its module's logger and runs a slower query: a locked
# database then waits twice sweeper's bound, with a misleading warning. There is no public
# hook, so sweeper.trials.storage turns that warning, for a lock, into the error it was.
OPTUNA_RDB_LOGGER = "optuna.storages._rdb.storage"
OPTUNA_TRIALS_FALLBACK = "Caught an error from sqlalchemy"

CPU_BF16_CHECKS = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")


def cpu_has_native_bf16() -> bool:
    """Whether this CPU has AVX512-BF16 or AMX (torch's own private checks); False when
    this torch lacks them."""
    import torch

    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in CPU_BF16_CHECKS)


def apply_overrides(overrides: list[Any], cfg: Any) -> None:
    """Apply parsed Hydra overrides (`hydra.core.override_parser.types.Override`) to the
    composed `cfg` in place, as Hydra's composition does after merging the defaults."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    ConfigLoaderImpl._apply_overrides_to_config(overrides, cfg)


def overrides_dirname(
    overrides: list[Any], exclude_keys: list[str], item_sep: str, kv_sep: str
) -> str:
    """`hydra.job.override_dirname` of a job with these (non-Hydra) parsed overrides."""
    from hydra._internal.config_loader_impl import get_overrides_dirname

    return get_overrides_dirname(
        overrides=overrides, exclude_keys=exclude_keys, item_sep=item_sep, kv_sep=kv_sep
    )


def run_exit_handlers() -> None:
    """Run and clear the atexit handlers now, as interpreter exit would."""
    atexit._run_exitfuncs()


def runs_jobs_in_process(launcher: object) -> bool:
    """Whether `launcher` is Hydra's basic launcher (jobs run one at a time in this process)."""
    kind = type(launcher)
    return any(f"{k.__module__}.{k.__qualname__}" == BASIC_LAUNCHER for k in kind.__mro__)


def study_storage(study: Any) -> Any:
    """The storage `study` reads and writes (Optuna's private `Study._storage`)."""
    return study._storage


def trial_handle(study: Any, number: int) -> Any:
    """A writable `optuna.trial.Trial` on trial `number` of `study`, asked by another process."""
    import optuna

    storage = study_storage(study)
    return optuna.trial.Trial(study, trial_id(storage, study.study_name, number))


def trial_id(storage: Any, study_name: str, number: int) -> int:
    """The storage's id of trial `number` of study `study_name` (public storage lookups; the
    id is what `optuna.trial.Trial` and the storage's trial setters take)."""
    study_id = storage.get_study_id_from_name(study_name)
    return storage.get_trial_id_from_study_id_trial_number(study_id, number)
