"""SparklineRow: one labelled curve: its name, current, min and max value, and the sparkline.

The history is a ``CompactingSeries``, so a long run keeps its whole curve at a
bounded cost; buckets of the curve show their mean (a smoothed loss curve)
rather than Textual's default maximum. Points are drawn when the screen calls
``flush`` (at most about 10 times a second), however fast they arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import fmean

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Sparkline

from dnn_tui.app.series import CompactingSeries


class SparklineRow(Horizontal):
    """A metric's history as a sparkline with its current, min and max value."""

    def __init__(self, title: str, fmt: Callable[[float | None], str], *, id: str) -> None:
        super().__init__(id=id, classes="sparkline-row")
        self.title = title
        self._fmt = fmt
        self.series = CompactingSeries()
        self._dirty = False

    def compose(self) -> ComposeResult:
        yield Label(self._label_text(), classes="sparkline-label")
        yield Sparkline([], summary_function=fmean, classes="sparkline-curve")

    def _label_text(self) -> str:
        s, fmt = self.series, self._fmt
        return f"{self.title:<10} now {fmt(s.last):>6} min {fmt(s.low):>6} max {fmt(s.high):>6}"

    def reset(self) -> None:
        """Forget the curve (a new run starts)."""
        self.series = CompactingSeries()
        self._dirty = True

    def append(self, value: float) -> None:
        """Add a point (drawn at the next flush)."""
        self.series.append(value)
        self._dirty = True

    def flush(self) -> None:
        """Redraw the label and the curve if points arrived since the last flush."""
        if not self._dirty:
            return
        self._dirty = False
        self.query_one(".sparkline-label", Label).update(self._label_text(), layout=False)
        self.query_one(".sparkline-curve", Sparkline).data = list(self.series.values)
