"""Shared fixtures: compose sweeper's config in a temp folder, and tiny MNIST files."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "sweeper" / "conf"

# Overrides that make a command-line adder job finish in about a second (the last
# one is adder-only: memory tests drop it).
SMALL_RUN = [
    "task.train_size=512",
    "task.val_size=100",
    "task.test_per_length=10",
    "trainer.epochs=2",
    "task.extrapolation_lengths=[24]",
]

# Small but real training settings, so a test run takes a second or two.
FAST = {
    "adder": [
        "task.val_size=200",
        "task.test_per_length=20",
        "trainer.epochs=6",
        "task.extrapolation_lengths=[24]",
        "model.hidden=8",
    ],
    "memory": [
        "task.val_size=270",
        "task.test_per_length=20",
        "trainer.epochs=8",
        "task.extrapolation_lengths=[13]",
    ],
    "mnist": [
        "task.val_size=100",
        "trainer.epochs=5",
        "trainer.batch_size=50",
        "model.hidden=16",
        "optim.lr=0.01",
        "task.download=false",
    ],
}


@pytest.fixture
def make_cfg(tmp_path: Path) -> Callable[..., DictConfig]:
    """compose the config as `python -m sweeper OVERRIDES` would, writing into tmp_path."""

    def make(*overrides: str, fast: bool = True, out: Path | None = None) -> DictConfig:
        task = next((o.split("=", 1)[1] for o in overrides if o.startswith("task=")), "adder")
        extra = FAST.get(task, []) if fast else []
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose(
                "config",
                overrides=[*extra, *overrides, f"output_dir={out or tmp_path / 'run'}"],
            )

    return make


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file (MNIST's format: magic, dims, big-endian sizes, uint8 data).

    Written already extracted (no .gz): torchvision then reads it without
    checking the official checksums, which these tiny files cannot match.
    """
    dtype_code = 0x08  # unsigned byte
    header = struct.pack(">HBB", 0, dtype_code, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def fake_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n 28x28 images whose class is a bright bar at row 2 * label + 5, plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = rng.integers(0, 60, size=(n, 28, 28))
    for image, label in zip(images, labels):
        image[2 * label + 5, 4:24] = 255
    return images, labels


@pytest.fixture
def mnist_root(tmp_path: Path) -> Path:
    """A data root holding tiny MNIST files in <root>/MNIST/raw (600 train, 200 test)."""
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n, seed in (("train", 600, 0), ("t10k", 200, 1)):
        images, labels = fake_digits(n, seed)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return tmp_path / "data"


def default_sigint() -> None:
    """`preexec_fn` for a command a test interrupts with SIGINT: a shell starts background
    jobs (`cmd &`, nohup) with SIGINT ignored and Python keeps it ignored, so the
    command gets the default disposition a terminal's Ctrl-C meets."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
