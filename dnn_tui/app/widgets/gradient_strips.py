"""GradientStrips: per selected run, a heat-strip of its layers' gradient norms per epoch.

Rows are layers (input at the top), columns epochs, the shade and colour the log of the
layer's mean gradient norm on one scale for every run: ``deep-sigmoid``'s first layers
fade out where ``deep-relu-he``'s stay even. Drawn by ``dnn_tui.analysis.figures`` as for
``dnn-tui compare``.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from dnn_tui.analysis.figures import Strip, render_strips
from dnn_tui.app.widgets.gradient_panel import dark_theme


class GradientStrips(Widget):
    """The heat-strips of the selected runs; ``show`` replaces them."""

    DEFAULT_CSS = """
    GradientStrips {
        height: auto;
    }
    """

    def __init__(self, *, id: str = "gradient-strips") -> None:
        super().__init__(id=id)
        self.strips: list[Strip] = []

    def show(self, strips: list[Strip]) -> None:
        self.strips = strips
        self.refresh(layout=True)

    def render(self) -> Text:
        if not self.strips:
            return Text("Select runs with space to see their gradient flow here.", style="dim")
        return render_strips(self.strips, self.size.width or 80, dark_theme(self))
