"""WeightPanel: the weights of every Linear layer, and how much each step changes them.

One row per Linear layer, input side at the top, like the gradient rows: the histogram of
the layer's weights as a strip (one character a bin over a range fixed for the run, twice
the initial weights' largest magnitude either side of 0), the weight norm ‖W‖ (L2), the
update ratio (the norm of the latest measured step's change over ‖W‖: about 1e-3 is the
healthy size of a step), a sparkline of ‖W‖ over the run, and the update's band (slow,
healthy, exploding: the lesson rule of ``dnn_tui.training.lessons``). With L2 the norms
stay smaller than the baseline's; a layer whose update ratio is a millionth does not learn.

``i`` shows the weights before the first step beside the current ones (the strip and ‖W‖ at
the start), so the change is read against where the run began. The figures come from
``StepMeasured`` (‖W‖ and the update ratio, at every progress report) and ``WeightsMeasured``
(the histograms, before the first step and at each epoch end); the panel is one rendered
text, redrawn when the screen flushes.
"""

from __future__ import annotations

import math

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from dnn_tui.analysis.palette import band_styles
from dnn_tui.app.series import CompactingSeries
from dnn_tui.app.widgets.gradient_panel import DIM, dark_theme, spark
from dnn_tui.app.widgets.signal_panel import strip
from dnn_tui.training.events import StepMeasured, WeightsMeasured
from dnn_tui.training.lessons import (
    UPDATE_EXPLODING_ABOVE,
    UPDATE_SLOW_BELOW,
    update_band,
)
from dnn_tui.training.numbers import fmt_norm, fmt_weight_norm

BAND_STYLES = band_styles("slow", "healthy", "exploding", "")
"""Dark theme or not -> update band -> style of its rows (as the gradient panel's colours)."""


class WeightPanel(Widget):
    """Per Linear layer weight histogram, norm and update ratio (``#weight-panel``)."""

    def __init__(self, *, id: str = "weight-panel") -> None:
        super().__init__(id=id)
        self.layer_names: tuple[str, ...] = ()
        self.norms: tuple[float, ...] = ()
        """The latest ‖W‖ of each layer."""
        self.updates: tuple[float | None, ...] = ()
        """The latest measured update ratio of each layer."""
        self.initial: WeightsMeasured | None = None
        """The weights before the first step."""
        self.latest: WeightsMeasured | None = None
        """The latest histograms (the start's, then each epoch end's)."""
        self.histories: list[CompactingSeries] = []
        """log10 of each layer's ‖W‖ over the run."""
        self.show_initial = False
        """Whether the start's figures show beside the current ones (``i``)."""
        self._dirty = False

    # --- updates --------------------------------------------------------------------------

    def start(self, layers: tuple[str, ...]) -> None:
        """A run started: one empty row per layer."""
        self.layer_names = layers
        self.norms, self.updates = (), ()
        self.initial = self.latest = None
        self.histories = [CompactingSeries(256) for _ in layers]
        self.refresh(layout=True)

    def show_step(self, event: StepMeasured) -> None:
        """A progress report: the latest norms and, where measured, update ratios."""
        if not event.weight_norm:
            return
        self.norms = event.weight_norm
        if any(ratio is not None for ratio in event.update_ratio):
            self.updates = event.update_ratio
        self._add_history(event.weight_norm)
        self._dirty = True

    def show_weights(self, event: WeightsMeasured) -> None:
        """Histograms and norms of the start (``epoch`` 0) or of an epoch end."""
        if event.epoch == 0:
            self.initial = event
            self._add_history(event.norm)
        self.latest = event
        self.norms = event.norm
        if any(ratio is not None for ratio in event.update_ratio):
            self.updates = event.update_ratio
        self._dirty = True

    def _add_history(self, norms: tuple[float, ...]) -> None:
        if len(self.histories) != len(norms):
            self.histories = [CompactingSeries(256) for _ in norms]
        for history, norm in zip(self.histories, norms, strict=True):
            if norm > 0 and math.isfinite(norm):
                history.append(math.log10(norm))

    def toggle_initial(self) -> None:
        """``i``: the start's figures beside the current ones, or not."""
        self.show_initial = not self.show_initial
        self.refresh(layout=True)

    def flush(self) -> None:
        """Redraw if figures arrived since the last flush."""
        if self._dirty:
            self._dirty = False
            self.refresh()

    # --- rendering ------------------------------------------------------------------------

    def render(self) -> Text:
        names = self.layer_names or (self.latest.layers if self.latest else ())
        if not names or not self.norms:
            return Text("The weights of every layer appear here once a run starts.", style="dim")
        width = max(self.size.width, 40)
        name_w = max(5, *(len(n) for n in names))
        bins = len(self.latest.hist[0]) if self.latest and self.latest.hist else 0
        start_w = bins + 8 if self.show_initial and self.initial is not None else 0
        spark_w = max(0, width - (name_w + bins + start_w + 31))
        text = Text(no_wrap=True, overflow="crop")
        text.append(f"{'layer':<{name_w}} ", style="bold")
        if start_w:
            text.append(f"{'at the start':<{start_w - 1}} ", style="bold")
        now = f"{'now: weights':<{bins}} " if bins else ""
        text.append(f"{now}{'‖W‖':>6} {'update':>7} ", style="bold")
        text.append(f"{'‖W‖ history'[:spark_w]:<{spark_w}} band\n", style="bold")
        for i, name in enumerate(names):
            update = self.updates[i] if i < len(self.updates) else None
            kind = update_band(update)
            style = BAND_STYLES[dark_theme(self)][kind]
            text.append(f"{name:<{name_w}} ", style=style)
            if start_w and self.initial is not None:
                self._figures(text, self.initial, i, bins, DIM)
            if self.latest is not None:
                self._figures(text, self.latest, i, bins, style, self._norm(i))
            else:  # progress reports without a histogram yet (a log cut short)
                text.append(f"{fmt_weight_norm(self._norm(i)):>6} ", style=style)
            text.append(f"{fmt_norm(update) if update is not None else '-':>7} ", style=style)
            history = self.histories[i].values if i < len(self.histories) else []
            text.append(f"{spark(history, spark_w):<{spark_w}} ", style=style)
            text.append(f"{kind:<9}\n", style=style)
        text.append("strip: the weights, ±2 times the layer's largest |w| at the start\n", DIM)
        text.append(
            f"update: a step's change over ‖W‖ (1e-3 healthy, <{_power(UPDATE_SLOW_BELOW)} slow,"
            f" >{_power(UPDATE_EXPLODING_ABOVE)} exploding)\n",
            style=DIM,
        )
        if self.latest is not None:
            when = f"epoch {self.latest.epoch}" if self.latest.epoch else "before the first step"
            text.append(f"histograms: {when} · i: the start beside them", style=DIM)
        return text

    def _norm(self, index: int) -> float:
        return self.norms[index] if index < len(self.norms) else math.nan

    @staticmethod
    def _figures(
        text: Text,
        event: WeightsMeasured,
        index: int,
        bins: int,
        style: Style,
        norm: float | None = None,
    ) -> None:
        """One layer's strip and ‖W‖ (``norm``: a later one than the histogram's)."""
        row = event.hist[index] if index < len(event.hist) else ()
        value = norm if norm is not None else event.norm[index]
        text.append(f"{strip(tuple(row)):<{bins}} {fmt_weight_norm(value):>6} ", style=style)


def _power(value: float) -> str:
    """A power of ten as the lessons write it: 1e-5, 1e-3, 1."""
    exponent = round(math.log10(value))
    return "1" if exponent == 0 else f"1e{exponent}"
