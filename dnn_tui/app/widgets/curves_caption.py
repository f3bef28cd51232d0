"""CurvesCaption: the line under the curves that says what their axes are.

It says as much as its width allows, from the whole sentence down to the x range
alone, so that it never ends in an ellipsis (the help screen says it all).
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

CAPTIONS = (
    "x: epochs 0 to {x:.1f} · loss on a log scale · train loss per report,"
    " the rest per epoch (? says more)",
    "x: epochs 0 to {x:.1f} · loss on a log scale · train loss per report, the rest per epoch",
    "x: epochs 0 to {x:.1f} · log loss · train loss per report, rest per epoch",
    "x: epochs 0 to {x:.1f} · log loss · ? says more",
    "x: epochs 0 to {x:.1f}",
)
"""The caption from the longest wording to the shortest; the widest that fits is shown."""


def caption(x_end: float, width: int) -> str:
    """The longest wording of the caption for curves up to ``x_end`` in ``width`` cells."""
    texts = [text.format(x=x_end) for text in CAPTIONS]
    return next((text for text in texts if len(text) <= width), texts[-1])


class CurvesCaption(Widget):
    """What the curves' axes are (``#curves-caption``)."""

    DEFAULT_CSS = """
    CurvesCaption { height: 1; width: 1fr; }
    """

    def __init__(self, *, id: str = "curves-caption") -> None:
        super().__init__(id=id)
        self._x_end = 0.0

    def show(self, x_end: float) -> None:
        if x_end != self._x_end:
            self._x_end = x_end
            self.refresh()

    def render(self) -> Text:
        return Text(caption(self._x_end, self.content_size.width), no_wrap=True)
