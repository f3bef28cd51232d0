"""AccuracyChart: validation-accuracy curves of several runs overlaid on one text plot.

Each run is drawn in its own colour (the compare screen's table is the legend);
the vertical axis spans the curves' own range, so small differences between
variants of the baseline stay visible.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from dnn_tui.app.formatting import fmt_acc

COLOURS = ("#5fafff", "#ffaf5f", "#5fd75f", "#ff5f87", "#d7afff", "#ffff5f", "#5fffd7", "#af875f")
"""One colour per run, cycled."""
AXIS_W = 7
"""Columns of the y-axis labels."""


class AccuracyChart(Widget):
    """Overlaid curves, one per run: values per epoch, None where unknown."""

    def __init__(self, *, id: str = "accuracy-chart") -> None:
        super().__init__(id=id)
        self.curves: list[list[float | None]] = []

    def show(self, curves: list[list[float | None]]) -> None:
        self.curves = curves
        self.refresh()

    def render(self) -> Text:
        points = [v for curve in self.curves for v in curve if v is not None]
        if not points:
            return Text("No validation accuracy to plot yet.", style="dim")
        width, height = max(self.size.width - AXIS_W, 10), max(self.size.height - 1, 3)
        low, high = min(points), max(points)
        if high - low < 1e-9:
            low, high = low - 0.005, high + 0.005
        epochs = max(len(curve) for curve in self.curves)
        grid: list[list[tuple[str, str]]] = [[(" ", "")] * width for _ in range(height)]
        for index, curve in enumerate(self.curves):
            colour = COLOURS[index % len(COLOURS)]
            for column in range(width):
                value = _at(curve, column / max(width - 1, 1) * max(epochs - 1, 1))
                if value is None:
                    continue
                row = round((high - value) / (high - low) * (height - 1))
                grid[row][column] = ("•", colour)
        text = Text(no_wrap=True, overflow="crop")
        for row, cells in enumerate(grid):
            value = high - row / max(height - 1, 1) * (high - low)
            label = fmt_acc(value) if row in (0, height - 1, (height - 1) // 2) else ""
            text.append(f"{label:>{AXIS_W - 1}} ", style="dim")
            for char, style in cells:
                text.append(char, style=style)
            text.append("\n")
        last = f"epoch {epochs}"
        gap = max(width - len("epoch 1") - len(last), 1)
        text.append(" " * AXIS_W + "epoch 1" + " " * gap + last, style="dim")
        return text


def _at(curve: list[float | None], position: float) -> float | None:
    """The curve linearly interpolated at a fractional epoch index (0-based)."""
    if not curve:
        return None
    left = int(position)
    if left >= len(curve):
        return None
    right = min(left + 1, len(curve) - 1)
    a, b = curve[left], curve[right]
    if a is None or b is None:
        return a if b is None else b if a is None else None
    return a + (b - a) * (position - left)
