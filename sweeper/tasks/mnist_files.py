"""MNIST-format files a user already has: find them, check them, read them in memory.

The data live in `<data_root>/<MNIST|FashionMNIST>/raw/` as four IDX files
(`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
`t10k-labels-idx1-ubyte`). For each one, the first of these that exists is read:

    <name>            the extracted IDX file (what torchvision leaves after extracting)
    <name>.gz         the official download
    Kaggle's spelling `train-images.idx3-ubyte` (and `.gz`)

Nothing is written and no network is touched when all four are there, whatever
`task.download` says, so a read-only data root works. What a file may contain:

accepted, silently
    an IDX file, or a gzip of one whose MD5 is torchvision's (`cls.resources`).
accepted, with a logged warning naming the file
    a gzip whose MD5 differs from the official one (recompressed, or a subset)
    but whose IDX content is valid; an uncompressed IDX file under a `.gz` name;
    a gzip of a gzip; an unusable extracted file when the `.gz` beside it is valid.
an error (`ConfigError`: `task.data_root: <file>: <reason>`)
    not gzip and not IDX (zip, bzip2, xz, tar or HTML named as such); a damaged or
    truncated gzip; an empty file; a folder or an unreadable file; a wrong IDX
    magic (e.g. labels where images belong: files swapped), data type (not
    unsigned bytes) or shape (images not n x 28 x 28); a file longer or shorter
    than its header says; no items; labels outside 0-9; image and label counts
    that differ.

Valid means the IDX header and length are right, not that the pixels are
MNIST's: a file that passes these checks is used (the warning says when its
checksum is not the official one).

Missing files: with `download=false` the error lists exactly which files are
missing and where (and where files of those names were found instead, or that
torchvision's pre-2020 `processed/training.pt` files are there but not read); with
`download=true` only the missing ones are downloaded through torchvision's
mirrors (`cls.mirrors`, `torchvision.datasets.utils.download_url`, MD5-checked)
to a `.part` name and renamed, so no file already there is ever overwritten.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import zlib
from pathlib import Path

import numpy as np

from sweeper.core.config import ConfigError

log = logging.getLogger(__name__)

SIDE = 28  # images are SIDE x SIDE
CLASSES = 10
UNSIGNED_BYTE = 0x08
IMAGE_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABEL_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
GZIP_MAGIC = b"\x1f\x8b"
DATASET_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}  # torchvision's class names

# Formats a file is sometimes mistaken for, by their first bytes: named in the error.
OTHER_FORMATS = (
    (b"PK\x03\x04", "a zip archive"),
    (b"BZh", "a bzip2 file"),
    (b"\xfd7zXZ\x00", "an xz file"),
    (b"<!doctype html", "an HTML page (a failed download?)"),
    (b"<html", "an HTML page (a failed download?)"),
)


class DataFileError(Exception):
    """One file cannot be used: `path` and `reason`."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def idx_name(split: str, kind: str) -> str:
    """`train`/`t10k`, `images`/`labels` -> e.g. `train-images-idx3-ubyte`."""
    return f"{split}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"


def candidates(raw: Path, name: str) -> list[Path]:
    """The files that may hold IDX file `name` in `raw`, in the order they are tried."""
    kaggle = name.replace("-idx", ".idx")  # train-images.idx3-ubyte
    return [raw / name, raw / f"{name}.gz", raw / kaggle, raw / f"{kaggle}.gz"]


def _describe_other(data: bytes) -> str:
    start = data[:16].lower()
    for magic, what in OTHER_FORMATS:
        if start.startswith(magic.lower()):
            return f" (it is {what})"
    if len(data) > 262 and data[257:262] == b"ustar":
        return " (it is a tar archive)"
    return ""


def _gunzip(data: bytes, path: Path) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:  # BadGzipFile, truncated, corrupt
        raise DataFileError(
            path, f"damaged or truncated gzip file ({type(error).__name__}: {error})"
        ) from None


def parse_idx(data: bytes, path: Path, kind: str) -> np.ndarray:
    """IDX bytes -> uint8 array: images (n, 28, 28) or labels (n,).

    Raises DataFileError naming `path` for a wrong magic, data type, shape or length."""
    magic = IMAGE_MAGIC if kind == "images" else LABEL_MAGIC
    if len(data) < 4 or data[:2] != b"\x00\x00":
        raise DataFileError(path, f"not a gzip file and not an IDX file{_describe_other(data)}")
    if data[2] != UNSIGNED_BYTE:
        raise DataFileError(
            path, f"IDX data type 0x{data[2]:02X}, expected 0x{UNSIGNED_BYTE:02X} (unsigned bytes)"
        )
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        holds = {IMAGE_MAGIC: " (an images file)", LABEL_MAGIC: " (a labels file)"}
        raise DataFileError(
            path,
            f"IDX magic 0x{found:08X}{holds.get(found, '')}, expected 0x{magic:08X} for "
            f"{kind}" + (": files swapped?" if found in holds else ""),
        )
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFileError(path, f"truncated IDX header ({len(data)} bytes)")
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    if kind == "images" and dims[1:] != [SIDE, SIDE]:
        raise DataFileError(
            path, f"images are {dims[1]}x{dims[2]}, expected {SIDE}x{SIDE} (MNIST format)"
        )
    if dims[0] == 0:
        raise DataFileError(path, f"holds no {kind} (the header says 0)")
    expected = int(np.prod(dims))
    actual = len(data) - header
    if actual != expected:
        what = "truncated" if actual < expected else "longer than its header says"
        raise DataFileError(
            path,
            f"{what}: the header announces {dims[0]} {kind} ({expected} bytes of data), "
            f"the file holds {actual}",
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def read_file(path: Path, kind: str, md5: str | None) -> np.ndarray:
    """One candidate file -> its IDX array, whatever packing (see the module docstring).

    `md5`: torchvision's checksum of the official `.gz`; a gzip that does not match
    it is still used when its content is valid, with a warning. Raises DataFileError."""
    if path.is_dir():
        raise DataFileError(path, "is a folder, not a file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataFileError(path, f"cannot read ({error.strerror or error})") from None
    if not data:
        raise DataFileError(path, "empty file")
    notes = []
    if data[:2] == GZIP_MAGIC:
        digest = hashlib.md5(data).hexdigest()
        if md5 is not None and digest != md5:
            notes.append(f"MD5 {digest} is not the official {md5}")
        data = _gunzip(data, path)
        while data[:2] == GZIP_MAGIC:
            notes.append("it was gzip-compressed more than once")
            data = _gunzip(data, path)
    elif path.suffix == ".gz":
        notes.append("not gzip-compressed but a plain IDX file")
    array = parse_idx(data, path, kind)
    if notes:
        log.warning(
            "%s: %s; its IDX content is valid (%d %s), so it is used",
            path,
            "; ".join(notes),
            len(array),
            kind,
        )
    return array


def find_missing(raw: Path, names: list[str]) -> list[str]:
    """The IDX names of which no candidate file exists in `raw`."""
    return [name for name in names if not any(p.exists() for p in candidates(raw, name))]


def read_idx(raw: Path, name: str, kind: str, md5s: dict[str, str]) -> np.ndarray:
    """IDX file `name` from the first usable candidate in `raw`.

    When one candidate fails and a later one works, a warning names the failed one;
    when all that exist fail, DataFileError names each with its reason."""
    failures: list[DataFileError] = []
    for path in candidates(raw, name):
        if not path.exists():
            continue
        try:
            array = read_file(path, kind, md5s.get(f"{name}.gz"))
        except DataFileError as error:
            failures.append(error)
            continue
        for failed in failures:
            log.warning("%s: %s; read %s instead", failed.path, failed.reason, path.name)
        return array
    if not failures:
        raise DataFileError(raw / f"{name}.gz", "missing")
    if len(failures) == 1:
        raise failures[0]
    error = DataFileError(failures[0].path, failures[0].reason)
    error.args = ("; ".join(str(f) for f in failures),)
    raise error


def _writable(folder: Path) -> bool:
    """Whether `folder` is, or can be created as, a folder this process can write to."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)


def download_missing(raw: Path, missing: list[str], mirrors: list[str], md5s: dict) -> None:
    """Download the `.gz` of each missing IDX name into `raw` (torchvision's mirrors and
    MD5s), each to a `.part` file renamed when complete. Raises ConfigError naming the
    missing files when a download fails or `raw` is not writable."""
    from torchvision.datasets import utils

    listed = ", ".join(f"{name}.gz" for name in missing)
    if not _writable(raw):
        raise ConfigError(
            f"task.data_root: {raw}: missing {listed}, and the folder is not writable, so "
            "they cannot be downloaded there; put them there or choose another task.data_root"
        )
    raw.mkdir(parents=True, exist_ok=True)
    for name in missing:
        filename = f"{name}.gz"
        errors = []
        for mirror in mirrors:
            part = raw / f"{filename}.part"
            try:
                utils.download_url(mirror + filename, str(raw), part.name, md5s.get(filename))
                if not utils.check_integrity(str(part), md5s.get(filename)):
                    raise RuntimeError("the downloaded file's MD5 is not the official one")
            except Exception as error:  # URLError, OSError, RuntimeError
                part.unlink(missing_ok=True)
                errors.append(f"{mirror}: {' '.join(str(error).split())}")
                continue
            os.replace(part, raw / filename)
            break
        else:
            raise ConfigError(
                f"task.data_root: {raw}: missing {listed}; downloading {filename} failed "
                f"({'; '.join(errors)}); put the files there (then no network is needed)"
            )


def elsewhere(root: Path, folder: str, missing: list[str]) -> str:
    """' (found ... in X: they belong in raw/)' when missing names sit in a nearby folder,
    or a note that torchvision's old `processed/*.pt` files are not read."""
    processed = root / folder / "processed"
    if (processed / "training.pt").exists() or (processed / "test.pt").exists():
        return (
            f" ({processed} holds torchvision's old training.pt/test.pt, which are not read:"
            " the raw IDX files are needed)"
        )
    for place in (root, root / folder, root / "raw", root / folder.lower()):
        found = [n for n in missing if any(p.exists() for p in candidates(place, n))]
        if found and place.is_dir():
            return f" (files of those names are in {place}: they belong in {root / folder / 'raw'})"
    return ""
