"""What keeps sweeper's figures legible for 1 to 30 configurations, whatever else ran before.

- `figure_style()`: every figure is built *and saved* inside it: matplotlib's
  defaults plus `RC`, restored afterwards. Optuna's matplotlib plots call
  `plt.style.use("ggplot")`, which changes the global rcParams for the rest of
  the process; our figures drawn after a search would inherit its grey
  background (hiding the training-length shading) and its 7-colour cycle.
- `palette(names)`: one colour and one marker per configuration, all colours
  distinct (tab10 up to 10, tab20 up to 20, then evenly spaced hues of `turbo`).
- `short_labels(names)`: numbers in labels rounded to the fewest significant
  digits (at least 3) that keep distinct labels distinct, so a learning rate
  reads `optim.lr=0.00443`, not `optim.lr=0.004430375245218269`.
- `accuracy_limits(values)`: a y range for accuracies that spans at least
  `MIN_ACCURACY_SPAN` below 1.0, so a 0.06 % dip is drawn as the small thing it
  is, and a line at exactly 1.0 sits inside the axes, not on its frame.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib
import matplotlib.style
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

# Our additions to matplotlib's defaults (white background, light grid under the data).
RC: dict[str, Any] = {
    "axes.facecolor": "white",
    "figure.facecolor": "white",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.axisbelow": True,
    "legend.fontsize": 8,
    "legend.frameon": False,
}
MARKERS = ("o", "^", "v", "D", "P", "X", "*", "<", ">", "h")  # no "s": squares mark extrapolation
MIN_ACCURACY_SPAN = 0.1  # an accuracy axis shows at least 1.0 - 0.1 .. 1.0
LEGEND_ROWS = 18  # legend entries per column before a new column starts

_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")


@contextmanager
def figure_style() -> Iterator[None]:
    """matplotlib's default style plus `RC` for the block; the caller's rcParams after.

    Build and save a figure inside it: some settings are read only when drawing."""
    with matplotlib.style.context(["default", RC]):
        yield


def colors(count: int) -> list[tuple[float, float, float, float]]:
    """`count` distinct RGBA colours (tab10, tab20, or evenly spaced `turbo` hues)."""
    if count <= 10:
        cmap = matplotlib.colormaps["tab10"]
        return [cmap(i) for i in range(count)]
    if count <= 20:
        cmap = matplotlib.colormaps["tab20"]
        # Dark shades first, then the light ones, so neighbours in the legend differ most.
        order = [*range(0, 20, 2), *range(1, 20, 2)]
        return [cmap(i) for i in order[:count]]
    cmap = matplotlib.colormaps["turbo"]
    return [cmap(0.05 + 0.9 * i / (count - 1)) for i in range(count)]


def palette(names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per configuration name (first-seen order): `color` and `marker` keyword arguments."""
    unique = list(dict.fromkeys(names))
    return {
        name: {"color": color, "marker": MARKERS[i % len(MARKERS)]}
        for i, (name, color) in enumerate(zip(unique, colors(len(unique))))
    }


def _round_numbers(text: str, digits: int) -> str:
    def short(match: re.Match[str]) -> str:
        token = match.group(0)
        if "." not in token and "e" not in token.lower():
            return token  # an integer (a hidden size, a job number) is already short
        return f"{float(token):.{digits}g}"

    return _NUMBER.sub(short, text)


def short_labels(names: Sequence[str]) -> dict[str, str]:
    """Each name with its decimal numbers rounded to 3 significant digits, or more where
    3 would make two different names read the same (up to 17, which is exact)."""
    unique = list(dict.fromkeys(names))
    for digits in range(3, 18):
        shortened = {name: _round_numbers(name, digits) for name in unique}
        if len(set(shortened.values())) == len(unique):
            return shortened
    return {name: name for name in unique}


def accuracy_limits(values: Iterable[float]) -> tuple[float, float]:
    """(bottom, top) for an accuracy axis: at least `MIN_ACCURACY_SPAN` below 1.0, down to
    the lowest finite value with a margin, on a 0.05 step, never below 0; a little
    headroom above 1.0 so points at 1.0 are not cut by the frame."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    low = min(finite, default=1.0)
    bottom = min(1.0 - MIN_ACCURACY_SPAN, low - 0.05 * (1.0 - low))
    bottom = max(0.0, math.floor(round(bottom / 0.05, 9)) * 0.05)
    return bottom, 1.0 + 0.03 * (1.0 - bottom)


def integer_ticks(ax: Axes) -> None:
    """Ticks on whole numbers only along x (epochs, sequence lengths)."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def legend_columns(entries: int) -> int:
    """Columns for a legend of `entries` lines (`LEGEND_ROWS` a column)."""
    return max(1, -(-entries // LEGEND_ROWS))
