"""MNIST files a user already has: each packing that is accepted, and each that is refused
with a message naming the file and the reason (sweeper.tasks.mnist_files)."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import struct
import zipfile
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
import torchvision.datasets

from conftest import fake_digits, write_idx
from sweeper.core.config import ConfigError
from sweeper.tasks.mnist import RAW_FILES, MnistTask, load_images

CPU = torch.device("cpu")
NAMES = [name.removesuffix(".gz") for name in RAW_FILES]
REAL_RAW = Path("/work/shared/data/MNIST/raw")


def idx_bytes(array: np.ndarray, tmp_path: Path) -> bytes:
    path = tmp_path / "scratch.idx"
    write_idx(path, array)
    return path.read_bytes()


def tiny_files(tmp_path: Path) -> dict[str, bytes]:
    """The four IDX files' bytes (600 train, 200 test), by extracted name."""
    files = {}
    for prefix, n, seed in (("train", 600, 0), ("t10k", 200, 1)):
        images, labels = fake_digits(n, seed)
        files[f"{prefix}-images-idx3-ubyte"] = idx_bytes(images, tmp_path)
        files[f"{prefix}-labels-idx1-ubyte"] = idx_bytes(labels, tmp_path)
    return files


@pytest.fixture
def gz_root(tmp_path, monkeypatch) -> Path:
    """A data root with the four files as `.gz` only, whose MD5s are made the official ones."""
    raw = tmp_path / "gz" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    resources = []
    for name, data in tiny_files(tmp_path).items():
        packed = gzip.compress(data, mtime=0)
        (raw / f"{name}.gz").write_bytes(packed)
        resources.append((f"{name}.gz", hashlib.md5(packed).hexdigest()))
    monkeypatch.setattr(torchvision.datasets.MNIST, "resources", resources)
    return tmp_path / "gz"


def raw_of(root: Path) -> Path:
    return root / "MNIST" / "raw"


def load_error(root: Path, train: bool = True, download: bool = False) -> str:
    with pytest.raises(ConfigError) as caught:
        load_images(root, "mnist", train=train, download=download)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("task.data_root: ")
    return message


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# ------------------------------------------------------------------ accepted


def test_official_gz_files_are_read_without_writing_or_network(gz_root, caplog, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr(torchvision.datasets.utils, "download_url", no_network)
    before = snapshot(gz_root)
    for download in (False, True):
        with caplog.at_level(logging.WARNING):
            images, labels = load_images(gz_root, "mnist", train=True, download=download)
        assert images.shape == (600, 28, 28) and labels.shape == (600,)
        assert images.dtype == torch.float32 and float(images.max()) == 1.0
        assert labels.dtype == torch.int64
    assert caplog.records == []  # official checksums: nothing to warn about
    assert snapshot(gz_root) == before  # nothing extracted, nothing written


def test_gz_files_give_the_same_data_as_extracted_files(gz_root, mnist_root):
    for train in (True, False):
        from_gz = load_images(gz_root, "mnist", train=train, download=False)
        extracted = load_images(mnist_root, "mnist", train=train, download=False)
        assert torch.equal(from_gz[0], extracted[0]) and torch.equal(from_gz[1], extracted[1])


def test_gz_files_train_a_model(make_cfg, gz_root):
    task = MnistTask(make_cfg("task=mnist", f"task.data_root={gz_root}").task, CPU, 50)
    assert task.train_x.shape == (500, 28, 28) and task.test_x.shape == (200, 28, 28)


def test_repacked_gz_with_another_checksum_is_used_with_a_warning(gz_root, caplog):
    path = raw_of(gz_root) / "train-images-idx3-ubyte.gz"
    expected = load_images(gz_root, "mnist", train=True, download=False)[0]
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), compresslevel=1, mtime=7))
    with caplog.at_level(logging.WARNING):
        images, _ = load_images(gz_root, "mnist", train=True, download=False)
    assert torch.equal(images, expected)
    assert f"{path}: MD5" in caplog.text and "is not the official" in caplog.text
    assert "its IDX content is valid (600 images), so it is used" in caplog.text


def test_plain_idx_under_the_gz_name_is_used_with_a_warning(gz_root, caplog):
    path = raw_of(gz_root) / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.decompress(path.read_bytes()))
    with caplog.at_level(logging.WARNING):
        _, labels = load_images(gz_root, "mnist", train=False, download=False)
    assert labels.shape == (200,)
    assert f"{path}: not gzip-compressed but a plain IDX file" in caplog.text


def test_gzip_of_a_gzip_is_used_with_a_warning(gz_root, caplog):
    path = raw_of(gz_root) / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(path.read_bytes()))
    with caplog.at_level(logging.WARNING):
        assert load_images(gz_root, "mnist", train=True, download=False)[1].shape == (600,)
    assert "gzip-compressed more than once" in caplog.text


def test_broken_extracted_file_falls_back_to_the_gz_beside_it(gz_root, caplog):
    # e.g. an extraction killed half-way: the extracted file is short, the .gz is fine
    raw = raw_of(gz_root)
    whole = gzip.decompress((raw / "train-images-idx3-ubyte.gz").read_bytes())
    (raw / "train-images-idx3-ubyte").write_bytes(whole[:5000])
    with caplog.at_level(logging.WARNING):
        images, _ = load_images(gz_root, "mnist", train=True, download=False)
    assert images.shape == (600, 28, 28)
    assert f"{raw / 'train-images-idx3-ubyte'}: truncated" in caplog.text
    assert "read train-images-idx3-ubyte.gz instead" in caplog.text


def test_kaggle_file_names_are_accepted(tmp_path):
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name, data in tiny_files(tmp_path).items():
        (raw / name.replace("-idx", ".idx")).write_bytes(data)  # train-images.idx3-ubyte
    assert load_images(tmp_path / "data", "mnist", train=True, download=False)[0].shape[0] == 600


def test_fashion_mnist_has_its_own_folder_and_checksums(gz_root, caplog, monkeypatch):
    (gz_root / "MNIST").rename(gz_root / "FashionMNIST")
    # MNIST's checksums (patched to these files) must not count for FashionMNIST ...
    with caplog.at_level(logging.WARNING):
        load_images(gz_root, "fashion_mnist", train=False, download=False)
    assert "is not the official" in caplog.text
    caplog.clear()
    # ... its own do
    resources = torchvision.datasets.MNIST.resources
    monkeypatch.setattr(torchvision.datasets.FashionMNIST, "resources", resources)
    with caplog.at_level(logging.WARNING):
        load_images(gz_root, "fashion_mnist", train=False, download=False)
    assert caplog.records == []
    message = load_error(gz_root, train=False)  # dataset=mnist: its folder is gone
    assert f"{gz_root / 'MNIST' / 'raw'}: missing" in message


@pytest.mark.skipif(not REAL_RAW.is_dir(), reason="the real MNIST files are not on this machine")
def test_the_real_files_read_from_their_read_only_folder(caplog):
    before = sorted(REAL_RAW.parent.rglob("*"))
    with caplog.at_level(logging.WARNING):
        images, labels = load_images(REAL_RAW.parents[1], "mnist", train=False, download=False)
    assert images.shape == (10000, 28, 28) and labels.bincount().tolist()[0] == 980
    assert caplog.records == []  # torchvision's own MD5s match
    assert sorted(REAL_RAW.parent.rglob("*")) == before


# ------------------------------------------------------------------ refused, precisely


def test_a_gz_that_is_neither_gzip_nor_idx_is_named(gz_root):
    path = raw_of(gz_root) / "train-images-idx3-ubyte.gz"
    path.write_bytes(b"these are not the images you are looking for")
    message = load_error(gz_root)
    assert message == f"task.data_root: {path}: not a gzip file and not an IDX file"


@pytest.mark.parametrize(
    "content, what",
    [
        (b"<!DOCTYPE html><html><body>Access denied</body></html>", "an HTML page"),
        (b"BZh91AY&SY" + bytes(40), "a bzip2 file"),
        (b"\xfd7zXZ\x00" + bytes(40), "an xz file"),
    ],
)
def test_other_formats_under_the_gz_name_are_named(gz_root, content, what):
    (raw_of(gz_root) / "train-labels-idx1-ubyte.gz").write_bytes(content)
    assert f"not a gzip file and not an IDX file (it is {what}" in load_error(gz_root)


def test_a_zip_archive_is_named(gz_root):
    path = raw_of(gz_root) / "train-labels-idx1-ubyte.gz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("train-labels-idx1-ubyte", b"x" * 100)
    assert "(it is a zip archive)" in load_error(gz_root)


def test_truncated_and_damaged_gzip_files_are_named(gz_root):
    path = raw_of(gz_root) / "train-images-idx3-ubyte.gz"
    packed = path.read_bytes()
    path.write_bytes(packed[: len(packed) // 2])  # an interrupted download
    message = load_error(gz_root)
    assert message.startswith(f"task.data_root: {path}: damaged or truncated gzip file (")
    path.write_bytes(packed[:-8] + b"\x00" * 8)  # wrong CRC and size
    assert "damaged or truncated gzip file" in load_error(gz_root)


def _put(root: Path, name: str, data: bytes) -> Path:
    """Replace IDX file `name` (both its forms) by `data`, gzipped under the .gz name."""
    raw = raw_of(root)
    (raw / name).unlink(missing_ok=True)
    path = raw / f"{name}.gz"
    path.write_bytes(gzip.compress(data))
    return path


def test_swapped_files_are_named(gz_root, tmp_path):
    labels = gzip.decompress((raw_of(gz_root) / "train-labels-idx1-ubyte.gz").read_bytes())
    path = _put(gz_root, "train-images-idx3-ubyte", labels)
    assert load_error(gz_root) == (
        f"task.data_root: {path}: IDX magic 0x00000801 (a labels file), expected 0x00000803 "
        "for images: files swapped?"
    )


def test_wrong_idx_data_type_is_named(gz_root, tmp_path):
    data = bytearray(idx_bytes(fake_digits(600, 0)[0], tmp_path))
    data[2] = 0x0B  # int16
    path = _put(gz_root, "train-images-idx3-ubyte", bytes(data))
    assert f"{path}: IDX data type 0x0B, expected 0x08 (unsigned bytes)" in load_error(gz_root)


def test_images_that_are_not_28x28_are_named(gz_root, tmp_path):
    path = _put(gz_root, "train-images-idx3-ubyte", idx_bytes(np.zeros((600, 32, 32)), tmp_path))
    assert f"{path}: images are 32x32, expected 28x28" in load_error(gz_root)


@pytest.mark.parametrize("cut, what", [(-100, "truncated"), (100, "longer than its header")])
def test_a_file_whose_length_is_not_its_headers_is_named(mnist_root, cut, what):
    path = raw_of(mnist_root) / "t10k-images-idx3-ubyte"
    data = path.read_bytes()
    path.write_bytes(data[:cut] if cut < 0 else data + bytes(cut))
    message = load_error(mnist_root, train=False)
    assert f"{path}: {what}" in message
    assert "the header announces 200 images (156800 bytes of data)" in message


def test_a_truncated_header_and_an_empty_file_are_named(mnist_root):
    path = raw_of(mnist_root) / "train-labels-idx1-ubyte"
    path.write_bytes(struct.pack(">I", 0x00000801) + b"\x00")
    assert f"{path}: truncated IDX header (5 bytes)" in load_error(mnist_root)
    path.write_bytes(b"")
    assert f"{path}: empty file" in load_error(mnist_root)


def test_a_file_with_no_items_is_named(gz_root, tmp_path):
    path = _put(gz_root, "train-labels-idx1-ubyte", idx_bytes(np.zeros(0), tmp_path))
    assert f"{path}: holds no labels" in load_error(gz_root)


def test_a_folder_in_place_of_a_file_is_named(mnist_root):
    path = raw_of(mnist_root) / "train-labels-idx1-ubyte"
    path.unlink()
    path.mkdir()
    assert f"{path}: is a folder, not a file" in load_error(mnist_root)


def test_image_and_label_counts_must_agree(mnist_root, tmp_path):
    raw = raw_of(mnist_root)
    write_idx(raw / "train-labels-idx1-ubyte", fake_digits(599, 0)[1])
    assert load_error(mnist_root) == (
        f"task.data_root: {raw}: train-images-idx3-ubyte holds 600 images but "
        "train-labels-idx1-ubyte holds 599 labels"
    )


def test_labels_outside_0_to_9_are_named(mnist_root):
    raw = raw_of(mnist_root)
    labels = fake_digits(200, 1)[1]
    labels[17] = 12
    write_idx(raw / "t10k-labels-idx1-ubyte", labels)
    message = load_error(mnist_root, train=False)
    assert "t10k-labels-idx1-ubyte: label 12 at index 17 is not a class 0-9" in message


def test_every_candidate_that_fails_is_named(gz_root):
    raw = raw_of(gz_root)
    (raw / "train-images-idx3-ubyte").write_bytes(b"junk")
    (raw / "train-images-idx3-ubyte.gz").write_bytes(b"more junk")
    message = load_error(gz_root)
    assert f"{raw / 'train-images-idx3-ubyte'}: not a gzip file and not an IDX file" in message
    assert f"{raw / 'train-images-idx3-ubyte.gz'}: not a gzip file" in message


# ------------------------------------------------------------------ missing files


def test_missing_files_are_listed_exactly(gz_root):
    raw = raw_of(gz_root)
    (raw / "t10k-images-idx3-ubyte.gz").unlink()
    (raw / "train-labels-idx1-ubyte.gz").unlink()
    message = load_error(gz_root)  # the train split: the test files are checked up front too
    assert message.startswith(
        f"task.data_root: {raw}: missing train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz "
    )
    assert "train-images" not in message and "put them there" in message


def test_files_in_the_wrong_folder_are_pointed_at(gz_root):
    raw = raw_of(gz_root)
    for path in raw.iterdir():
        path.rename(gz_root / "MNIST" / path.name)
    message = load_error(gz_root)
    assert f"are in {gz_root / 'MNIST'}: they belong in {raw}" in message


def test_old_torchvision_processed_files_are_pointed_at(tmp_path):
    processed = tmp_path / "old" / "MNIST" / "processed"
    processed.mkdir(parents=True)
    (processed / "training.pt").write_bytes(b"")
    message = load_error(tmp_path / "old")
    assert "missing train-images-idx3-ubyte.gz" in message
    assert f"{processed} holds torchvision's old training.pt/test.pt, which are not read" in message


def test_a_data_root_that_is_a_file_is_named(tmp_path):
    (tmp_path / "data").write_text("")
    assert (
        load_error(tmp_path / "data")
        == f"task.data_root: {tmp_path / 'data'} is a file, not a folder"
    )


def test_only_missing_files_are_downloaded_and_none_overwritten(gz_root, monkeypatch):
    raw = raw_of(gz_root)
    wanted = (raw / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (raw / "t10k-labels-idx1-ubyte.gz").unlink()
    # a repacked, non-official file the user has: must survive the download
    kept = gzip.compress(gzip.decompress((raw / "train-images-idx3-ubyte.gz").read_bytes()))
    (raw / "train-images-idx3-ubyte.gz").write_bytes(kept)
    fetched = []

    def fake_download(url, root, filename=None, md5=None, **kwargs):
        fetched.append(url)
        (Path(root) / filename).write_bytes(wanted)

    monkeypatch.setattr(torchvision.datasets.utils, "download_url", fake_download)
    assert load_images(gz_root, "mnist", train=False, download=True)[1].shape == (200,)
    assert fetched == [torchvision.datasets.MNIST.mirrors[0] + "t10k-labels-idx1-ubyte.gz"]
    assert (raw / "train-images-idx3-ubyte.gz").read_bytes() == kept
    assert sorted(p.name for p in raw.iterdir()) == sorted(RAW_FILES)  # no .part left


def test_failed_download_names_the_missing_files_in_one_line(gz_root, monkeypatch):
    raw = raw_of(gz_root)
    (raw / "train-images-idx3-ubyte.gz").unlink()

    def offline(url, root, filename=None, md5=None, **kwargs):
        (Path(root) / filename).write_bytes(b"partial")
        raise URLError("[Errno -3] Temporary failure\nin name resolution")

    monkeypatch.setattr(torchvision.datasets.utils, "download_url", offline)
    message = load_error(gz_root, download=True)
    assert f"{raw}: missing train-images-idx3-ubyte.gz; downloading" in message
    assert "Temporary failure in name resolution" in message
    assert not (raw / "train-images-idx3-ubyte.gz.part").exists()


def test_download_into_a_read_only_folder_says_so(gz_root, monkeypatch):
    raw = raw_of(gz_root)
    (raw / "train-images-idx3-ubyte.gz").unlink()
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # root ignores chmod
    message = load_error(gz_root, download=True)
    assert "missing train-images-idx3-ubyte.gz, and the folder is not writable" in message


# ------------------------------------------------------------------ from the command line


@pytest.mark.slow
def test_cli_trains_from_gz_files_without_download(gz_root, tmp_path):
    # The case: task.download=false and the four .gz files in <data_root>/MNIST/raw.
    # (The subprocess sees torchvision's real checksums: these tiny files get a warning.)
    from test_cli import sweeper

    run = sweeper(
        "task=mnist",
        f"task.data_root={gz_root}",
        "task.download=false",
        "trainer.epochs=1",
        "task.val_size=100",
        "model.hidden=8",
        "trainer.precision=fp32",
        f"hydra.run.dir={tmp_path / 'run'}",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["status"] == "ok"
    assert "is not the official" in run.stdout + run.stderr
