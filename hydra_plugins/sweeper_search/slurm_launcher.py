"""`hydra/launcher=slurm` (sweeper/conf/hydra/launcher/slurm.yaml): hydra-submitit-launcher's
SLURM launcher, which says which SLURM job runs which job and how it stands, waits for
every job of an array, and makes the time-limit warning an interrupt. Hydra loads
launchers only from `hydra_plugins`; the code is `sweeper.sweeps.slurm`, imported when a
sweep launches (this module imports nothing but Hydra's plugin)."""

from __future__ import annotations

from typing import Any

from hydra_plugins.hydra_submitit_launcher.submitit_launcher import (
    SlurmLauncher as SubmititSlurmLauncher,
)


class SlurmLauncher(SubmititSlurmLauncher):
    def setup(self, *args: Any, **kwargs: Any) -> None:
        super().setup(*args, **kwargs)
        from sweeper.sweeps.slurm import check_settings

        check_settings(self)  # before the sweep writes or submits anything

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from sweeper.sweeps.slurm import run_in_job

        return run_in_job(self, super().__call__, args)

    def launch(self, job_overrides: Any, initial_job_idx: int) -> Any:
        from sweeper.sweeps.slurm import launch

        return launch(self, job_overrides, initial_job_idx)

    def cancel_jobs(self) -> None:
        """`scancel` the jobs still waited for (a search stopped by Ctrl-C or SIGTERM)."""
        from sweeper.sweeps.slurm import cancel_waiting

        cancel_waiting()
