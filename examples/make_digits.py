"""Make examples/digits/*.png: photo-like pictures of the digits 0-9 for `sweeper.predict`.

Each digit is drawn with Pillow's built-in font (so the script runs anywhere),
off-centre, at its own size and slant, on paper of varying brightness with
noise; two are light ink on dark, one is in colour. Printed digits are not
handwriting, so they are a fair test of the preprocessing, not of MNIST.

    python examples/make_digits.py
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent / "digits"


def photo(digit: int, rng: np.random.Generator) -> Image.Image:
    width, height = int(rng.integers(160, 320)), int(rng.integers(160, 320))
    dark_paper = digit in (4, 8)
    paper, ink = (
        (25, 235) if dark_paper else (int(rng.integers(190, 245)), int(rng.integers(0, 60)))
    )
    image = Image.new("L", (width, height), paper)
    size = int(min(width, height) * rng.uniform(0.35, 0.7))
    font = ImageFont.load_default(size=size)
    x = int(rng.integers(0, max(1, width - size * 0.7)))
    y = int(rng.integers(0, max(1, height - size * 1.1)))
    ImageDraw.Draw(image).text((x, y), str(digit), fill=ink, font=font)
    image = image.rotate(float(rng.uniform(-10, 10)), fillcolor=paper)
    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, 8, (height, width))
    image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    if digit == 6:  # a colour photo: blue ink on cream paper
        r, g, b = (image.point(lambda v, k=k: int(v * k)) for k in (1.0, 0.95, 0.8))
        image = Image.merge("RGB", (r, g, b.point(lambda v: min(255, v + 60))))
    return image


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(2026)
    for digit in range(10):
        photo(digit, rng).save(OUT / f"digit_{digit}.png")
    print(f"wrote {OUT}/digit_0.png ... digit_9.png")
