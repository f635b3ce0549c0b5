"""The job folders inside a sweep folder: find them, read what they are, number new ones.

A job folder is any folder holding `.hydra/config.yaml`, which Hydra writes for
every job of a grid or a search, at whatever depth `hydra.sweep.subdir` puts
it (`3`, `trial_3`, `adder/3`, ...). Its number is Hydra's `hydra.job.num`,
read from `.hydra/hydra.yaml`, not from the folder's name, so numbering goes on
after the existing jobs whatever the subdir pattern. Its identity is the set of
overrides in `.hydra/overrides.yaml`; its state comes from `metrics.json`.

Sweepers that add jobs to a folder another process may also be filling
(several search workers) reserve their numbers with `claim_job_numbers`, an
exclusive-create file per number under `<sweep>/.sweeper/claims/`, so no two
processes ever get the same job number (and so the same job folder).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sweeper.core.record import FINISHED, run_status

HYDRA_DIR = ".hydra"
CLAIMS = Path(".sweeper") / "claims"
__all__ = ["FINISHED", "HYDRA_DIR", "Job", "existing_jobs", "find_job_folders", "job_status"]

try:  # libyaml's loader: hydra.yaml is a few KB per job, read for every job of a sweep
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader


def is_job_folder(path: Path) -> bool:
    """Whether Hydra ran a job in `path` (it holds `.hydra/config.yaml`)."""
    return (path / HYDRA_DIR / "config.yaml").is_file()


def find_job_folders(root: str | Path, with_metrics: bool = False) -> list[Path]:
    """Every job folder under `root` at any depth (`root` itself for a single run).

    With `with_metrics`, a folder holding `metrics.json` counts too (a job run with
    `hydra.output_subdir=null`, which has no `.hydra/`). Hidden folders (`.hydra`,
    `.sweeper`, ...) are not searched, nor the inside of a job folder. Sorted by job
    number, then path (folders without a number last). Raises FileNotFoundError /
    NotADirectoryError when `root` is not a folder, and PermissionError when it
    cannot be listed.
    """
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such folder")
    if not root.is_dir():
        raise NotADirectoryError(f"{root}: not a folder")
    found = [Path(folder) for folder in _walk_job_folders(os.fspath(root), with_metrics)]
    return sorted(found, key=lambda p: (_number_or_inf(p), _natural(str(p.relative_to(root)))))


def _walk_job_folders(root: str, with_metrics: bool = False) -> Iterator[str]:
    """The job folders under `root` as find_job_folders defines them, unsorted: no hidden
    folder, no symlinked one, and a job folder's inside is never listed (a search looks
    for the next job number before every trial, over hundreds of jobs: #22). Strings, not
    Paths: pathlib was most of the time here. Raises OSError when `root` cannot be
    listed; another folder that cannot be is skipped, as os.walk skips it."""
    folders = [root]
    while folders:
        folder = folders.pop()
        metrics = os.path.join(folder, "metrics.json")
        if os.path.isfile(os.path.join(folder, HYDRA_DIR, "config.yaml")) or (  # is_job_folder
            with_metrics and os.path.lexists(metrics) and not os.path.isdir(metrics)
        ):
            yield folder
            continue
        try:
            entries = list(os.scandir(folder))
        except OSError:
            if folder == root:
                raise
            continue
        for entry in entries:
            if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                folders.append(entry.path)


def _natural(name: str) -> tuple:
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name)
    )


def _number_or_inf(folder: Path) -> float:
    number = job_number(folder)
    return float("inf") if number is None else number


# job_number's answers by (hydra.yaml's path, mtime, size): a search claims numbers
# before every batch, and parsing every job's hydra.yaml each time made a trial's
# cost grow with the sweep folder (docs/benchmarks.md#scale;
# bench/benchmark.py --only scale).
_NUMBERS: dict[tuple[str, int, int], int | None] = {}


def job_number(folder: str | Path) -> int | None:
    """Hydra's `hydra.job.num` of the job in `folder`, or None if it cannot be read.

    Read once per version of `.hydra/hydra.yaml` (cached by path, mtime and size)."""
    path = os.path.join(folder, HYDRA_DIR, "hydra.yaml")
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):  # a FIFO there would block the read
        return None
    key = (os.path.abspath(path), info.st_mtime_ns, info.st_size)
    if key not in _NUMBERS:
        _NUMBERS[key] = _read_job_number(path)
    return _NUMBERS[key]


def _read_job_number(path: str | Path) -> int | None:
    try:
        with open(path) as stream:
            hydra_cfg = yaml.load(stream, Loader=_Loader)
        number = hydra_cfg["hydra"]["job"]["num"]
    except (OSError, ValueError, yaml.YAMLError, KeyError, TypeError):  # ValueError: not UTF-8
        return None
    return number if isinstance(number, int) and not isinstance(number, bool) else None


def job_overrides(folder: Path) -> list[str]:
    """The job's overrides (`["task=adder", "model.hidden=3"]`) from `.hydra/overrides.yaml`.

    Raises ValueError when the file is unreadable or not a list of strings."""
    path = folder / HYDRA_DIR / "overrides.yaml"
    if not path.exists():
        return []
    try:
        lines = yaml.load(path.read_text(), Loader=_Loader)
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: unreadable ({error})") from None
    if lines is None:
        return []
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise ValueError(f"{path}: not a list of overrides")
    return lines


def normalize_override(override: str) -> str:
    """`size='3'` -> `size=3`: one spelling per override, for comparing jobs."""
    key, sep, value = override.partition("=")
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return f"{key.strip()}{sep}{value}"


# Override keys that say where or how a job's results are recorded, not what it trains
# (and the keys under them: `logger.mlflow.tracking_uri`, `logger/tensorboard`): no part
# of a job's identity, no configuration column of the collected tables.
RECORDING_KEYS = ("logger", "output_dir", "task.data_root", "task.download")


def recording_only(key: str) -> bool:
    """Whether an override key (`+`/`~` prefixes allowed) is one of `RECORDING_KEYS` or
    under one."""
    key = key.strip().lstrip("+~")
    return any(key == k or key.startswith((f"{k}.", f"{k}/")) for k in RECORDING_KEYS)


def identity(overrides: Iterable[str]) -> frozenset[str]:
    """What makes two jobs the same job: their overrides, in any order and quoting,
    except the recording-only ones (`logger=tensorboard` added on a re-run is the
    same grid)."""
    return frozenset(
        normalize_override(o) for o in overrides if not recording_only(str(o).partition("=")[0])
    )


def job_status(folder: Path) -> str:
    """`ok`, `failed`, `interrupted`, ... from metrics.json; `missing` or `unreadable` if none."""
    return run_status(folder).status


@dataclass(frozen=True)
class Job:
    """One existing job folder of a sweep."""

    folder: Path
    number: int | None
    overrides: tuple[str, ...]
    status: str

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def identity(self) -> frozenset[str]:
        return identity(self.overrides)


def existing_jobs(root: str | Path) -> list[Job]:
    """The job folders under `root` with their number, overrides and status ([] if no root)."""
    root = Path(root)
    if not root.is_dir():
        return []
    jobs = []
    for folder in find_job_folders(root):
        try:
            overrides = tuple(job_overrides(folder))
        except ValueError:
            overrides = ()
        jobs.append(Job(folder, job_number(folder), overrides, job_status(folder)))
    return jobs


def _claimed(root: Path) -> list[int]:
    claims = root / CLAIMS
    if not claims.is_dir():
        return []
    return [int(p.name) for p in claims.iterdir() if p.name.isdigit()]


def _job_numbers(root: Path) -> Iterator[int]:
    """The readable job numbers of the job folders find_job_folders(root) finds."""
    for folder in _walk_job_folders(os.fspath(root)):
        number = job_number(folder)
        if number is not None:
            yield number


def next_job_number(root: str | Path) -> int:
    """One past the highest job number used or claimed under `root` (0 for a new folder)."""
    root = Path(root)
    if not root.is_dir():
        return 0
    used = list(_job_numbers(root))
    # Folders named by number alone count too (a job that died before Hydra wrote .hydra/).
    used += [int(e.name) for e in os.scandir(root) if e.name.isdigit() and e.is_dir()]
    return max([*used, *_claimed(root)], default=-1) + 1


def claim_job_numbers(root: str | Path, count: int) -> int:
    """Reserve `count` consecutive job numbers under `root` for this process; returns the first.

    Each number is an exclusively created file, so two processes filling one sweep
    folder at once never get the same number. Raises OSError if `root` is not writable.
    """
    root = Path(root)
    claims = root / CLAIMS
    claims.mkdir(parents=True, exist_ok=True)
    start = next_job_number(root)
    while True:
        taken: list[Path] = []
        try:
            for number in range(start, start + count):
                path = claims / str(number)
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
                os.write(fd, f"{os.getpid()}\n".encode())
                os.close(fd)
                taken.append(path)
            return start
        except FileExistsError:
            for path in taken:
                path.unlink(missing_ok=True)
            start = next_job_number(root)


def job_subdir(cfg: Any) -> str:
    """`hydra.sweep.subdir` of a composed job config, resolved as Hydra resolves it for
    that job: `${hydra:job.num}` and the like read Hydra's global config, which is set
    to `cfg` meanwhile (and made read-only by Hydra), then put back."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    hydra_config = HydraConfig.instance()
    previous = hydra_config.cfg
    try:
        hydra_config.set_config(cfg)
        return str(OmegaConf.select(cfg, "hydra.sweep.subdir"))
    finally:
        if previous is not None:
            hydra_config.cfg = previous
