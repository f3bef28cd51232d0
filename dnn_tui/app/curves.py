"""Sparkline arithmetic: one x axis for every curve, a y scale with a floor, bars.

Runs without any UI (plain functions on lists of numbers). The choices, as the help
screen states them:

- x: every curve of the lab is drawn against training progress in epochs, from the
  first step (left edge) to now (right edge), as TensorBoard draws every scalar
  against the step. A curve measured per progress report (training loss) and one
  measured per epoch (validation) then line up: the validation value measured at
  the end of epoch k sits at x = k and holds until the next one.
- y: a curve spans at least ``Scale.min_span`` (in the scale's units), centred on
  its values, so noise smaller than that draws flat instead of looking like a trend;
  losses use a log10 scale (they fall over decades, and a first value of 1e3 would
  flatten a linear one); accuracies a linear one kept within [0, 1].
- the two accuracy rows (train and val) share one y range, so the gap between them is
  drawn as it is; each loss row has its own, so validation loss's upturn (overfitting)
  stays visible however many decades training loss falls, and its lowest cell is marked
  (``lowest_cell``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

BARS = "▁▂▃▄▅▆▇█"
"""One cell's eight heights, lowest first."""
LOG_FLOOR = 1e-12
"""Values at or below zero are drawn as this on a log scale (a loss of exactly 0)."""


@dataclass(frozen=True)
class Scale:
    """How a curve's values map to heights."""

    log: bool = False
    """Draw log10 of the values (for quantities that span decades)."""
    min_span: float = 0.0
    """The smallest range drawn, in the scale's units (decades when ``log``)."""
    lower: float | None = None
    """The range never extends below this (in the values' units), e.g. 0 for accuracy."""
    upper: float | None = None
    """The range never extends above this, e.g. 1 for accuracy."""

    def map(self, value: float) -> float:
        """value in the scale's units."""
        return math.log10(max(value, LOG_FLOOR)) if self.log else value

    def bounds(self) -> tuple[float | None, float | None]:
        """``lower`` and ``upper`` in the scale's units."""
        lower = None if self.lower is None else self.map(self.lower)
        upper = None if self.upper is None else self.map(self.upper)
        return lower, upper


LOSS_SCALE = Scale(log=True, min_span=0.1)
"""Losses: log10, at least a tenth of a decade (a factor of 1.26) from bottom to top."""
ACCURACY_SCALE = Scale(min_span=0.1, lower=0.0, upper=1.0)
"""Accuracies: linear, at least 10 percentage points, within 0% to 100%."""


def resample(
    xs: Sequence[float],
    ys: Sequence[float],
    x_end: float,
    width: int,
    pick: Callable[[float, float], float] | None = None,
) -> list[float | None]:
    """The curve in ``width`` cells covering x from 0 to ``x_end``.

    A cell shows the mean of the points that fall in it, or with ``pick`` (``max``, ``min``)
    the one it picks: a curve of 50,000 epochs in 80 cells keeps a spike of one epoch; a
    cell without points repeats the last value to its left (a measurement holds until the
    next); cells before the first point are None (nothing measured yet).
    """
    if width <= 0:
        return []
    sums = [0.0] * width
    counts = [0] * width
    if x_end > 0:
        for x, y in zip(xs, ys, strict=True):
            cell = min(width - 1, max(0, math.ceil(x / x_end * width) - 1))
            if pick is None:
                sums[cell] += y
            else:
                sums[cell] = pick(sums[cell], y) if counts[cell] else y
            counts[cell] += 1
    cells: list[float | None] = []
    held: float | None = None
    for total, count in zip(sums, counts, strict=True):
        if count:
            held = total if pick is not None else total / count
        cells.append(held)
    return cells


def value_range(curves: Sequence[Sequence[float | None]], scale: Scale) -> tuple[float, float]:
    """The (low, high) drawn for these curves together, in the scale's units."""
    values = [scale.map(v) for curve in curves for v in curve if v is not None]
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    span = max(high - low, scale.min_span)
    if span <= 0:
        span = 1.0
    middle = (low + high) / 2
    low, high = middle - span / 2, middle + span / 2
    lower, upper = scale.bounds()
    if lower is not None and low < lower:
        low, high = lower, lower + span
    if upper is not None and high > upper:
        low, high = upper - span, upper
        if lower is not None:
            low = max(low, lower)
    return low, high


def lowest_cell(cells: Sequence[float | None]) -> int | None:
    """The first cell holding the lowest value (a value holds over several cells), or None
    when nothing was measured."""
    found, lowest = None, math.inf
    for index, value in enumerate(cells):
        if value is not None and (found is None or value < lowest):
            found, lowest = index, value
    return found


def levels(
    cells: Sequence[float | None], scale: Scale, low: float, high: float, steps: int
) -> list[int | None]:
    """Each cell's height from 0 to ``steps - 1`` (None stays None)."""
    span = high - low if high > low else 1.0
    out: list[int | None] = []
    for value in cells:
        if value is None:
            out.append(None)
            continue
        share = (scale.map(value) - low) / span
        out.append(max(0, min(steps - 1, round(share * (steps - 1)))))
    return out


def bars(heights: Sequence[int | None], rows: int) -> list[str]:
    """The cells as ``rows`` lines of block characters, top line first (height 0 is the
    lowest bar, ``8 * rows - 1`` a full column; None is blank)."""
    lines = []
    for row in range(rows - 1, -1, -1):
        line = []
        for height in heights:
            if height is None:
                line.append(" ")
                continue
            fill = height + 1 - len(BARS) * row
            line.append(" " if fill <= 0 else BARS[min(fill, len(BARS)) - 1])
        lines.append("".join(line))
    return lines
