"""The Hydra callback that guards a single run's folder before Hydra writes into it.

`RunFolderCheck` (in sweeper's `hydra.callbacks`) makes `sweeper.core.run_folder`'s
checks in `on_run_start`: before Hydra writes `.hydra/` and its log file into the
folder, so a refused run leaves it untouched.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sweeper.core.checkpoint import Checkpointer, config_snapshot
from sweeper.core.config import ConfigError
from sweeper.core.run_folder import RunFolder, refuse_finished


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
    from a checkpoint there, if any)."""

    def __init__(self) -> None:
        self.folder: RunFolder | None = None

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        folder = Path(str(OmegaConf.select(config, "hydra.run.dir"))).absolute()
        try:
            snapshot = config_snapshot(_task_config(config))
        except Exception:  # e.g. a ${hydra:...} value, known only once the job runs
            snapshot = None  # then train() compares the checkpoint's config instead
        try:
            refuse_finished(folder)
            if snapshot is not None:
                Checkpointer(folder, snapshot).load()  # reads only
            run_folder = RunFolder(folder)
            run_folder.acquire()
            self.folder = run_folder
        except ConfigError as error:
            print(f"sweeper: error: {error}", file=sys.stderr)
            sys.exit(2)

    def on_run_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self.folder is not None:
            self.folder.release()
            self.folder = None
