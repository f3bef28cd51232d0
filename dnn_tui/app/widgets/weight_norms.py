"""WeightNorms: per selected run, each layer's weight norm ‖W‖ in its last epoch as a bar.

One scale for every run, a mark at the norm the layer started from: ``l2``'s weights stay
smaller than ``baseline``'s. Drawn by ``dnn_tui.analysis.figures`` as for ``dnn-tui compare``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.widget import Widget

from dnn_tui.analysis.figures import RunStyle, render_weight_norms


class WeightNorms(Widget):
    """The weight norms of the selected runs; ``show`` replaces them."""

    DEFAULT_CSS = """
    WeightNorms {
        height: auto;
    }
    """

    def __init__(self, *, id: str = "weight-norms") -> None:
        super().__init__(id=id)
        self.runs: list[tuple[str, Mapping[str, Any]]] = []
        self.run_styles: list[RunStyle] = []

    def show(
        self, runs: Sequence[tuple[str, Mapping[str, Any]]], styles: Sequence[RunStyle]
    ) -> None:
        self.runs, self.run_styles = list(runs), list(styles)
        self.refresh(layout=True)

    def render(self) -> Text:
        if not self.runs:
            return Text("Select runs with space to see their weight norms here.", style="dim")
        return render_weight_norms(self.runs, self.size.width or 80, self.run_styles)
