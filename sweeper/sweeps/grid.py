"""Grid multiruns that are checked whole first and never overwrite or mix up job folders.

`GridSweeper` is Hydra's basic sweeper (same grammar: `a,b,c`, `range`, `glob`,
batches of `max_batch_size`) with four guarantees added. Before the first job:

1. every point of the grid is composed and checked as a job would (its jobs' `point_checker`;
   sweeper's own: `sweeper.run.job.Preflight`):
   bad points are named together in one line and nothing runs (exit 2);
2. every point's job folder is worked out from `hydra.sweep.subdir`: two points
   that would share a folder are refused (exit 2);
3. the sweep folder is compared with what is already in it:
   - empty or new: the grid runs as numbered jobs 0..N-1;
   - the same grid (its points are among those recorded in `.sweeper/grid.json`
     when the folder's grid first ran): it is resumed. Finished jobs
     (metrics.json status ok or failed) are kept and skipped; unfinished ones
     (killed, interrupted, never started) run again in their own folder, where the
     run resumes from its last epoch checkpoint;
   - a different grid: refused in one line, unless `hydra.sweeper.add=true`, which
     adds the new points as jobs numbered after the existing ones (points equal to
     a finished job are still skipped);
4. the sweep folder is locked (`.sweeper/grid.lock`, an flock released even when
   the process is killed) so two grids never fill one folder at once.

Ctrl-C (or SIGTERM) stops the grid after the running job has recorded itself as
interrupted; the sweep is still collected, and one line says which jobs were cut
off and how to resume. A job whose launcher itself failed is logged and the grid
goes on. Hydra only loads sweepers from `hydra_plugins`, hence
`hydra_plugins/sweeper_search/grid_sweeper.py`.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Private (sweeper.core.private_apis says why): Hydra's basic sweeper, the grid's base class.
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobStatus
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from sweeper.core.artifacts import write_json, write_text
from sweeper.core.interrupt import exit_code
from sweeper.records.sweep_folder import (
    FINISHED,
    Job,
    existing_jobs,
    identity,
    job_status,
    job_subdir,
    next_job_number,
)
from sweeper.sweeps.app_jobs import AppJobs, jobs_of
from sweeper.sweeps.compose import compose_once
from sweeper.sweeps.progress import GridProgress

log = logging.getLogger(__name__)

LOCK = Path(".sweeper") / "grid.lock"
# The points this folder's grid(s) asked for, so a re-run after a kill (some points
# never started, so they have no folder yet) is still known as the same grid.
RECORD = Path(".sweeper") / "grid.json"


def _key(overrides: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(overrides))


def _recorded_points(sweep_dir: Path) -> Counter | None:
    """The points recorded for `sweep_dir` (None when there is no readable record)."""
    try:
        points = json.loads((sweep_dir / RECORD).read_text())["points"]
        # Identities as today's (a record written with `logger=...` among the overrides)
        return Counter(_key(identity(point)) for point in points)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _record_points(sweep_dir: Path, points: Counter) -> None:

    write_json(sweep_dir / RECORD, {"points": [list(p) for p in sorted(points.elements())]})


class GridError(Exception):
    """A grid that cannot start; the message is one line."""


@dataclass
class Point:
    """One point of the grid: its overrides, job number and job folder."""

    overrides: list[str]
    number: int = -1
    folder: Path | None = None
    resume: bool = False  # an unfinished job of an earlier run of this grid
    # Its composed config, once checked: the folder is worked out from the same one.
    cfg: DictConfig | None = field(default=None, repr=False, compare=False)


def _describe(overrides: Sequence[str], among: Sequence[Sequence[str]] = ()) -> str:
    """`model.hidden=0 loss=mse`: the overrides, without those every job in `among` shares."""
    common = set.intersection(*(set(o) for o in among)) if len(among) > 1 else set()
    shown = [o for o in overrides if o not in common]
    return " ".join(shown) or "(no overrides)"


@contextmanager
def locked(sweep_dir: Path) -> Iterator[None]:
    """Hold the sweep folder's grid lock; GridError if another process holds it."""
    path = sweep_dir / LOCK
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")
    except OSError as error:
        raise GridError(f"cannot write to {sweep_dir}: {error.strerror or error}") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise GridError(
                f"{sweep_dir} is being filled by another sweep ({holder}); wait for it "
                "or choose another hydra.sweep.dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock


class GridSweeper(BasicSweeper):
    """Hydra's basic sweeper with whole-grid checks, resume and folder safety (see above)."""

    def __init__(
        self,
        max_batch_size: int | None = None,
        params: dict[str, str] | None = None,
        add: bool = False,
    ) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.add = add
        self.jobs: AppJobs = AppJobs()

    def setup(self, *, hydra_context: Any, task_function: Any, config: DictConfig) -> None:
        # Its launcher and the checks below compose each point from a template (compose.py).
        hydra_context = compose_once(hydra_context)
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)
        self.jobs = jobs_of(task_function)  # sweeper's own jobs: Preflight, collect

    def sweep(self, arguments: list[str]) -> Any:
        assert self.config is not None and self.launcher is not None
        assert self.hydra_context is not None
        sweep_dir = Path(self.config.hydra.sweep.dir)
        try:
            points = self._points(arguments)
            self._check_points(points)
            with locked(sweep_dir):
                todo = self._plan(points, sweep_dir)
                return self._run(todo, sweep_dir)
        except GridError as error:
            print(f"sweeper: error: {error}", file=sys.stderr)
            sys.exit(2)

    # ------------------------------------------------------------------ before any job

    def _points(self, arguments: list[str]) -> list[Point]:
        assert self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides([*self._parse_config(), *arguments])
        batches = self.split_arguments(overrides, None)
        return [Point(list(o)) for o in batches[0]]

    def _compose(self, point: Point, number: int) -> DictConfig:
        """`point`'s job config as job `number` (composed once per point)."""
        assert self.hydra_context is not None and self.config is not None
        if point.cfg is None:
            loader = self.hydra_context.config_loader
            point.cfg = loader.load_sweep_config(self.config, point.overrides)
        cfg = point.cfg
        with read_write(cfg.hydra), open_dict(cfg):  # job_subdir leaves it read-only
            cfg.hydra.job.id = number
            cfg.hydra.job.num = number
        return cfg

    def _check_points(self, points: list[Point]) -> None:
        """Compose and validate every point; one GridError naming all bad ones."""
        check, bad = self.jobs.point_checker(), []
        for index, point in enumerate(points):
            error = check(self._compose(point, index))
            if error is not None:
                where = _describe(point.overrides, [p.overrides for p in points])
                bad.append(f"point {index} ({where}): {error}")
        if bad:
            count = f"{len(bad)} of {len(points)} grid points are" if len(bad) > 1 else None
            count = count or f"1 of {len(points)} grid points is"
            raise GridError(f"{count} invalid, nothing was run: " + "; ".join(bad))

    def _folder(self, point: Point, number: int) -> Path:
        """The job folder Hydra will give `point` as job `number` (resolving the subdir)."""
        cfg = self._compose(point, number)
        subdir = job_subdir(cfg)  # ${hydra:...} in the subdir resolves per job
        root = str(OmegaConf.select(cfg, "hydra.sweep.dir"))
        return Path(os.path.abspath(os.path.join(root, subdir)))

    def _plan(self, points: list[Point], sweep_dir: Path) -> list[Point]:
        """Number the points against the jobs already in `sweep_dir`; the points to run."""
        existing = existing_jobs(sweep_dir)
        by_identity: dict[frozenset[str], list[Job]] = {}
        for job in existing:
            by_identity.setdefault(job.identity, []).append(job)
        asked = Counter(_key(identity(p.overrides)) for p in points)
        recorded = _recorded_points(sweep_dir)
        if recorded is None:  # a folder from before the record: judge by its jobs
            recorded = Counter(_key(job.identity) for job in existing)
            same_grid = bool(existing) and not recorded - asked
        else:
            same_grid = not asked - recorded
        if existing and not same_grid and not self.add:
            example = _describe(existing[0].overrides, [j.overrides for j in existing])
            raise GridError(
                f"{sweep_dir} already holds a different sweep ({len(existing)} jobs, e.g. job "
                f"{existing[0].number}: {example}); re-run that sweep's command to resume "
                "it, add hydra.sweeper.add=true to add these jobs to it, or choose another "
                "hydra.sweep.dir"
            )
        new_record = None if existing and same_grid else (recorded | asked if existing else asked)
        todo, skipped, number = [], [], next_job_number(sweep_dir)
        for point in points:
            matches = by_identity.get(identity(point.overrides))
            if matches:
                job = matches.pop(0)
                if job.finished:
                    skipped.append(job)
                    continue
                if job.number is None:
                    raise GridError(
                        f"{job.folder}: unfinished job without a readable .hydra/hydra.yaml; "
                        "move it away to run this point again"
                    )
                point.number, point.resume = job.number, True
                point.folder = job.folder.resolve()
            else:
                point.number, number = number, number + 1
            todo.append(point)
        taken = {job.folder.resolve(): job for job in existing}
        seen: dict[Path, Point] = {}
        for point in todo:
            folder = self._folder(point, point.number)
            if point.resume and point.folder != folder:
                # The subdir pattern changed since: run it where it was.
                folder = point.folder
            elif not point.resume and folder in taken:
                raise GridError(
                    f"job {point.number} ({_describe(point.overrides)}) would be written into "
                    f"{folder}, which holds job {taken[folder].number} "
                    f"({_describe(taken[folder].overrides)}); put ${{hydra.job.num}} in "
                    "hydra.sweep.subdir"
                )
            if folder in seen:
                raise GridError(
                    f"jobs {seen[folder].number} ({_describe(seen[folder].overrides)}) and "
                    f"{point.number} ({_describe(point.overrides)}) would share the folder "
                    f"{folder}; put ${{hydra.job.num}} in hydra.sweep.subdir"
                )
            seen[folder], point.folder = point, folder
        if new_record is not None:  # written once the plan passed every check
            _record_points(sweep_dir, new_record)
        if skipped:
            log.info(
                "%s: %d of %d jobs already finished, kept and skipped: %s",
                sweep_dir,
                len(skipped),
                len(points),
                ", ".join(str(job.number) for job in skipped),
            )
        resumed = [p.number for p in todo if p.resume]
        if resumed:
            log.info("resuming unfinished jobs %s", ", ".join(map(str, resumed)))
        return todo

    # ------------------------------------------------------------------ running

    def _run(self, todo: list[Point], sweep_dir: Path) -> list[Any]:
        assert self.config is not None and self.launcher is not None
        sweep_dir.mkdir(parents=True, exist_ok=True)
        record = sweep_dir / "multirun.yaml"
        if not record.exists():  # the first run's record is kept; a resume adds nothing new
            write_text(record, OmegaConf.to_yaml(self.config))  # atomic, the umask's mode
        returns: list[Any] = []
        batches = self._batches(todo)
        progress = GridProgress([p.folder for p in todo]).start()  # a line per job, on a terminal
        try:
            for batch in batches:
                started = time.perf_counter()
                results = self.launcher.launch(
                    [p.overrides for p in batch], initial_job_idx=batch[0].number
                )
                for point, result in zip(batch, results):
                    if result.status == JobStatus.FAILED:
                        error: BaseException | None = None
                        try:
                            _ = result.return_value  # raises the job's exception
                        except Exception as raised:
                            error = raised
                        log.error(
                            "job %d (%s) failed in its launcher: %s: %s",
                            point.number,
                            _describe(point.overrides),
                            type(error).__name__,
                            error,
                        )
                log.debug("batch of %d in %.1f s", len(batch), time.perf_counter() - started)
                returns.append(results)
        except KeyboardInterrupt as interrupt:
            progress.stop(final=False)
            self._interrupted(todo, sweep_dir, exit_code(interrupt))
        progress.stop()
        return returns

    def _batches(self, todo: list[Point]) -> list[list[Point]]:
        """Runs of consecutive job numbers (a launcher numbers a batch from its first job),
        cut to `max_batch_size`."""
        batches: list[list[Point]] = []
        size = self.max_batch_size if self.max_batch_size and self.max_batch_size > 0 else None
        for point in sorted(todo, key=lambda p: p.number):
            last = batches[-1] if batches else None
            if last and last[-1].number + 1 == point.number and (size is None or len(last) < size):
                last.append(point)
            else:
                batches.append([point])
        return batches

    def _interrupted(self, todo: list[Point], sweep_dir: Path, code: int) -> None:
        finished = [p.number for p in todo if p.folder and job_status(p.folder) in FINISHED]
        cut = [p.number for p in todo if p.number not in finished]
        self.jobs.collect(sweep_dir)  # logs, never raises: the message below matters more
        print(
            f"sweeper: interrupted: {len(finished)} of {len(todo)} jobs of this run finished, "
            f"cut off: {', '.join(map(str, cut)) or 'none'}; collected what finished in "
            f"{sweep_dir}; run the same command with hydra.sweep.dir={sweep_dir} to resume",
            file=sys.stderr,
        )
        sys.exit(code)
