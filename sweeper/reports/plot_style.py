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
- `web_palette(names)`: the same colours and markers as plotly takes them (hex
  colours, plotly symbol names) plus a dash pattern per configuration, so
  report.html's interactive figures match the PNGs and identical curves stay
  apart.
- `wrap_title(text, width, fontsize)`: a title wrapped to the figure's width; with
  `RC`'s `axes.formatter.limits`, numbers from 10 000 up (a diverged loss) tick as
  `2, 4, 6, 8` under a `1e5` offset, so no tick label is cut at the figure's edge.
"""

from __future__ import annotations

import math
import re
import textwrap
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
    # Scientific offset (x1e5) from 10^4 up and below 10^-3: tick labels stay short.
    "axes.formatter.limits": (-3, 4),
}
MARKERS = ("o", "^", "v", "D", "P", "X", "*", "<", ">", "h")  # no "s": squares mark extrapolation
# matplotlib marker -> plotly's symbol of the same shape (report.html's figures).
PLOTLY_SYMBOLS = {
    "o": "circle",
    "^": "triangle-up",
    "v": "triangle-down",
    "D": "diamond",
    "P": "cross",
    "X": "x",
    "*": "star",
    "<": "triangle-left",
    ">": "triangle-right",
    "h": "hexagon",
}
# plotly line dashes, one per configuration in turn: neighbours differ in dash as well
# as marker, and the (marker, dash) pair repeats only every 30 configurations.
DASHES = ("solid", "dot", "dash")
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


def web_palette(names: Iterable[str]) -> dict[str, dict[str, str]]:
    """Per configuration name (first-seen order): `color` ("#1f77b4"), `symbol` (plotly's
    name of the PNG marker: "circle") and `dash` ("solid", "dot", "dash"): the PNG's
    colour and marker (`palette`) for plotly traces."""
    from matplotlib.colors import to_hex

    styles = palette(names)
    return {
        name: {
            "color": to_hex(style["color"]),
            "symbol": PLOTLY_SYMBOLS[style["marker"]],
            "dash": DASHES[i % len(DASHES)],
        }
        for i, (name, style) in enumerate(styles.items())
    }


def wrap_title(text: str, width: float, fontsize: float) -> str:
    """`text` wrapped (line by line) to fit `width` inches at `fontsize` points: a
    character of DejaVu Sans averages about 0.6 of the font size, with a margin."""
    per_line = max(20, int(width * 72 / (0.62 * fontsize)))
    return "\n".join(textwrap.fill(line, per_line) or line for line in text.split("\n"))


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
