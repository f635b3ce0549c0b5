"""Photos of digits made MNIST-like: polarity, background, crop, 20 px box, centre of mass."""

from __future__ import annotations

import numpy as np
import pytest
from fake_folders import draw_seven
from PIL import Image

from sweeper.tasks.mnist_preprocess import NoDigitError, load_digit, mnist_like, otsu_threshold


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


def digit_box(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(image > 0.05)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def check_mnist_like(out: np.ndarray) -> None:
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.max() > 0.9
    row, col = centre_of_mass(out)
    assert abs(row - 13.5) <= 1.0 and abs(col - 13.5) <= 1.0
    height, width = digit_box(out)
    assert max(height, width) in (19, 20, 21)
    # the background is black: the outermost frame holds no ink
    assert out[0].max() < 0.05 and out[-1].max() < 0.05
    assert out[:, 0].max() < 0.05 and out[:, -1].max() < 0.05
    assert (out < 0.05).mean() > 0.6


@pytest.mark.parametrize(
    "image",
    [
        draw_seven(),  # off-centre, dark ink on light paper
        draw_seven(size=(400, 300), box=(20, 20, 45, 60)),  # small, in a corner of a big sheet
        draw_seven(noise=12.0),  # light noisy background
        draw_seven(angle=8.0),  # rotated slightly
        draw_seven(ink=240, paper=15),  # light ink on dark
    ],
    ids=["off-centre", "small", "noisy", "rotated", "inverted"],
)
def test_digits_come_out_centred_and_scaled_like_mnist(image):
    check_mnist_like(mnist_like(image))


def test_colour_photo_and_stroke_grey_levels_are_kept():
    grey = draw_seven(noise=6.0)
    colour = Image.merge("RGB", [grey, grey.point(lambda v: min(255, v + 10)), grey])
    out = mnist_like(colour)
    check_mnist_like(out)
    inner = out[(out > 0.0) & (out < 1.0)]
    assert inner.size > 10  # anti-aliased edges keep intermediate grey levels


def test_portrait_digit_keeps_its_aspect_ratio():
    out = mnist_like(draw_seven(box=(60, 10, 80, 140)))  # tall and thin
    height, width = digit_box(out)
    assert height in (19, 20, 21) and width < 10


def test_blank_and_flat_images_have_no_digit():
    with pytest.raises(NoDigitError, match="blank"):
        mnist_like(Image.new("L", (50, 50), 200))
    with pytest.raises(NoDigitError):
        mnist_like(np.full((40, 40, 3), 17, dtype=np.uint8))


def test_otsu_splits_two_levels():
    values = np.concatenate([np.full(500, 0.2), np.full(100, 0.8)])
    assert 0.2 <= otsu_threshold(values) < 0.8


def test_load_digit_reads_files_and_refuses_non_images(tmp_path):
    draw_seven().save(tmp_path / "seven.jpg")
    check_mnist_like(load_digit(tmp_path / "seven.jpg"))
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ValueError, match="not an image file"):
        load_digit(tmp_path / "notes.png")
    with pytest.raises(OSError):
        load_digit(tmp_path / "missing.png")
