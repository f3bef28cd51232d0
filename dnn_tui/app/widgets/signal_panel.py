"""SignalPanel: the forward signal, each hidden layer's activations on the probe batch.

The cause of what the gradient panel shows: one row per hidden layer, input side at
the top, like the gradient rows: the layer's activation histogram as a strip (one
character a bin over the activation's range, the height the bin's share), the std of
the activations, the share of saturated (sigmoid, tanh) or dead (ReLU-like) units, a
sparkline of the std over the run, and the band. Under the rows: what was measured and
when, and what the share counts.

The bands (collapsing, saturated / dead, exploding, healthy) are the lesson rules of
``dnn_tui.training.lessons``; this panel gives them their colours.

``i`` shows the signal before the first step (the initialisation's, which the lessons of
Xavier and He speak of) beside the current one: its strip and std at the start, then now.

The figures come from ``ActivationsMeasured`` (the engine's probe: at the start of the
run, about once a second and at each epoch end); the panel is one rendered text, redrawn
when the screen flushes.
"""

from __future__ import annotations

import math

from rich.text import Text
from textual.widget import Widget

from dnn_tui.analysis.palette import band_styles
from dnn_tui.app.series import CompactingSeries
from dnn_tui.app.widgets.gradient_panel import DIM, dark_theme, spark
from dnn_tui.training.events import ActivationsMeasured
from dnn_tui.training.lessons import share_rule, signal_band
from dnn_tui.training.numbers import fmt_norm

BAND_STYLES = band_styles("collapsing", "healthy", "saturated", "dead", "exploding")
"""Dark theme or not -> band -> style of its rows: cold blue, green, amber, hot red (as the
gradient panel)."""
STRIP_BARS = "▁▂▃▄▅▆▇█"
EMPTY_BIN = "·"


def strip(hist: tuple[float, ...]) -> str:
    """The histogram in one character a bin: bar heights relative to the fullest bin; a dot for
    an empty bin, and at least the lowest bar for one that holds anything."""
    top = max(hist, default=0.0)
    if not top > 0:
        return EMPTY_BIN * len(hist)
    levels = len(STRIP_BARS)
    return "".join(
        STRIP_BARS[max(0, min(levels, math.ceil(share / top * levels)) - 1)]
        if share > 0
        else EMPTY_BIN
        for share in hist
    )


def axis(low: float, high: float, width: int) -> str:
    """The histogram's range under its strip: low at the left edge, high at the right."""
    left, right = f"{low:g}", f"{high:g}"
    return left + right.rjust(max(width - len(left), len(right) + 1))


class SignalPanel(Widget):
    """Per hidden layer activation histogram, std and saturated/dead share (``#signal-panel``)."""

    def __init__(self, *, id: str = "signal-panel") -> None:
        super().__init__(id=id)
        self.latest: ActivationsMeasured | None = None
        """The latest measurement of the current run."""
        self.initial: ActivationsMeasured | None = None
        """The measurement before the first step."""
        self.show_initial = False
        """Whether the start's figures show beside the current ones (``i``)."""
        self.histories: list[CompactingSeries] = []
        """log10 of each layer's std over the run."""
        self._dirty = False

    # --- updates --------------------------------------------------------------------------

    def start(self) -> None:
        """A run started: nothing measured yet."""
        self.latest = self.initial = None
        self.histories = []
        self.refresh(layout=True)

    def toggle_initial(self) -> None:
        """``i``: the start's figures beside the current ones, or not."""
        self.show_initial = not self.show_initial
        self.refresh(layout=True)

    def show_signal(self, event: ActivationsMeasured) -> None:
        """A measurement (drawn at the next flush)."""
        if len(self.histories) != len(event.layers):
            self.histories = [CompactingSeries(256) for _ in event.layers]
            self.refresh(layout=True)
        for history, std in zip(self.histories, event.std, strict=True):
            if std > 0:
                history.append(math.log10(std))
        if event.epoch == 0:
            self.initial = event
        self.latest = event
        self._dirty = True

    def flush(self) -> None:
        """Redraw if a measurement arrived since the last flush."""
        if self._dirty:
            self._dirty = False
            self.refresh()

    # --- rendering ------------------------------------------------------------------------

    def render(self) -> Text:
        event = self.latest
        if event is None:
            return Text(
                "The forward signal (each hidden layer's activations) appears here once a run "
                "starts.",
                style="dim",
            )
        if not event.layers:
            return Text("No hidden layers: there is no forward signal to show.", style="dim")
        width = max(self.size.width, 40)
        name_w = max(5, *(len(n) for n in event.layers))
        bins = len(event.hist[0])
        share_title = "sat" if event.share_kind == "saturated" else event.share_kind
        initial = self.initial if self.show_initial else None
        if initial is not None and len(initial.layers) != len(event.layers):
            initial = None
        start_w = bins + 9 if initial is not None else 0
        # name, strip, std, share and band columns with their spaces, and a scrollbar
        spark_w = max(0, width - (name_w + bins + start_w + 31))
        text = Text(no_wrap=True, overflow="crop")
        text.append(f"{'layer':<{name_w}} ", style="bold")
        if initial is not None:
            text.append(f"{'at the start':<{bins}} {'std':>7} ", style="bold")
        text.append(f"{axis(*event.hist_range, bins):<{bins}} ", style="bold")
        text.append(
            f"{'std':>7} {share_title:>5} {'std history'[:spark_w]:<{spark_w}} band\n",
            style="bold",
        )
        for i, name in enumerate(event.layers):
            std, share = event.std[i], event.share[i]
            kind = signal_band(std, share, event.share_kind)
            style = BAND_STYLES[dark_theme(self)][kind]
            text.append(f"{name:<{name_w}} ", style=style)
            if initial is not None:
                text.append(f"{strip(initial.hist[i]):<{bins}} {fmt_norm(initial.std[i]):>7} ")
                text.stylize(DIM, len(text) - start_w)
            text.append(strip(event.hist[i]), style=style)
            text.append(f" {fmt_norm(std):>7} {_percent(share):>5} ", style=style)
            history = self.histories[i].values if i < len(self.histories) else []
            text.append(f"{spark(history, spark_w):<{spark_w}} ", style=style)
            text.append(f"{kind:<10}\n", style=style)
        when = "before the first step" if event.epoch == 0 else f"epoch {event.epoch}"
        if event.epoch and event.step:
            when += f", step {event.step}"
        if initial is not None and event.epoch:
            when = f"at the start and {when}"
        text.append(f"{event.samples} training samples, {when}", style=DIM)
        text.append(f" · {share_rule(event.activation)}", style=DIM)
        return text


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%" if math.isfinite(share) else "-"
