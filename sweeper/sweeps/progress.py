"""Sweep-level progress: one line on the terminal each time a job or trial finishes.

    sweep: job 3 of 6 done (1 failed), elapsed 0:42, ETA 1:24
    search: trial 5 of 20 done (best so far 0.9999 in trial 3), elapsed 1:10, ETA 3:30

Written only when stderr is a terminal (`enabled`): under SLURM, nohup or CI the
job logs say what happened and these lines would be noise. Each is one whole
line written with `tqdm.write`, which lifts this process's own per-epoch bars
out of the way and redraws them below, so the two never mix; joblib's workers
are other processes, and a whole line at a time is what keeps their output and
ours apart. The ETA is the elapsed time per finished job times the jobs left
(so parallel workers are accounted for), shown once a job has finished.

A grid hands all its points to Hydra's launcher in one call, so `GridProgress`
watches the job folders from a background thread (a job is done once its
metrics.json says `ok` or `failed`); a search reports after each batch it tells.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from sweeper.core.record import run_status

POLL_SECONDS = 1.0


def enabled(stream: TextIO | None = None) -> bool:
    """True when `stream` (default stderr) is a terminal."""
    stream = stream if stream is not None else sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a file
        return False


def clock(seconds: float) -> str:
    """`0:42`, `12:05`, `1:02:03` (whole seconds, rounded)."""
    if not math.isfinite(seconds):
        return "?"
    minutes, secs = divmod(int(round(max(seconds, 0.0))), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_line(
    what: str, unit: str, done: int, total: int, elapsed: float, extra: str = ""
) -> str:
    """`sweep: job 3 of 6 done (extra), elapsed 0:42, ETA 1:24` (no ETA before the first,
    none after the last)."""
    parts = [f"{what}: {unit} {done} of {total} done" + (f" ({extra})" if extra else "")]
    parts.append(f"elapsed {clock(elapsed)}")
    if 0 < done < total:
        parts.append(f"ETA {clock(elapsed / done * (total - done))}")
    return ", ".join(parts)


def _write(line: str, stream: TextIO) -> None:
    from tqdm import tqdm

    tqdm.write(line, file=stream)


class GridProgress:
    """Watches a grid's job folders; a line per finished job while stderr is a terminal.

    Use as a context manager around the launcher call; nothing runs off a terminal."""

    def __init__(
        self,
        folders: Sequence[Path | None],
        stream: TextIO | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.folders = [Path(f) for f in folders if f is not None]
        self.poll_seconds = poll_seconds
        self.finished: dict[Path, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = 0.0

    def start(self) -> GridProgress:
        """Start watching (off a terminal, or with no folders: nothing happens)."""
        if self.folders and self._thread is None and enabled(self.stream):
            self._started = time.monotonic()
            self._thread = threading.Thread(target=self._watch, name="sweep-progress", daemon=True)
            self._thread.start()
        return self

    def stop(self, final: bool = True) -> None:
        """Stop watching; with `final`, one last look so the last job's line is written."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
            if final:
                self.poll()

    def __enter__(self) -> GridProgress:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop(final=exc[0] is None)

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.poll()

    def poll(self) -> int:
        """Look at the unfinished folders once; one line per job found finished. Returns
        the number finished so far."""
        for folder in self.folders:
            if folder in self.finished:
                continue
            status = run_status(folder).status
            if status in ("ok", "failed"):
                self.finished[folder] = status
                failed = sum(s == "failed" for s in self.finished.values())
                line = progress_line(
                    "sweep",
                    "job",
                    len(self.finished),
                    len(self.folders),
                    time.monotonic() - self._started,
                    f"{failed} failed" if failed else "",
                )
                _write(line, self.stream)
        return len(self.finished)


class SearchProgress:
    """A line per told batch of a search: trials done of this run's total, the best so far."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.started = time.monotonic()

    def told(self, study: Any, count: int) -> str | None:
        """`count` more trials were told to `study`: the line written, or None off a terminal."""
        self.done += count
        if not enabled(self.stream):
            return None
        try:
            best = study.best_trial  # ValueError while no trial is COMPLETE
            extra = f"best so far {best.value:.4f} in trial {best.number}"
        except ValueError:
            extra = "no completed trial yet"
        line = progress_line(
            "search", "trial", self.done, self.total, time.monotonic() - self.started, extra
        )
        _write(line, self.stream)
        return line
