"""`tree(folder)`: everything a refused command must leave as it was, to compare before/after."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def tree(folder: Path) -> dict[str, tuple]:
    """Every path under `folder` (itself included) -> (kind, mode, size, mtime in ns, content
    digest or link target). A file written, removed, replaced or touched, or a temporary file
    created and removed again (the folder's mtime), changes it."""
    folder = Path(folder)
    if not folder.exists() and not folder.is_symlink():
        return {}
    found: dict[str, tuple] = {}
    paths = [folder, *sorted(folder.rglob("*"))] if folder.is_dir() else [folder]
    for path in paths:
        info = os.lstat(path)
        name = str(path.relative_to(folder)) if path != folder else "."
        if path.is_symlink():
            found[name] = ("link", os.readlink(path))
        elif path.is_dir():
            found[name] = ("dir", info.st_mode, info.st_mtime_ns)
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            found[name] = ("file", info.st_mode, info.st_size, info.st_mtime_ns, digest)
    return found
