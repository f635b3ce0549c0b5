"""Turn a photo or scan of one handwritten digit into an MNIST-like 28x28 image.

MNIST digits were made this way: white ink on black, the digit scaled so its
longer side is 20 px (keeping its aspect ratio, grey levels kept by
anti-aliasing), then placed in a 28x28 field with its centre of mass at the
centre. A photo of ink on paper differs in every step, so `mnist_like` redoes
them: grey scale, invert when the background is light, remove the background
with an Otsu threshold (stroke grey levels above it are kept, stretched to
0..1), crop to the digit's bounding box, scale the longer side to 20 px, and
paste centred on the centre of mass. It raises `NoDigitError` for an image
with nothing to find.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

DIGIT_BOX = 20  # MNIST's digits fit a 20x20 box ...
FIELD = 28  # ... centred by mass in a 28x28 image
MIN_CONTRAST = 0.08  # below this spread of grey levels the image is blank


class NoDigitError(ValueError):
    """The image holds no digit to find (blank, or a flat colour)."""


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """The grey level that best splits `values` (in [0, 1]) into two classes (Otsu, 1979)."""
    histogram, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    weights = histogram.astype(np.float64) / max(histogram.sum(), 1)
    centres = (edges[:-1] + edges[1:]) / 2
    below = np.cumsum(weights)  # share of pixels at or below each level
    mean_below = np.cumsum(weights * centres)
    total_mean = mean_below[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mean * below - mean_below) ** 2 / (below * (1 - below))
    between = np.nan_to_num(between)
    return float(centres[int(np.argmax(between))])


def to_grey(image: Image.Image | np.ndarray) -> np.ndarray:
    """Grey levels in [0, 1] as float32, from a PIL image or an array (grey or colour)."""
    if isinstance(image, np.ndarray):
        array = image.astype(np.float32)
        if array.ndim == 3:
            array = array[..., :3].mean(axis=-1)
        return array / 255.0 if array.max() > 1.0 else array
    return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def mnist_like(image: Image.Image | np.ndarray) -> np.ndarray:
    """(28, 28) float32 in [0, 1]: light ink on black, 20 px box, centred by mass."""
    grey = to_grey(image)
    if grey.max() - grey.min() < MIN_CONTRAST:
        raise NoDigitError("no digit found: the image is blank")
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) > 0.5:  # light paper, dark ink: make the ink light
        grey = 1.0 - grey
    threshold = otsu_threshold(grey)
    ink = np.clip((grey - threshold) / max(grey.max() - threshold, 1e-6), 0.0, 1.0)
    rows, cols = np.nonzero(ink > 0)
    if rows.size == 0:
        raise NoDigitError("no digit found: nothing stands out from the background")
    ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]  # bounding box
    height, width = ink.shape
    scale = DIGIT_BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))  # PIL: (width, height)
    small = Image.fromarray((ink * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS)
    digit = np.asarray(small, dtype=np.float32) / 255.0
    return _centre_by_mass(digit)


def _centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """Paste `digit` (at most 20x20) into a 28x28 field with its centre of mass at the centre."""
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    height, width = digit.shape
    mass = digit.sum()
    rows, cols = np.indices(digit.shape)
    com_row = (rows * digit).sum() / mass if mass else height / 2
    com_col = (cols * digit).sum() / mass if mass else width / 2
    # Top-left corner that puts the centre of mass at (13.5, 13.5), kept inside the field.
    top = int(np.clip(round((FIELD - 1) / 2 - com_row), 0, FIELD - height))
    left = int(np.clip(round((FIELD - 1) / 2 - com_col), 0, FIELD - width))
    field[top : top + height, left : left + width] = digit
    return np.clip(field, 0.0, 1.0)


def load_digit(path: str | Path) -> np.ndarray:
    """Read an image file and make it MNIST-like; OSError/ValueError say what went wrong."""
    try:
        with Image.open(path) as image:
            image.load()
            return mnist_like(image)
    except (Image.UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise ValueError(f"not an image file ({type(error).__name__})") from None
