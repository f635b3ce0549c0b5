"""Atomic writes of every file sweeper writes: a reader sees the old file or the whole new one.

Every writer goes to a temporary file in the same folder and is renamed into
place, so a killed run never leaves a half-written metrics.json or model.pt.

The temporary file is made by `tempfile.mkstemp`, which creates it mode 0600;
before the rename it gets the mode a plain `open(path, "w")` gives a new file,
`0o666 & ~umask` (0644 under the usual umask 022, 0640 under 027), so colleagues
can read a sweep as they read Hydra's own files. A rewrite is a new file, so it
gets that mode too, not the old file's (which also repairs files an older
sweeper left 0600).

Errors are OSErrors naming what could not be written: the folder when no file
can be created in it, the target when it cannot be replaced (e.g. a folder of
that name).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def current_umask() -> int:
    """The process's umask, read without changing it where possible.

    Linux reports it in /proc/self/status (`Umask:\\t0022`). Elsewhere the only
    way is to set it and put it back (`os.umask`), which briefly changes it for
    every thread of the process."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Permission bits a new regular file gets from `open()` under the current umask."""
    return 0o666 & ~current_umask()


def _renamed(error: OSError, path: Path) -> OSError:
    """The same error, naming `path` instead of a temporary file."""
    return type(error)(error.errno, error.strerror, str(path))


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp_path)`, give the file the umask's mode, rename it to `path` in one step.

    Creates missing parent folders. Raises OSError naming `path.parent` if no file
    can be created there, or `path` if it cannot be replaced; the temporary file
    is removed on any error, and an existing `path` is left as it was."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise _renamed(error, path.parent) from None
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, file_mode())
        try:
            os.replace(tmp, path)
        except OSError as error:
            raise _renamed(error, path) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write a text file (UTF-8) atomically."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` atomically (see `atomic_write`); returns `path`."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def write_json(path: str | Path, data: Any) -> Path:
    """Write `data` as indented JSON atomically (inf/nan as JSON's Infinity/NaN)."""
    # allow_nan: a failed run may carry inf/nan metrics; json writes them as Infinity/NaN.
    return write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_csv(path: str | Path, frame: Any) -> Path:
    """Write a DataFrame as CSV without its index, atomically."""
    return atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def save_torch(path: str | Path, obj: Any) -> Path:
    """`torch.save(obj)` atomically."""
    import torch  # only jobs save tensors: the sweepers import this module without torch

    return atomic_write(path, lambda tmp: torch.save(obj, tmp))


def save_figure(path: str | Path, figure: Any) -> Path:
    """Save a matplotlib figure (PNG) atomically; close it if pyplot made it.

    sweeper's own figures are plain `Figure`s; Optuna's plots come from pyplot,
    which keeps every figure open until it is closed."""
    try:
        return atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=110))
    finally:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close(figure)
