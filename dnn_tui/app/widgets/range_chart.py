"""RangeChart: the figure of a learning-rate range test, drawn to the widget's size (again on
each resize: the line under it may take one row or three)."""

from __future__ import annotations

from textual.events import Resize
from textual.widgets import Static

from dnn_tui.training.lr_range import RangeTest


class RangeChart(Static):
    """The smoothed loss against the lr, the suggestion marked (``analysis.range_figure``)."""

    def __init__(self) -> None:
        super().__init__(id="lr-find-figure")
        self.test: RangeTest | None = None

    def show(self, test: RangeTest) -> None:
        self.test = test
        self.draw()

    def draw(self) -> None:
        from dnn_tui.analysis.range_figure import render_range_test

        if self.test is None:
            return
        width, height = self.size
        self.update(render_range_test(self.test, max(width, 20), max(height, 6)))

    def on_resize(self, event: Resize) -> None:
        self.draw()
