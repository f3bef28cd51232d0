"""GradientPanel: per-layer gradient magnitudes, where vanishing and exploding gradients show.

One row per Linear layer, input side at the top: the layer name, a bar of the
latest weight-gradient norm (measured before clipping) on a log10 scale, the
number, a sparkline of the layer's history, and its band. With batch norm, each
row also shows the gradient norms of the BatchNorm after the layer (γ and β), and
a line says why the Linear biases there are not shown: the normalisation cancels
them (their gradient is zero up to rounding). Under the rows: the global norm
before and after clipping, clipping ON/OFF with its threshold, and the share of
this epoch's steps that clipping changed.

The bands (vanishing, healthy, exploding, converged) are the lesson rules of
``dnn_tui.training.lessons``: a layer is judged against the layers after it (and, for
exploding, by its update against its weights), and a line under the rows says what the
whole stack reads as; this panel gives them their colours.

The whole panel is one rendered text (cheaper than a widget per row), redrawn
when the lab draws its panels (once a second, every 2 s for a run of another process).
"""

from __future__ import annotations

import math
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.types import NoActiveAppError
from textual.widget import Widget

from dnn_tui.analysis.palette import Palette, band_styles, palette
from dnn_tui.app.series import CompactingSeries
from dnn_tui.training.events import StepMeasured
from dnn_tui.training.lessons import gradient_bands, gradient_reading
from dnn_tui.training.numbers import fmt_norm

SCALE = (-10.0, 4.0)
"""The bar's log10 range: 1e-10 (deep-sigmoid's first layer) to 1e4."""

BAND_STYLES = band_styles("vanishing", "healthy", "converged", "exploding")
"""Dark theme or not -> band -> style of its rows (cold blue, green, teal, hot red)."""
TRACK_STYLES = {dark: Style(color=palette(dark).track) for dark in (True, False)}
"""The empty part of a bar."""
DIM = Style(dim=True)


def dark_theme(widget: Widget) -> bool:
    """Whether the widget's app shows a dark theme (a widget drawn outside an app: dark)."""
    try:
        return widget.app.current_theme.dark
    except NoActiveAppError:
        return True


SPARK_BARS = "▁▂▃▄▅▆▇█"
MIN_SPAN = 1.0
"""A row's sparkline spans at least one decade, so noise does not look like a trend."""


def scale_position(norm: float, width: int) -> int:
    """Cells of a ``width``-cell bar that a norm fills on the log10 scale (at least 1 if > 0)."""
    if not norm > 0:
        return 0
    if not math.isfinite(norm):
        return width
    low, high = SCALE
    share = (math.log10(norm) - low) / (high - low)
    return max(1, min(width, round(share * width)))


def spark(values: list[float], width: int) -> str:
    """A one-line sparkline of values in ``width`` cells (bucket means)."""
    if not values or width <= 0:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [
            sum(chunk) / len(chunk)
            for i in range(width)
            if (chunk := values[int(i * step) : int((i + 1) * step)])
        ]
    low, high = min(values), max(values)
    span = max(high - low, MIN_SPAN)
    base = (low + high - span) / 2
    top = len(SPARK_BARS) - 1
    return "".join(SPARK_BARS[round((v - base) / span * top)] for v in values)


class GradientPanel(Widget):
    """Per-layer gradient norms, global norm and clipping (``#gradient-panel``)."""

    def __init__(self, *, id: str = "gradient-panel") -> None:
        super().__init__(id=id)
        self.layer_names: tuple[str, ...] = ()
        self.latest: tuple[float, ...] = ()
        """The latest norm of each layer (mean since the previous report)."""
        self.updates: tuple[float | None, ...] = ()
        """The latest update ratio of each layer (None where not measured)."""
        self.norm_index: list[tuple[int | None, int | None]] = []
        """Per layer, where the following BatchNorm's γ and β are in the parameter norms."""
        self.param_norms: tuple[float, ...] = ()
        self.histories: list[CompactingSeries] = []
        """log10 of each layer's norm over the run."""
        self._step: StepMeasured | None = None
        self._clipping = False
        self._clip_norm = 1.0
        self._dirty = False

    # --- updates --------------------------------------------------------------------------

    def start(self, layers: tuple[str, ...], parameters: tuple[str, ...] = ()) -> None:
        """A run started: one empty row per layer (``parameters``: every parameter's name, in
        the order of ``StepMeasured.param_grad_norm``)."""
        self.layer_names = layers
        self.latest = (math.nan,) * len(layers)
        self.updates = ()
        self.histories = [CompactingSeries(256) for _ in layers]
        position = {name: index for index, name in enumerate(parameters)}
        self.norm_index = [
            (position.get(f"bn{k}.weight"), position.get(f"bn{k}.bias"))
            for k in range(1, len(layers) + 1)
        ]
        self.param_norms = ()
        self._step = None
        self.refresh(layout=True)

    @property
    def batchnorm(self) -> bool:
        """Whether the run's layers are followed by BatchNorm (γ and β columns show)."""
        return any(gamma is not None for gamma, _ in self.norm_index)

    def show_step(self, event: StepMeasured) -> None:
        """A progress report: latest norms and clipping figures (drawn at the next flush)."""
        self.latest = event.grad_norm
        self.updates = event.update_ratio
        self.param_norms = event.param_grad_norm
        for history, norm in zip(self.histories, event.grad_norm, strict=False):
            if norm > 0:
                history.append(math.log10(norm))
        self._step = event
        self._dirty = True

    def show_epoch(self, record: dict[str, Any]) -> None:
        """An epoch whose progress reports were not seen (a long run opened from its summary):
        its mean norms stand for them."""
        norms = record.get("grad_norm")
        if not isinstance(norms, list) or len(norms) != len(self.layer_names):
            return
        self.latest = tuple(math.nan if norm is None else float(norm) for norm in norms)
        for history, norm in zip(self.histories, self.latest, strict=False):
            if norm > 0:
                history.append(math.log10(norm))
        self._dirty = True

    def flush(self) -> None:
        """Redraw if a report arrived since the last flush."""
        if self._dirty:
            self._dirty = False
            self.refresh()

    def show_controls(self, clipping: bool, clip_norm: float) -> None:
        """Clipping as the controls say: the one source of it, so a key press shows at once
        (a report already on its way still describes the step before)."""
        self._clipping, self._clip_norm = clipping, clip_norm
        self.refresh()

    # --- rendering ------------------------------------------------------------------------

    @property
    def _palette(self) -> Palette:
        return palette(dark_theme(self))

    @property
    def _styles(self) -> dict[str, Style]:
        return BAND_STYLES[dark_theme(self)]

    def render(self) -> Text:
        if not self.layer_names:
            return Text("Gradient norms per layer appear here once a run starts.", style="dim")
        width = max(self.size.width, 40)
        name_w = max(5, *(len(n) for n in self.layer_names))
        bn_w = 16 if self.batchnorm else 0  # " |∇γ| " and " |∇β| " columns
        rest = width - (name_w + 22 + bn_w)  # name, norm and band columns, spaces, a scrollbar
        bar_w = max(10, rest * 11 // 20)
        spark_w = max(0, rest - bar_w)
        text = Text(no_wrap=True, overflow="crop")
        low, high = SCALE
        text.append(f"{'layer':<{name_w}} ", style="bold")
        axis = f"|∇W| 1e{low:.0f} … 1e{high:.0f} (log)"
        text.append(f"{axis[:bar_w]:<{bar_w}} {'norm':>7} ", style="bold")
        if bn_w:
            text.append(f"{'BN |∇γ|':>7} {'|∇β|':>7} ", style="bold")
        text.append(f"{'history'[:spark_w]:<{spark_w}} band\n", style="bold")
        known = bool(self.latest) and not any(math.isnan(v) for v in self.latest)
        bands = gradient_bands(self.latest, self.updates) if known else ()
        rows = zip(self.layer_names, self.latest, self.histories, strict=False)
        for index, (name, norm, history) in enumerate(rows):
            kind = bands[index] if known else ""
            self._row(text, index, name, norm, kind, history, name_w, bar_w, spark_w)
        if known:
            reading = gradient_reading(self.layer_names, self.latest, self.updates)
            kind = bands[0] if bands[0] == "converged" else reading.partition(":")[0]
            text.append(f"{reading}\n", style=self._styles.get(kind, DIM))
        if bn_w:
            text.append(
                "BN γ, β: the BatchNorm after each layer (it cancels the layer's bias: see g)\n",
                style="dim",
            )
        text.append(self._global_line())
        text.append("\n")
        text.append(self._clipping_line())
        return text

    def _row(
        self,
        text: Text,
        index: int,
        name: str,
        norm: float,
        kind: str,
        history: CompactingSeries,
        name_w: int,
        bar_w: int,
        spark_w: int,
    ) -> None:
        known = bool(kind)
        style = self._styles[kind] if known else DIM
        filled = scale_position(norm, bar_w) if known else 0
        text.append(f"{name:<{name_w}} ", style=style)
        text.append("█" * filled, style=style)
        text.append("░" * (bar_w - filled), style=TRACK_STYLES[dark_theme(self)])
        text.append(f" {fmt_norm(norm) if known else '-':>7} ", style=style)
        if self.batchnorm:
            for position in self.norm_index[index]:
                self._param_cell(text, position, style)
        text.append(f"{spark(history.values, spark_w):<{spark_w}} ", style=style)
        text.append(f"{kind if known else '':<9}\n", style=style)

    def _param_cell(self, text: Text, position: int | None, style: Style) -> None:
        """One BatchNorm parameter's latest gradient norm (``-`` where there is none), in its
        layer's colour."""
        if position is None or position >= len(self.param_norms):
            text.append(f"{'-':>7} ", style=DIM)
            return
        text.append(f"{fmt_norm(self.param_norms[position]):>7} ", style=style)

    def _global_line(self) -> Text:
        step = self._step
        if step is None:
            return Text("global |∇| -", style="dim")
        line = Text(f"global |∇| {fmt_norm(step.grad_norm_total)} before clipping")
        line.append(f" → {fmt_norm(step.grad_norm_clipped)} after")
        return line

    def _clipping_line(self) -> Text:
        line = Text("clipping ")
        if self._clipping:
            line.append("ON", style=f"bold {self._palette.bands['healthy']}")
            line.append(f" max {self._clip_norm:g}")
        else:
            line.append("OFF", style="bold")
            line.append(f" (c turns it on at max {self._clip_norm:g})", style="dim")
        if self._step is not None:
            line.append(f" · clipped {100 * self._step.clipped_fraction:.0f}% of steps this epoch")
        return line
