"""A study database that is busy for a while is waited for, and then named: one retry policy.

Another process may hold a write lock on a search's SQLite file for a while (a
second tool reading it, a backup, a slow network disk, another worker's long
commit). Optuna's `RDBStorage` gives up after sqlite3's default 5 s with
`StorageInternalError: An exception is raised during the commit` (or a bare
`OperationalError: database is locked`), from whichever call met the lock: creating
or loading the study, `ask`, `tell`, `set_user_attr`, a heartbeat, a job's report.

Every storage sweeper opens (the search's, its jobs' `sweeper.report` and pruning)
is `patient_storage(url)`, which applies one policy to every call:

1. SQLite's own busy timeout (`connect_args={"timeout": wait}` in the engine's
   kwargs): a blocked statement waits for the lock instead of failing at once;
2. on a lock error all the same (SQLite refuses some lock upgrades at once rather
   than deadlock; PostgreSQL's lock timeouts and deadlocks), the call is retried
   with a growing pause (0.05 s doubling, at most 1 s) until `wait` seconds have
   passed since it began. A retried call is safe: Optuna rolls the failed
   transaction back before raising;
3. past that, `StorageBusy`, whose message names the database and the bound.

Optuna itself retries one query, reading trials, with a slower one after any error
(sweeper.core.private_apis.OPTUNA_TRIALS_FALLBACK): inside a retried call, a lock error
there is raised to the policy instead, so that the bound holds and no misleading
"falling back" warning is shown.

`wait` is `SWEEPER_STORAGE_WAIT` (seconds, default 60), read when the storage is
opened; workers and jobs inherit it from the environment. Errors that are not about
a lock (a full disk, a bad URL) are raised at once, as Optuna raises them.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from sweeper.core.private_apis import OPTUNA_RDB_LOGGER, OPTUNA_TRIALS_FALLBACK

__all__ = ["ENV_WAIT", "StorageBusy", "is_lock_error", "patient_storage", "storage_wait"]

ENV_WAIT = "SWEEPER_STORAGE_WAIT"
DEFAULT_WAIT = 60.0
# What a lock looks like in the error (or its cause): SQLite, PostgreSQL, MySQL.
LOCK_SIGNS = (
    "database is locked",
    "database table is locked",
    "database schema is locked",
    "deadlock detected",
    "could not serialize access",
    "lock timeout",
    "lock wait timeout",
)
FIRST_PAUSE, LONGEST_PAUSE = 0.05, 1.0

# Calls of this thread already inside a retried call: only the outermost one retries.
_DEPTH = threading.local()


class StorageBusy(Exception):
    """The study database stayed locked past the bound; the message is one line."""

    def __init__(self, where: str, wait: float, error: BaseException) -> None:
        self.where, self.wait = where, wait
        first = _first_line(error)
        super().__init__(
            f"the study database {where} stayed locked for more than {wait:g} s "
            f"({first}); another process holds a lock on it ({ENV_WAIT}=SECONDS waits longer)"
        )


def storage_wait() -> float:
    """Seconds a call waits for a locked database: `SWEEPER_STORAGE_WAIT`, default 60.

    Raises ValueError (one line naming the variable) for a value that is not a number > 0."""
    text = os.environ.get(ENV_WAIT, "").strip()
    if not text:
        return DEFAULT_WAIT
    try:
        wait = float(text)
    except ValueError:
        wait = float("nan")
    if not wait > 0 or wait == float("inf"):
        raise ValueError(f"{ENV_WAIT}={text!r} must be a number of seconds > 0")
    return wait


def _first_line(error: BaseException) -> str:
    """`OperationalError: database is locked`: the deepest cause's type and first line."""
    while error.__cause__ is not None:
        error = error.__cause__
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if "[SQL:" in text:
        text = text.split("[SQL:")[0].strip()
    if text.startswith("(") and ")" in text:  # `(sqlite3.OperationalError) database ...`
        text = text.split(")", 1)[1].strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def is_lock_error(error: BaseException) -> bool:
    """Whether `error`, or what caused it, says the database is locked or busy."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 8:
        if any(sign in str(current).lower() for sign in LOCK_SIGNS):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


def _where(url: str) -> str:
    """The database for messages: a SQLite file's absolute path, or the URL without password."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - an odd URL is shown as written
        return url
    if parsed.drivername.startswith("sqlite") and parsed.database:
        return str(Path(parsed.database).expanduser().resolve())
    return parsed.render_as_string(hide_password=True)


class _LockedTrialsQuery(Exception):
    """Optuna's trials query met a lock (raised from its fallback warning; its context is
    the OperationalError, which `is_lock_error` reads)."""


class _NoFallbackOnLock(logging.Filter):
    """On Optuna's RDB logger: its "falling back to a slower alternative" warning about a
    lock, logged inside a call that `retrying` retries, raises instead (see the module)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if (
            getattr(_DEPTH, "inside", False)
            and message.startswith(OPTUNA_TRIALS_FALLBACK)
            and any(sign in message.lower() for sign in LOCK_SIGNS)
        ):
            raise _LockedTrialsQuery(message.splitlines()[0])
        return True


def _refuse_fallback_on_lock() -> None:
    """Install `_NoFallbackOnLock` on Optuna's RDB logger, once."""
    logger = logging.getLogger(OPTUNA_RDB_LOGGER)
    if not any(isinstance(f, _NoFallbackOnLock) for f in logger.filters):
        logger.addFilter(_NoFallbackOnLock())


def retrying(call: Any, wait: float, where: str) -> Any:
    """`call` retried on lock errors for up to `wait` seconds, then StorageBusy."""

    @functools.wraps(call)
    def patient(*args: Any, **kwargs: Any) -> Any:
        if getattr(_DEPTH, "inside", False):  # an outer call retries the whole of it
            return call(*args, **kwargs)
        _DEPTH.inside = True
        try:
            deadline, pause = time.monotonic() + wait, FIRST_PAUSE
            while True:
                try:
                    return call(*args, **kwargs)
                except Exception as error:
                    if not is_lock_error(error):
                        raise
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise StorageBusy(where, wait, error) from None
                    time.sleep(min(pause, left))
                    pause = min(pause * 2, LONGEST_PAUSE)
        finally:
            _DEPTH.inside = False

    return patient


# RDBStorage's methods that are not retried: construction, pickling, sessions.
_NOT_RETRIED = {
    "remove_session",
    "_fill_storage_url_template",
    "_set_default_engine_kwargs_for_mysql",
}
_CLASS: Any = None


def _patient_class() -> Any:
    """RDBStorage with every storage method retried (built once, when Optuna is needed)."""
    global _CLASS
    if _CLASS is not None:
        return _CLASS
    import optuna

    _refuse_fallback_on_lock()
    base = optuna.storages.RDBStorage

    class PatientRDBStorage(base):  # type: ignore[misc, valid-type]
        """Optuna's RDBStorage under sweeper's retry policy (sweeper.trials.storage)."""

        def __init__(self, url: str, wait: float, **kwargs: Any) -> None:
            self.wait = wait
            self.where = _where(url)
            retrying(super().__init__, wait, self.where)(url, **kwargs)

        def __reduce__(self) -> Any:  # a class made at run time: rebuilt from its settings
            kwargs = {"skip_compatibility_check": self.skip_compatibility_check}
            return (_rebuild, (self.url, self.wait, self.engine_kwargs, kwargs))

    for name in dir(base):
        member = getattr(base, name)
        if name.startswith("__") or name in _NOT_RETRIED or not callable(member):
            continue
        if isinstance(base.__dict__.get(name), (staticmethod, classmethod)):
            continue

        def method(self: Any, *args: Any, _name: str = name, **kwargs: Any) -> Any:
            return retrying(getattr(base, _name), self.wait, self.where)(self, *args, **kwargs)

        functools.update_wrapper(method, member)
        setattr(PatientRDBStorage, name, method)
    _CLASS = PatientRDBStorage
    return _CLASS


def _rebuild(url: str, wait: float, engine_kwargs: dict, kwargs: dict) -> Any:
    """An unpickled PatientRDBStorage (`__reduce__`)."""
    return _patient_class()(url, wait, engine_kwargs=engine_kwargs, **kwargs)


def patient_storage(url: str, wait: float | None = None, **kwargs: Any) -> Any:
    """An `optuna.storages.RDBStorage` for `url` under the retry policy (see the module).

    `wait`: seconds (default `storage_wait()`); `kwargs` go to RDBStorage (e.g.
    `skip_compatibility_check=True`). Raises StorageBusy past the bound, and what
    RDBStorage raises otherwise."""
    wait = storage_wait() if wait is None else wait
    engine_kwargs = dict(kwargs.pop("engine_kwargs", None) or {})
    if url.startswith("sqlite"):
        connect_args = dict(engine_kwargs.get("connect_args") or {})
        connect_args.setdefault("timeout", wait)
        engine_kwargs["connect_args"] = connect_args
    return _patient_class()(url, wait, engine_kwargs=engine_kwargs, **kwargs)
