"""LrSparkline: the learning rate in force per epoch, under the loss and accuracy curves, on
their x axis and a log scale; shown once the shown run's lr has changed (a schedule, or a
change made live), so that a drop in the loss lines up with the lr cut that made it.

The value of each epoch is its record's ``lr`` (the lr in force at the epoch's end), drawn
from the epoch before it to its end: the schedule's steps are steps of the curve.
"""

from __future__ import annotations

from dnn_tui.app.curves import BARS, Scale, levels, resample, value_range
from dnn_tui.app.widgets.sparkline_pair import EpochAxis
from dnn_tui.app.widgets.sparkline_row import SparklineRow
from dnn_tui.training.numbers import NUMBER_W, fmt_lr, fmt_sci


def fmt_lr_cell(value: float | None) -> str:
    """A learning rate in at most NUMBER_W characters (a table cell or a curve's label, where
    ``fmt_lr``'s seven of ``3.13e-5`` would push the columns): ``0.001``, ``3.1e-5``."""
    text = fmt_lr(value)
    return text if len(text) <= NUMBER_W or value is None else fmt_sci(value, NUMBER_W)


LR_SCALE = Scale(log=True, min_span=0.3)
"""Learning rates: log10, at least three tenths of a decade (a cut by half shows as one)."""


class LrSparkline(EpochAxis, SparklineRow):
    """The lr per epoch (``#lr-sparkline``), hidden while the lr has stayed where it began."""

    def __init__(self) -> None:
        super().__init__("lr", fmt_lr_cell, higher_is_better=True, id="lr-sparkline")
        self.x_end = 0.0
        self._dirty = False
        self.display = False

    def reset(self) -> None:
        super().reset()
        self.x_end = 0.0
        self._dirty = True
        self.display = False

    def add_epoch(self, lr: float, epoch: float) -> None:
        """The lr in force at the end of ``epoch``; it holds from the epoch before."""
        self.append(lr, epoch - 1 + 1e-6)  # just past the epoch before: in the next cell
        self.append(lr, epoch)
        self.x_end = max(self.x_end, epoch)
        self._dirty = True
        series = self.series
        if series.low is not None and series.low != series.high:
            self.display = True

    def flush(self) -> None:
        """Rescale and redraw when epochs arrived (or the size changed)."""
        if not self._dirty or not self.display:
            return
        self._dirty = False
        # Each cell shows the lowest lr in it: a cut within the cell's epochs shows there.
        cells = resample(self.series.xs, self.series.lows, self.x_end, self.curve_width, min)
        low, high = value_range([cells], LR_SCALE)
        self.show(levels(cells, LR_SCALE, low, high, len(BARS) * self.rows))
