"""Opening an MLflow database store safely from several jobs at once, and failing fast.

`logger=mlflow` with a database tracking URI (`sqlite:///mlruns/mlflow.db`, the
default, or `postgresql://...`, `mysql://...`, `mssql://...`) has two problems that
MLflow itself does not solve:

- **Parallel jobs race to create a new store.** The first use of an empty database
  runs MLflow's migrations (~10 s); two joblib workers doing that at once fail with
  `table ... already exists` / `No such index`, and their jobs lose their MLflow runs.
  `store_lock(uri)` is an exclusive `fcntl.flock` held while a job opens the store
  and gets or creates its experiment: the first job creates the tables, the others
  wait and then find them. The lock file sits beside a local SQLite store
  (`mlruns/mlflow.db.lock`), and in the temporary folder for a database server
  (keyed by the URI), so it serialises the jobs of one machine.
- **An unreachable database costs ~100 s and a page of warnings.** MLflow retries
  engine creation 10 times with growing sleeps, a multi-line warning each time
  (`mlflow.store.db.utils.MAX_RETRY_COUNT`, not configurable). `check_database(uri)`
  connects first with SQLAlchemy's public API, a `CONNECT_TIMEOUT` second timeout and
  no pool, and raises `StoreError` with one short line (`cannot reach it (...)`,
  `cannot use it (...)`) before MLflow is asked.

`shown_uri(uri)` is the URI as reported: any password replaced by `***`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

try:
    import fcntl
except ImportError:  # Windows: no flock; jobs there run one store opening at a time anyway
    fcntl = None  # type: ignore[assignment]

# The database back ends MLflow's SqlAlchemyStore supports (mlflow.store.db.db_types).
DATABASES = ("sqlite", "postgresql", "mysql", "mssql")
CONNECT_TIMEOUT = 5  # seconds to reach a database server before giving up
# Each DB-API driver's name for its connect timeout (seconds); sqlite's is its busy timeout.
TIMEOUT_ARG = {
    "postgresql": "connect_timeout",
    "mysql": "connect_timeout",
    "mssql": "timeout",
    "sqlite": "timeout",
}


class StoreError(RuntimeError):
    """A tracking store that cannot be used, with the one line that says why."""


def backend(uri: str) -> str | None:
    """The database of a SQLAlchemy URI (`postgresql` for `postgresql+psycopg2://...`), None
    for any other MLflow URI (http, https, file, databricks, a plain folder)."""
    scheme = urlsplit(uri).scheme.lower()
    name = scheme.split("+", 1)[0]
    return name if name in DATABASES else None


def local_store(uri: str) -> Path | None:
    """The database file of a `sqlite:///` URI (relative to the current folder unless
    absolute), else None."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix) or uri == prefix + ":memory:":
        return None
    return Path(uri[len(prefix) :].split("?", 1)[0])


def shown_uri(uri: str) -> str:
    """`uri` with its password, if any, replaced by `***` (for log lines and metrics.json)."""
    try:
        parts = urlsplit(uri)
        if parts.password is None:
            return uri
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
        netloc = f"{parts.username or ''}:***@{host}{port}"
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:  # a port that is no number: nothing to hide that urlsplit found
        return uri


def lock_path(uri: str) -> Path | None:
    """The lock file of a database store: `<store>.lock` beside a local SQLite file, else
    `sweeper-mlflow-<hash>.lock` in the temporary folder; None for a URI that is no
    database (an HTTP server handles its own concurrency)."""
    if backend(uri) is None:
        return None
    store = local_store(uri)
    if store is not None:
        return store.with_name(store.name + ".lock")
    digest = hashlib.sha1(uri.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"sweeper-mlflow-{digest}.lock"


@contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Hold an exclusive lock on `uri`'s store for the block (no lock for a URI that is no
    database, or without fcntl). Released when the block ends or the process dies.

    Raises StoreError when the lock file cannot be opened (an unwritable folder)."""
    path = lock_path(uri)
    if path is None or fcntl is None:
        yield
        return
    try:  # only locked, never written: a descriptor, mode from the umask as any new file
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as error:
        raise StoreError(f"cannot open the lock file {path}: {error.strerror}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock


def check_database(uri: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Connect to the database of `uri` once (at most `timeout` seconds to reach a server)
    and list its tables; nothing for a URI that is no database.

    Raises StoreError with one short line: `cannot reach it (<the driver's first line>)`
    for a server that does not answer or refuses, `cannot use it (...)` for a URI
    SQLAlchemy cannot make an engine of (a driver that is not installed, a bad URL) or a
    file that is no database."""
    name = backend(uri)
    if name is None:
        return
    import sqlalchemy
    from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
    from sqlalchemy.pool import NullPool

    try:
        engine = sqlalchemy.create_engine(
            uri, poolclass=NullPool, connect_args={TIMEOUT_ARG[name]: timeout}
        )
    except (ArgumentError, ImportError, ValueError) as error:
        raise StoreError(f"cannot use it ({_first_line(error)})") from None
    try:
        with engine.connect() as connection:
            sqlalchemy.inspect(connection).get_table_names()
    except DBAPIError as error:
        why = _first_line(error.orig if error.orig is not None else error)
        verb = "cannot reach it" if name != "sqlite" and _unreachable(error) else "cannot use it"
        raise StoreError(f"{verb} ({why})") from None
    except (SQLAlchemyError, ImportError, OSError) as error:
        raise StoreError(f"cannot use it ({_first_line(error)})") from None
    finally:
        engine.dispose()


def _unreachable(error: BaseException) -> bool:
    """Whether a DB-API error says the server was not reached (refused, timed out, unknown
    host), not that it answered no (a wrong password, a missing database)."""
    text = str(error).lower()
    words = ("refused", "timeout", "timed out", "could not connect", "can't connect", "translate")
    return any(word in text for word in words)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    first = text.splitlines()[0].strip() if text else type(error).__name__
    return first if len(first) <= 200 else first[:197] + "..."
