"""RunChart: one of the comparison figures (accuracy or loss per epoch of the selected runs).

The figure is built by ``dnn_tui.analysis.figures`` (plotext), the same code that draws it for
``dnn-tui compare``; the widget only hands it its size.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from dnn_tui.analysis.figures import Figure, render


class RunChart(Widget):
    """A figure drawn to the widget's size; ``show`` replaces it."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.figure: Figure | None = None

    def show(self, figure: Figure | None) -> None:
        self.figure = figure
        self.refresh()

    def render(self) -> Text:
        if self.figure is None or not self.figure.series:
            return Text("Select runs with space to draw them here.", style="dim")
        return render(self.figure, self.size.width, self.size.height)
