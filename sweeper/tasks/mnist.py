"""Row-by-row MNIST (or Fashion-MNIST): each image is 28 steps of 28 pixels.

The images are read once from the IDX files (in memory, gzipped or not, with
every header checked: `sweeper.tasks.mnist_files`) and then held as one float
tensor per split, so an epoch is a shuffled index and tensor slicing: no
per-image transform or DataLoader worker. The 60k training images are split
50k/10k into train/validation, stratified by class with scikit-learn.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from omegaconf import DictConfig
from sklearn.model_selection import train_test_split

from sweeper.core.config import (
    ConfigError,
    boolean,
    check_rules,
    non_negative_int,
    one_of,
    positive_int,
)
from sweeper.reports.plots import plot_digit_grid
from sweeper.tasks.base import Batch, EvalSet, Task, TaskConfig
from sweeper.tasks.mnist_files import (
    CLASSES,
    DATASET_FOLDERS,
    DataFileError,
    download_missing,
    elsewhere,
    find_missing,
    idx_name,
    read_idx,
)

EVAL_CHUNK = 2000
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
RAW_FILES = tuple(
    f"{idx_name(split, kind)}.gz" for split in ("train", "t10k") for kind in ("images", "labels")
)


def load_images(data_root: str | Path, dataset: str, train: bool, download: bool) -> Batch:
    """(images (n, 28, 28) float in [0, 1], labels (n,) int64) of one split.

    Read in memory from `<data_root>/<MNIST|FashionMNIST>/raw/` (extracted IDX files or
    the `.gz` downloads, see `sweeper.tasks.mnist_files` for what is accepted); nothing is
    written and no network is touched when the four files are there. Missing files are
    downloaded when `download` is true. Raises ConfigError naming the file and the problem
    (missing, unreadable, wrong format, header or checksum-and-content)."""
    from torchvision import datasets

    folder = DATASET_FOLDERS[dataset]
    cls = getattr(datasets, folder)
    md5s, mirrors = dict(cls.resources), list(cls.mirrors)  # torchvision's official list
    root = Path(data_root).expanduser()
    if root.exists() and not root.is_dir():
        raise ConfigError(f"task.data_root: {root} is a file, not a folder")
    raw = root / folder / "raw"
    names = [idx_name(split, kind) for split in ("train", "t10k") for kind in ("images", "labels")]
    missing = find_missing(raw, names)
    if missing and download:
        download_missing(raw, missing, mirrors, md5s)
    elif missing:
        raise ConfigError(
            f"task.data_root: {raw}: missing {', '.join(f'{n}.gz' for n in missing)} "
            f"(or the extracted files of those names){elsewhere(root, folder, missing)}; "
            "put them there, or set task.download=true"
        )
    split = "train" if train else "t10k"
    image_file, label_file = idx_name(split, "images"), idx_name(split, "labels")
    try:
        images = read_idx(raw, image_file, "images", md5s)
        labels = read_idx(raw, label_file, "labels", md5s)
    except DataFileError as error:
        raise ConfigError(f"task.data_root: {error}") from None
    if len(images) != len(labels):
        raise ConfigError(
            f"task.data_root: {raw}: {image_file} holds {len(images)} images but "
            f"{label_file} holds {len(labels)} labels"
        )
    if labels.max() >= CLASSES:
        bad = int(np.argmax(labels >= CLASSES))
        raise ConfigError(
            f"task.data_root: {raw}: {label_file}: label {labels[bad]} at index {bad} "
            f"is not a class 0-{CLASSES - 1}"
        )
    images_t = torch.from_numpy(images.astype(np.float32)).div_(255.0)
    return images_t, torch.from_numpy(labels.astype(np.int64))


@dataclass
class MnistConfig(TaskConfig):
    """The mnist task's keys."""

    dataset: str = "mnist"  # mnist | fashion_mnist
    data_root: str = "~/.cache/sweeper/data"  # holds <MNIST|FashionMNIST>/raw/
    download: bool = True  # download missing files (only those)
    val_size: int = 10000  # stratified validation split of the 60k training images
    normalize: bool = True  # standardise pixels with the training split's mean and std


class MnistTask(Task):
    """`task=mnist`: one of 10 classes per image (kind classes), read row by row."""

    Config: ClassVar[type[TaskConfig]] = MnistConfig
    kind = "classes"
    input_size = 28
    output_size = 10
    seq_len = 28

    @classmethod
    def check(cls, cfg: DictConfig) -> None:
        rules = {
            "data_seed": non_negative_int,
            "dataset": one_of(*DATASET_FOLDERS),
            "download": boolean,
            "val_size": positive_int,
            "normalize": boolean,
        }
        check_rules(cfg, "task", rules)

    def __init__(self, cfg: DictConfig, device: torch.device, batch_size: int) -> None:
        super().__init__(cfg, device, batch_size)
        images, labels = load_images(cfg.data_root, cfg.dataset, train=True, download=cfg.download)
        if cfg.val_size >= len(labels):
            raise ConfigError(
                f"task.val_size must be < {len(labels)} training images, got {cfg.val_size}"
            )
        train_idx, val_idx = train_test_split(
            torch.arange(len(labels)).numpy(),
            test_size=cfg.val_size,
            stratify=labels.numpy(),
            random_state=cfg.data_seed,
        )
        train_idx, val_idx = torch.from_numpy(train_idx), torch.from_numpy(val_idx)
        self.train_x, self.train_y = images[train_idx].to(device), labels[train_idx].to(device)
        self.val_x, self.val_y = images[val_idx].to(device), labels[val_idx].to(device)
        test_x, test_y = load_images(cfg.data_root, cfg.dataset, train=False, download=cfg.download)
        self.test_x, self.test_y = test_x.to(device), test_y.to(device)
        self.num_train_batches = -(-len(self.train_y) // batch_size)
        # Pixel statistics of the training split; the model standardises its inputs with them.
        self.input_mean, self.input_std = 0.0, 1.0
        if cfg.normalize:
            self.input_mean = float(self.train_x.mean())
            self.input_std = float(self.train_x.std())

    def readout(self, requested: str, bidirectional: bool) -> str:
        if requested == "auto":
            # The assignment's choice: flatten all 28 steps for one direction,
            # the last step for the bidirectional LSTM, as Keras's Bidirectional
            # returns it: the final state of each direction.
            return "final" if bidirectional else "flatten"
        if requested == "each":
            raise ConfigError(
                f"model.readout=each does not fit task {self.name}; "
                "use auto, last, final or flatten"
            )
        return requested

    def train_batches(self, generator: torch.Generator) -> Iterator[Batch]:
        order = torch.randperm(len(self.train_y), generator=generator).to(self.train_x.device)
        for idx in order.split(self.batch_size):
            yield self.train_x[idx], self.train_y[idx]  # (batch, 28, 28), (batch,)

    def val_batches(self) -> list[Batch]:
        return list(zip(self.val_x.split(EVAL_CHUNK), self.val_y.split(EVAL_CHUNK)))

    def test_sets(self) -> list[EvalSet]:
        batches = list(zip(self.test_x.split(EVAL_CHUNK), self.test_y.split(EVAL_CHUNK)))
        return [EvalSet("test", None, batches)]

    @torch.no_grad()
    def write_figures(self, model: torch.nn.Module, out_dir: Path) -> None:
        """predictions.png: test digits with predicted vs true labels, mistakes in red.

        The first 24 test images, then up to 8 of the model's mistakes."""

        model.eval()
        predicted = torch.cat([model(x).argmax(-1) for x, _ in self.test_sets()[0].batches])
        wrong = (predicted != self.test_y).nonzero().flatten()
        first = torch.arange(min(24, len(self.test_y)), device=self.test_y.device)
        chosen = torch.cat([first, wrong[~torch.isin(wrong, first)][:8]])
        titles = [f"pred {int(predicted[i])} / true {int(self.test_y[i])}" for i in chosen]
        bad = [bool(predicted[i] != self.test_y[i]) for i in chosen]
        plot_digit_grid(
            self.test_x[chosen].cpu().numpy(),
            titles,
            bad,
            out_dir / "predictions.png",
            f"predicted / true: the first {len(first)} test digits, then "
            f"{len(chosen) - len(first)} of the {len(wrong)} mistakes (red)",
        )

    @classmethod
    def predict(
        cls,
        model: torch.nn.Module,
        config: dict[str, Any],
        inputs: list[str],
        run_dir: Path,
        figure: Path | None,
    ) -> bool:
        """Image files or folders -> digit and confidence per image; the preprocessed inputs
        with their predictions are saved as a figure (`figure`, default RUN_DIR/predict.png)."""
        from sweeper.tasks.mnist_preprocess import load_digit  # PIL: only predict needs it

        figure = figure or run_dir / "predict.png"
        ok, names, digits = True, [], []
        for path in image_files(inputs):
            try:
                digits.append(load_digit(path))
                names.append(str(path))
            except (OSError, ValueError) as error:
                why = (
                    str(error)
                    if isinstance(error, ValueError)
                    else f"cannot read ({error.strerror or error})"
                )
                print(f"{path}: error: {why}")
                ok = False
        if not digits:
            if ok:
                print("inputs: error: no image to predict")
            return False
        batch = torch.from_numpy(np.stack(digits))  # (n, 28, 28)
        with torch.no_grad():
            probabilities = torch.softmax(model(batch), dim=-1)
        confidence, predicted = probabilities.max(dim=-1)
        for name, digit, conf in zip(names, predicted.tolist(), confidence.tolist()):
            print(f"{name}: {digit} (confidence {conf:.3f})")
        titles = [
            f"{Path(n).name}\n→ {d} ({c:.0%})"
            for n, d, c in zip(names, predicted.tolist(), confidence.tolist())
        ]
        plot_digit_grid(
            batch.numpy(),
            titles,
            [False] * len(titles),
            figure,
            "inputs as the model sees them (MNIST-like 28x28)",
        )
        print(f"figure: {figure}")
        return ok


def image_files(inputs: list[str]) -> list[Path]:
    """Each input as given; a folder stands for the image files in it, sorted."""
    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            files += sorted(p for p in item.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            files.append(item)
    return files
