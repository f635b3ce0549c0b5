"""A search trial's handle inside any Hydra app's job: `sweeper.report(value, step)`.

An app searched by sweeper's search sweeper can report intermediate values (a
validation loss after each epoch, say) to its Optuna trial, so that the search's
pruner (`hydra/sweeper/pruner=median`, ...) can stop a hopeless trial early:

    import sweeper

    @hydra.main(...)
    def main(cfg):
        for epoch in range(cfg.epochs):
            loss = ...
            sweeper.report(loss, epoch)   # raises optuna.TrialPruned when pruned
        return loss

`report(value, step)` is Optuna's `trial.report(value, step)` followed by
`trial.should_prune()`; when the pruner says so it raises `optuna.TrialPruned`,
which the search records as a PRUNED trial (its last reported value kept). Outside
a search (a single run, a grid) it does nothing, so the same app runs anywhere.
`current_trial()` gives the `optuna.trial.Trial` itself (None outside a search), for
`trial.number`, `trial.params` or a pruning check of the app's own.

How the job finds its trial: the search passes the study's storage URL, study name
and trial number to each job in `hydra.job.env_set` (`SWEEPER_STORAGE`,
`SWEEPER_STUDY`, `SWEEPER_TRIAL`), so the job's process reaches the same study
(SQLite, PostgreSQL) from any launcher. An in-memory study (`storage: null`) is
reachable only from jobs run in the search's own process (Hydra's basic launcher);
elsewhere `report` logs once that it cannot reach the study and does nothing.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from sweeper.core.private_apis import trial_handle
from sweeper.trials.plugins import instantiate_checked
from sweeper.trials.storage import patient_storage

__all__ = ["ENV_STORAGE", "ENV_STUDY", "ENV_TRIAL", "current_trial", "job_env", "report"]

log = logging.getLogger(__name__)

ENV_STORAGE, ENV_STUDY, ENV_TRIAL = "SWEEPER_STORAGE", "SWEEPER_STUDY", "SWEEPER_TRIAL"
IN_MEMORY = "in-memory"

# Trials of in-memory studies asked by a search in this process: (study, number) -> Trial.
_LIVE: dict[tuple[str, int], Any] = {}
_HANDLES: dict[tuple[str, str, int], Any] = {}
_WARNED: set[str] = set()


def sqlite_file(url: str | None) -> str | None:
    """The file of a `sqlite:///PATH` URL as SQLAlchemy reads it (percent-escapes decoded, a
    `?query` left out), or None for another database or an in-memory SQLite."""
    if not url or not url.startswith("sqlite:///"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    return None if not database or database == ":memory:" else database


def sqlite_url(path: str) -> str:
    """The `sqlite:///` URL of file `path`, its `?`, `#`, `%` and spaces percent-escaped so
    that SQLAlchemy opens exactly that file."""
    from urllib.parse import quote

    return "sqlite:///" + quote(path, safe="/~ ")


def literal_sqlite(url: str | None, folder: str) -> str | None:
    """`url` with its path escaped (`sqlite_url`) when it is a `sqlite:///` URL of a file
    inside `folder` (the sweep folder, as text: `sqlite:///${hydra.sweep.dir}/optuna.db`),
    whose name may hold `?`, `#` or `%`; any other URL is returned as written."""
    if not url or not url.startswith("sqlite:///"):
        return url
    path = url.removeprefix("sqlite:///")
    folder = folder.rstrip("/")
    if folder and path.startswith(folder + "/") and "/" not in path[len(folder) + 1 :]:
        return sqlite_url(path)
    return url


def job_storage(url: str) -> str:
    """`url` with a relative SQLite path made absolute, so a job finds the study from any folder."""
    from pathlib import Path

    path = sqlite_file(url)
    if path is None:
        return url
    from sqlalchemy.engine import make_url

    absolute = str(Path(path).expanduser().resolve())
    return make_url(url).set(database=absolute).render_as_string(hide_password=False)


def quoted(text: str) -> str:
    """`text` as a single-quoted Hydra override value. Hydra reads a backslash literally
    unless a run of them precedes a quote or the closing quote: those runs are doubled
    and each quote escaped."""
    import re

    def escape(match: re.Match) -> str:
        return match.group(1) * 2 + ("\\'" if match.group(2) else "")

    return "'" + re.sub(r"(\\*)('|$)", escape, text) + "'"


_STORAGES: dict[str, Any] = {}


def rdb_storage(url: str) -> Any:
    """One RDBStorage per URL and process (the jobs of the basic launcher share it), without
    Optuna's schema check: the sweeper created and checked the schema, and the check reads
    alembic's migration scripts (0.5 s a job on this machine). A locked database is waited
    for as the search waits for it (sweeper.trials.storage)."""
    if url not in _STORAGES:
        _STORAGES[url] = patient_storage(url, skip_compatibility_check=True)
    return _STORAGES[url]


def job_env(storage: str | None, study_name: str, number: int) -> dict[str, str]:
    """The environment a search's job gets (`hydra.job.env_set`) to find its trial."""
    return {ENV_STORAGE: storage or IN_MEMORY, ENV_STUDY: study_name, ENV_TRIAL: str(number)}


def register_live(study_name: str, trial: Any) -> None:
    """Make an in-memory study's `trial` reachable by jobs run in this process."""
    _LIVE[(study_name, trial.number)] = trial


def forget_live(study_name: str, number: int) -> None:
    """Drop a told trial of an in-memory study."""
    _LIVE.pop((study_name, number), None)


def current_trial() -> Any:
    """The `optuna.trial.Trial` this job runs for, or None outside a search (or when its
    study cannot be reached: logged once)."""
    storage, study_name, number = (os.environ.get(k) for k in (ENV_STORAGE, ENV_STUDY, ENV_TRIAL))
    if not (storage and study_name and number and number.isdigit()):
        return None
    key = (storage, study_name, int(number))
    if storage == IN_MEMORY:
        trial = _LIVE.get((study_name, int(number)))
        if trial is None:
            _warn_once(
                study_name,
                f"trial {number} of study {study_name} is in memory in another process: "
                "reports are dropped (give the search a storage, e.g. "
                "hydra.sweeper.storage=sqlite:///search.db)",
            )
        return trial
    if key not in _HANDLES:
        import optuna

        try:
            study = optuna.load_study(
                study_name=study_name, storage=rdb_storage(storage), pruner=_job_pruner()
            )
            _HANDLES[key] = trial_handle(study, int(number))
        except Exception as error:  # noqa: BLE001 - the job runs on, unreported
            _warn_once(study_name, f"cannot reach trial {number} of study {study_name}: {error}")
            return None
    return _HANDLES[key]


def _job_pruner() -> Any:
    """The search's pruner, rebuilt in the job's process from the job's own Hydra config
    (`hydra.sweeper.pruner`; a study loaded by name gets Optuna's default MedianPruner,
    not the one the search was created with). NopPruner when there is none."""
    import optuna

    try:
        from hydra.core.hydra_config import HydraConfig

        node = HydraConfig.get().sweeper.get("pruner") if HydraConfig.initialized() else None
    except Exception:  # noqa: BLE001 - no Hydra run: nothing to rebuild
        node = None
    if node is None:
        return optuna.pruners.NopPruner()

    return instantiate_checked(node, "hydra.sweeper.pruner")


def report(value: float, step: int) -> None:
    """Report `value` at `step` (e.g. the epoch) to this job's trial; raise
    `optuna.TrialPruned` when the search's pruner stops it. Does nothing outside a search.

    Raises TypeError for a value that is not a number or a step that is not an int."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)  # numpy and torch scalars
        except (TypeError, ValueError):
            raise TypeError(f"sweeper.report: value must be a number, got {value!r}") from None
    if isinstance(step, bool) or not isinstance(step, int):
        raise TypeError(f"sweeper.report: step must be an int, got {step!r}")
    trial = current_trial()
    if trial is None:
        return
    import optuna

    trial.report(float(value), step)
    if trial.should_prune():
        raise optuna.TrialPruned(f"pruned at step {step} (value {float(value):.6g})")


def _warn_once(study_name: str, message: str) -> None:
    if study_name not in _WARNED:
        _WARNED.add(study_name)
        log.warning("sweeper.report: %s", message)
