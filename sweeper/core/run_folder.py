"""One job's folder: who may write into it, and whether it already holds a finished run.

- `RunFolder(path)` is held for the whole of a run: it creates the folder (an
  unwritable one is refused with "cannot write to X: <why>") and takes an
  exclusive, non-blocking `fcntl.flock` on `X/.lock`, which the OS releases
  when the process ends, SIGKILL included. While another live process holds
  it, the folder is refused ("X is in use by another run (pid N)") and nothing
  is written into it. Locks are reentrant within a process (the single-run
  check below and `train` take the same one).
- `finished_status(path)`: a `metrics.json` whose status is anything but
  `interrupted` marks a finished run, whose files are never overwritten.
- `sweeper.run.callbacks.RunFolderCheck`, a Hydra callback, makes those checks
  for a single run before Hydra writes into the folder.

Every refusal is a `RunFolderError`, a `ConfigError`: one line, exit 2.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sweeper.core.config import ConfigError
from sweeper.core.record import run_status

LOCK_NAME = ".lock"
METRICS_NAME = "metrics.json"


class RunFolderError(ConfigError):
    """The run folder cannot be used: unwritable, in use, finished, or another config's."""


def cannot_write(folder: Path, error: OSError) -> RunFolderError:
    return RunFolderError(f"cannot write to {folder}: {error.strerror or error}")


def finished_status(folder: str | Path) -> str | None:
    """The status of a finished run in `folder` (ok, failed, ...), None if there is none.

    A run interrupted by a signal (status `interrupted`) is not finished: it resumes.
    An unreadable metrics.json counts as finished ("unreadable"): never overwrite it."""
    path = Path(folder) / METRICS_NAME
    if not path.is_file():
        return None
    status = run_status(folder).status
    return None if status in ("interrupted", "missing") else status


def refuse_finished(folder: Path, option: str = "hydra.run.dir") -> None:
    """Raise RunFolderError if `folder` holds a finished run."""
    status = finished_status(folder)
    if status is not None:
        raise RunFolderError(
            f"{folder} already holds a finished run (status {status}); choose another {option}"
        )


# path -> [fd, holders]: a process takes each folder's lock once and counts its holders,
# since a second flock on a second descriptor of the same file would conflict with the first.
_held: dict[str, list[int]] = {}


class RunFolder:
    """Context manager: the folder exists, is writable and is this process's alone.

    Raises RunFolderError when it cannot be created or written, or while another
    process holds its lock (then nothing is written into it)."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder).absolute()

    def acquire(self) -> None:
        key = os.path.realpath(self.path)
        if key in _held:
            _held[key][1] += 1
            return
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise cannot_write(self.path, error) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            pid = f" (pid {holder})" if holder.isdigit() else ""
            raise RunFolderError(f"{self.path} is in use by another run{pid}") from None
        except OSError as error:
            os.close(fd)
            raise cannot_write(self.path, error) from None
        try:  # who holds it, for the message above; the lock itself is what counts
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError as error:
            os.close(fd)
            raise cannot_write(self.path, error) from None
        _held[key] = [fd, 1]

    def release(self) -> None:
        key = os.path.realpath(self.path)
        entry = _held.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            del _held[key]
            os.close(entry[0])  # closing the last descriptor releases the flock

    def __enter__(self) -> RunFolder:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
