"""SparklineRow: one labelled curve: its name, current, lowest and highest value, and the curve.

The history is a ``CompactingSeries`` of (x, value) points, so a long run keeps its
whole curve at a bounded cost. The row does not scale itself: its ``SparklinePair``
resamples both of its rows onto the shared x axis, gives them one y range (see
``dnn_tui.app.curves``) and hands each row its bar heights when the lab draws its
panels (once a second), however fast points arrive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from dnn_tui.analysis.palette import palette
from dnn_tui.app.curves import BARS, bars
from dnn_tui.app.series import CompactingSeries
from dnn_tui.app.widgets.gradient_panel import dark_theme
from dnn_tui.training.numbers import NUMBER_W

TITLE_W = 10
"""Columns of the row's name (``train loss``)."""
LABEL_W = TITLE_W + 3 * (5 + NUMBER_W) + 1
"""Columns before the curve: the name, ``now``, ``min`` and ``max`` with their numbers, a space.
Every number fits NUMBER_W, so the curve starts at the same column whatever the values."""
_STYLES = {dark: tuple(Style(color=c) for c in palette(dark).heat) for dark in (True, False)}
"""Dark theme or not -> bar colours from good to bad (green to red); a row picks the end
that is good."""
LOWEST_STYLES = {dark: Style(color=palette(dark).lowest, reverse=True) for dark in (True, False)}
"""The marked lowest cell (reversed, so that it shows without colour too)."""


class SparklineRow(Widget):
    """A metric's history as a curve with its current, lowest and highest value."""

    def __init__(
        self,
        title: str,
        fmt: Callable[[float | None], str],
        *,
        higher_is_better: bool,
        id: str,
    ) -> None:
        super().__init__(id=id, classes="sparkline-row")
        self.title = title
        self._fmt = fmt
        self._higher_is_better = higher_is_better
        self.series = CompactingSeries()
        self.heights: list[int | None] = []
        """The bar height of each cell as the pair last scaled them (0 = lowest)."""
        self.lowest: int | None = None
        """The marked cell (the lowest value's), if the pair marks one."""

    @property
    def curve_width(self) -> int:
        """Cells of the curve (the row's width less the label)."""
        return max(0, self.size.width - LABEL_W)

    @property
    def rows(self) -> int:
        """Lines of the curve (1, or more when the layout gives the row the height)."""
        return max(1, self.size.height)

    def reset(self) -> None:
        """Forget the curve (a new run starts)."""
        self.series = CompactingSeries()
        self.heights = []
        self.lowest = None

    def append(self, value: float, x: float) -> None:
        """Add a point at x (epochs of training done); drawn when the pair flushes."""
        self.series.append(value, x)

    def label_text(self) -> str:
        """``train loss now 2.3071 min 2.3060 max 2.3150``: every number in NUMBER_W columns."""
        s, fmt, w = self.series, self._fmt, NUMBER_W
        return (
            f"{self.title:<{TITLE_W}.{TITLE_W}} now {fmt(s.last):>{w}}"
            f" min {fmt(s.low):>{w}} max {fmt(s.high):>{w}} "
        )

    def show(self, heights: Sequence[int | None], lowest: int | None = None) -> None:
        """Draw these bar heights (the pair scaled them), marking the cell ``lowest``."""
        self.heights = list(heights)
        self.lowest = lowest
        self.refresh()

    def render(self) -> Text:
        rows = self.rows
        lines = bars(self.heights, rows)
        steps = len(BARS) * rows
        text = Text(no_wrap=True, overflow="crop")
        dark = dark_theme(self)
        lowest, styles = LOWEST_STYLES[dark], _STYLES[dark]
        for index in range(rows):
            text.append(self.label_text() if index == 0 else " " * LABEL_W)
            line = lines[index] if index < len(lines) else ""
            # Cells of one colour go in one span: each span costs when the line is drawn.
            end = min(len(line), len(self.heights))
            start, span_style = 0, None
            for at, height in enumerate(self.heights[:end]):
                style = lowest if at == self.lowest else self._style(height, steps, styles)
                if style is not span_style and at > start:
                    text.append(line[start:at], style=span_style or "")
                    start = at
                span_style = style
            if end > start:
                text.append(line[start:end], style=span_style or "")
            if index < rows - 1:
                text.append("\n")
        return text

    def _style(
        self, height: int | None, steps: int, styles: tuple[Style, ...] = _STYLES[True]
    ) -> Style | str:
        if height is None:
            return ""
        share = min(max(height / max(steps - 1, 1), 0.0), 1.0)  # heights of a taller row
        badness = 1 - share if self._higher_is_better else share
        return styles[min(len(styles) - 1, int(badness * len(styles)))]
