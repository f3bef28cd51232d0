"""SparklinePair: a training and a validation curve of one quantity on one x axis and y range.

Both rows are resampled onto the same x axis (training progress in epochs, from 0
to ``x_end``, which the lab advances with every report). With ``SHARED_RANGE`` they are
drawn with one y range computed from both, so the gap between training and validation
is drawn as it is; without, each row fits its own values. With ``MARK_LOWEST`` the
validation row marks its lowest cell (``dnn_tui.app.curves`` says how ranges are chosen).
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical

from dnn_tui.app.curves import BARS, Scale, levels, lowest_cell, resample, value_range
from dnn_tui.app.widgets.sparkline_row import SparklineRow


class EpochAxis:
    """The x axis of curves drawn on training progress, from 0 to ``x_end`` epochs, redrawn
    by ``flush`` only when something changed (``_dirty``): a mixin of the curve widgets."""

    x_end: float
    _dirty: bool

    def advance(self, x: float) -> None:
        """Training has reached x epochs: the axis ends there (curves hold their last value)."""
        if x > self.x_end:
            self.x_end = x
            self._dirty = True

    def on_resize(self, _event: events.Resize) -> None:
        self._dirty = True
        self.flush()

    def flush(self) -> None:
        """Redraw if ``_dirty`` (each widget draws its own curves)."""
        raise NotImplementedError


class SparklinePair(EpochAxis, Vertical):
    """Two SparklineRows, ``train`` above ``val``; subclasses name the quantity."""

    QUANTITY = ""
    """Short name in the row labels and ids: ``loss`` or ``acc``."""
    FORMAT: Callable[[float | None], str] = staticmethod(str)
    """How the current, min and max values are written."""
    SCALE = Scale()
    """How values map to heights (log for loss, linear within [0, 1] for accuracy)."""
    HIGHER_IS_BETTER = False
    SHARED_RANGE = True
    """One y range for both rows (else each row its own)."""
    MARK_LOWEST = False
    """Mark the validation row's lowest cell."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.x_end = 0.0
        """The right edge of the x axis: epochs of training done (fractional within an epoch)."""
        self._dirty = False
        self._rows: dict[str, SparklineRow] = {}

    def compose(self) -> ComposeResult:
        q, better = self.QUANTITY, self.HIGHER_IS_BETTER
        yield SparklineRow(f"train {q}", self.FORMAT, higher_is_better=better, id=f"train-{q}")
        yield SparklineRow(f"val {q}", self.FORMAT, higher_is_better=better, id=f"val-{q}")

    @property
    def train(self) -> SparklineRow:
        return self._row("train")

    @property
    def val(self) -> SparklineRow:
        return self._row("val")

    def _row(self, which: str) -> SparklineRow:
        """A row, found once (a query per point cost more than the point)."""
        row = self._rows.get(which)
        if row is None:
            row = self._rows[which] = self.query_one(f"#{which}-{self.QUANTITY}", SparklineRow)
        return row

    def reset(self) -> None:
        self.x_end = 0.0
        self.train.reset()
        self.val.reset()
        self._dirty = True

    def add_train(self, value: float, x: float) -> None:
        self.train.append(value, x)
        self._dirty = True

    def add_val(self, value: float, x: float) -> None:
        self.val.append(value, x)
        self._dirty = True

    def flush(self) -> None:
        """Rescale and redraw both rows if points arrived (or the size changed)."""
        if not self._dirty:
            return
        self._dirty = False
        rows = (self.train, self.val)
        # Each cell shows the worst value measured in it (the highest loss, the lowest
        # accuracy): thousands of epochs in a few dozen cells never average a spike away.
        worst, kept = (min, "lows") if self.HIGHER_IS_BETTER else (max, "highs")
        curves = [
            resample(row.series.xs, getattr(row.series, kept), self.x_end, row.curve_width, worst)
            for row in rows
        ]
        shared = value_range(curves, self.SCALE) if self.SHARED_RANGE else None
        for row, cells in zip(rows, curves, strict=True):
            low, high = shared or value_range([cells], self.SCALE)
            lowest = lowest_cell(cells) if self.MARK_LOWEST and row is rows[1] else None
            row.show(levels(cells, self.SCALE, low, high, len(BARS) * row.rows), lowest)
