"""The Hydra callback that guards a single run's folder before Hydra writes into it.

`RunFolderCheck` (in sweeper's `hydra.callbacks`) makes `sweeper.core.run_folder`'s
checks in `on_run_start`: before Hydra writes `.hydra/` and its log file into the
folder, so a refused run leaves it untouched. A single run whose config is refused once
it runs (`discard_refused_run`, called by the entrypoint before it exits 2) leaves no
trace either: what this run made there is removed (the folder too, if it made it), and
what was there before is kept as it was (`.hydra/`'s files as they were, a log file cut
back to its length), so a resumable run's folder stays resumable.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sweeper.core.artifacts import write_bytes
from sweeper.core.checkpoint import Checkpointer, config_snapshot
from sweeper.core.config import ConfigError
from sweeper.core.run_folder import LOCK_NAME, RunFolder, refuse_finished


def _task_config(config: DictConfig) -> DictConfig:
    """The job's config as the task function will see it (no `hydra` node)."""
    data = OmegaConf.to_container(config, resolve=False)
    assert isinstance(data, dict)
    data.pop("hydra", None)
    return OmegaConf.create(data)


class RunFolderCheck(Callback):
    """Refuse a single run's `hydra.run.dir` before Hydra writes into it.

    Finished run, folder in use, unwritable folder, or a checkpoint of another
    config: prints `sweeper: error: ...` and exits 2 with the folder untouched.
    Otherwise keeps the folder's lock until the run ends (`train` then resumes
    from a checkpoint there, if any), and notes what the folder holds, so that a run
    refused later can take back what it wrote (`discard_refused_run`)."""

    def __init__(self) -> None:
        self.folder: RunFolder | None = None
        self.before: FolderState | None = None

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        global _current
        folder = Path(str(OmegaConf.select(config, "hydra.run.dir"))).absolute()
        try:
            snapshot = config_snapshot(_task_config(config))
        except Exception:  # e.g. a ${hydra:...} value, known only once the job runs
            snapshot = None  # then train() compares the checkpoint's config instead
        made = _missing_top(folder)  # the highest folder this run would create
        had_lock = (folder / LOCK_NAME).exists()
        try:
            refuse_finished(folder)
            if snapshot is not None:
                Checkpointer(folder, snapshot).load()  # reads only
            run_folder = RunFolder(folder)
            run_folder.acquire()
            self.folder = run_folder
        except ConfigError as error:
            _remove_empty(folder, made)  # an unwritable folder's parents that were made
            print(f"sweeper: error: {error}", file=sys.stderr)
            sys.exit(2)
        subdir = OmegaConf.select(config, "hydra.output_subdir")
        self.before = FolderState(folder, made, had_lock, None if subdir is None else str(subdir))
        _current = self

    def on_run_end(self, config: DictConfig, **kwargs: Any) -> None:
        global _current
        if self.folder is not None:
            self.folder.release()
            self.folder = None
        self.before = None
        _current = None

    def discard(self) -> None:
        """Take back what this run wrote into its folder, then let the folder go."""
        if self.before is not None:
            self.before.restore()
        self.on_run_end(OmegaConf.create())


_current: RunFolderCheck | None = None  # the single run's check, while it runs


def discard_refused_run() -> None:
    """A single run refused for its config (it exits 2 next): remove what it wrote into
    its folder (`.hydra/`, the log file, `.lock`) and the folders it made, leaving what
    was there before as it was. Nothing to do outside a single run of sweeper's."""
    if _current is not None:
        _current.discard()


def _missing_top(folder: Path) -> Path | None:
    """The highest of `folder` and its parents that does not exist (None: it exists)."""
    top = None
    for path in (folder, *folder.parents):
        if path.exists() or path.is_symlink():
            break
        top = path
    return top


def _remove_empty(folder: Path, top: Path | None) -> None:
    """Remove `folder` and its parents up to `top` while they are empty (those this run
    made; a folder that is not empty was written by someone else: kept)."""
    if top is None:
        return
    for path in (folder, *folder.parents):
        try:
            path.rmdir()
        except OSError:
            return
        if path == top:
            return


# A file of .hydra/ larger than this is not kept to be put back (Hydra writes a few kB).
KEEP_BYTES = 1 << 20


class FolderState:
    """What a single run's folder held when the run took it (after taking its lock, so no
    other run writes there until this one ends): its entries, its log files' lengths and
    the files of Hydra's output subfolder (`.hydra`), to put back if the run is refused."""

    def __init__(self, folder: Path, made: Path | None, had_lock: bool, subdir: str | None):
        self.folder, self.made, self.had_lock = folder, made, had_lock
        self.entries = set(os.listdir(folder))
        if not had_lock:
            self.entries.discard(LOCK_NAME)  # this run's lock: taken back with the rest
        self.logs = {
            name: (folder / name).stat().st_size
            for name in self.entries
            if name.endswith(".log") and (folder / name).is_file()
        }
        self.subdir = None if subdir is None else folder / subdir
        self.subdir_files: dict[str, bytes] | None = None  # None: the subfolder was not there
        if self.subdir is not None and self.subdir.is_dir():
            self.subdir_files = {
                p.name: p.read_bytes()
                for p in self.subdir.iterdir()
                if p.is_file() and p.stat().st_size <= KEEP_BYTES
            }

    def restore(self) -> None:
        """Remove what appeared since, put back what changed; errors are ignored (a run
        refused anyway: what cannot be removed stays, and nothing that was there goes)."""
        try:
            self._restore_subdir()
            for name in set(os.listdir(self.folder)) - self.entries:
                path = self.folder / name
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
            for name, size in self.logs.items():
                path = self.folder / name
                if path.is_file() and path.stat().st_size > size:
                    os.truncate(path, size)
        except OSError:
            pass
        if self.made is not None:
            _remove_empty(self.folder, self.made)

    def _restore_subdir(self) -> None:
        if self.subdir is None or self.subdir_files is None or not self.subdir.is_dir():
            return  # a subfolder this run made is one of the new entries, removed with them
        for path in self.subdir.iterdir():
            if path.name not in self.subdir_files:
                if path.is_file() or path.is_symlink():
                    path.unlink(missing_ok=True)
            elif path.is_file() and path.read_bytes() != self.subdir_files[path.name]:
                write_bytes(path, self.subdir_files[path.name])
