"""The comparison figures: accuracy and loss per epoch of several runs, and gradient heat-strips.

Runs without any UI: a figure is built by plotext (a maintained terminal plotting library)
into Rich ``Text``, which ``dnn-tui compare`` prints and the dashboard's ``RunChart`` widget
shows, so both draw the same figure with the same code.

The lesson's figures: validation as a line with the run's filled marker at every epoch,
training as the run's hollow marker alone (points), the best epoch as a star. Runs are
told apart by marker shape as well as colour, so a figure reads under ``NO_COLOR``. The
legend is one line above the plot (plotext's legend box would cover the curves at
terminal sizes).

The y-range follows ``zoom``: by default it fits the last half of each run's epochs, so
runs that end close together stay apart even when one of them started far below.

The x axis is epochs, or (``x_axis``) the optimizer steps taken or the training samples
seen by the end of each epoch: the batching lesson is per step, and a full-batch run's
200 epochs are 200 steps, fewer than a mini-batch run takes in one of its 20 epochs.
"""

from __future__ import annotations

import itertools
import math
import threading
import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich.text import Text

from dnn_tui.analysis.palette import palette
from dnn_tui.training.lessons import gradient_bands

Metric = Literal["acc", "loss"]
XAxis = Literal["epochs", "steps", "samples"]
X_AXES: tuple[XAxis, ...] = ("epochs", "steps", "samples")
"""What the figures' x axis counts: epochs, optimizer steps taken, or training samples seen."""
X_TEXT = {"epochs": "per epoch", "steps": "by steps taken", "samples": "by samples seen"}


@dataclass(frozen=True)
class RunStyle:
    """How one run is drawn in every figure."""

    marker: str
    """Its validation points (filled)."""
    hollow: str
    """Its training points (the hollow form of ``marker``)."""
    colour: str
    """Its colour, ``#rrggbb``."""


STYLES = (
    RunStyle("●", "○", "#5fafff"),
    RunStyle("■", "□", "#ffaf5f"),
    RunStyle("▲", "△", "#5fd75f"),
    RunStyle("◆", "◇", "#ff5f87"),
    RunStyle("▼", "▽", "#d7afff"),
    RunStyle("◀", "◁", "#ffff5f"),
    RunStyle("▶", "▷", "#5fffd7"),
    RunStyle("✖", "✕", "#af875f"),
)
"""One style per compared run, in selection order: as many runs as a figure can tell apart."""


def _suite_styles() -> dict[str, int]:
    """A style index per preset of the suites, different within each suite (the first free
    one in suite order), so that a suite's runs never compete for a marker."""
    from dnn_tui.presets import SUITES

    chosen: dict[str, int] = {}
    for presets in SUITES.values():
        used = {chosen[name] for name in presets if name in chosen}
        for name in presets:
            if name not in chosen:
                chosen[name] = next(i for i in range(len(STYLES)) if i not in used)
                used.add(chosen[name])
    return chosen


def preferred_style(name: str | None) -> int:
    """The style index a run prefers, from its preset's name (an edited preset's or a sweep
    run's base name counts): the same run gets the same marker on every screen and in
    ``dnn-tui compare``, whatever the order it was selected or given in."""
    from dnn_tui.presets import EDITED

    base = (name or "").removesuffix(EDITED).split(" ")[0]
    suites = _suite_styles()
    if base in suites:
        return suites[base]
    return zlib.crc32(base.encode("utf-8", "replace")) % len(STYLES)


def pick_style(name: str | None, taken: Collection[int]) -> int:
    """The run's preferred style index, or the next one not ``taken`` (None when all are)."""
    start = preferred_style(name)
    for offset in range(len(STYLES)):
        index = (start + offset) % len(STYLES)
        if index not in taken:
            return index
    return start


def pick_styles(names: Sequence[str | None]) -> list[RunStyle]:
    """The styles of runs shown together, given by their presets' names, in order."""
    taken: list[int] = []
    for name in names:
        taken.append(pick_style(name, taken))
    return [STYLES[index] for index in taken]


BEST_MARKER = "★"
"""Marks each run's best epoch (lowest validation loss) on its validation curve."""

ZOOMS = ("last-half", "after-first", "all")
"""What the y-range fits: each run's last half of epochs, its epochs after the first, or all."""
ZOOM_TEXT = {
    "last-half": "y: last half of the epochs",
    "after-first": "y: epoch 2 on",
    "all": "y: every epoch",
}


@dataclass(frozen=True)
class Series:
    """One run's curves in a figure."""

    label: str
    style: RunStyle
    epochs: tuple[int, ...]
    train: tuple[float | None, ...]
    """The training metric per epoch (None where it was not finite)."""
    val: tuple[float | None, ...]
    """The validation metric per epoch."""
    best_epoch: int | None
    per_epoch: float = 1.0
    """x units per epoch: 1 for epochs, else the run's steps or samples in an epoch."""


@dataclass(frozen=True)
class Figure:
    """A figure of one metric over epochs, for several runs."""

    metric: Metric
    series: tuple[Series, ...]
    zoom: str = ZOOMS[0]
    log: bool = False
    """Logarithmic y-axis (loss only: accuracies are fractions)."""
    x_axis: XAxis = "epochs"

    @property
    def title(self) -> str:
        name = "accuracy" if self.metric == "acc" else "loss" + (" (log)" if self.log else "")
        return (
            f"{name} {X_TEXT[self.x_axis]}: line validation, points training, "
            f"{BEST_MARKER} best epoch"
        )


def _cycle(count: int) -> list[RunStyle]:
    return [STYLES[i % len(STYLES)] for i in range(count)]


def _value(record: Mapping[str, Any], key: str) -> float | None:
    value = record.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def per_epoch(history: Mapping[str, Any], x_axis: XAxis) -> float:
    """x units in one of the run's epochs: 1 epoch, its optimizer steps (as the engine
    slices an epoch: a last batch of one sample joins the one before under batch norm), or
    its training samples. 1 when the history does not say (a damaged dataset record)."""
    dataset = history.get("dataset")
    config = history.get("config")
    samples = dataset.get("train") if isinstance(dataset, Mapping) else None
    if x_axis == "epochs" or not isinstance(samples, int) or samples <= 0:
        return 1.0
    if x_axis == "samples":
        return float(samples)
    train = config.get("train") if isinstance(config, Mapping) else None
    model = config.get("model") if isinstance(config, Mapping) else None
    batch = train.get("batch_size", 100) if isinstance(train, Mapping) else 100
    if batch == "full" or not isinstance(batch, int) or batch >= samples:
        return 1.0
    steps = math.ceil(samples / max(batch, 1))
    batchnorm = isinstance(model, Mapping) and model.get("batchnorm") is True
    if batchnorm and steps > 1 and samples % batch == 1:
        steps -= 1
    return float(steps)


def series_of(
    label: str,
    style: RunStyle,
    history: Mapping[str, Any],
    metric: Metric,
    x_axis: XAxis = "epochs",
) -> Series:
    """A run's curves of ``metric`` from its (checked) history.json content."""
    epochs = history.get("epochs") or []
    return Series(
        label=label,
        style=style,
        epochs=tuple(int(record["epoch"]) for record in epochs),
        train=tuple(_value(record, f"train_{metric}") for record in epochs),
        val=tuple(_value(record, f"val_{metric}") for record in epochs),
        best_epoch=history.get("best_epoch"),
        per_epoch=per_epoch(history, x_axis),
    )


def metric_figure(
    runs: Sequence[tuple[str, Mapping[str, Any]]],
    metric: Metric,
    *,
    zoom: str = ZOOMS[0],
    log: bool = False,
    styles: Sequence[RunStyle] | None = None,
    x_axis: XAxis = "epochs",
) -> Figure:
    """The figure of ``metric`` for runs given as (label, history), drawn in ``styles`` (by
    default STYLES in the runs' order) against ``x_axis``."""
    series = tuple(
        series_of(label, style, history, metric, x_axis)
        for (label, history), style in zip(runs, styles or _cycle(len(runs)), strict=True)
    )
    return Figure(metric, series, zoom, log and metric == "loss", x_axis)


def _window(series: Series, zoom: str) -> int:
    """The first epoch whose values the y-range fits."""
    if not series.epochs:
        return 1
    if zoom == "after-first":
        return series.epochs[0] + 1
    if zoom == "last-half":
        return series.epochs[len(series.epochs) // 2]
    return series.epochs[0]


def y_range(figure: Figure) -> tuple[float, float] | None:
    """The y-axis limits for the figure's zoom; None when there is nothing to draw."""

    def usable(value: float | None) -> bool:
        return value is not None and (not figure.log or value > 0)

    def gather(first: dict[Series, int]) -> list[float]:
        return [
            value
            for s in figure.series
            for epoch, a, b in zip(s.epochs, s.train, s.val, strict=True)
            if epoch >= first[s]
            for value in (a, b)
            if usable(value)
        ]

    values = gather({s: _window(s, figure.zoom) for s in figure.series})
    if not values:  # too few epochs for the zoom: fit them all
        values = gather({s: 0 for s in figure.series})
    if not values:
        return None
    low, high = min(values), max(values)
    if figure.log:
        low, high = math.log10(low), math.log10(high)
    span = max(high - low, 0.01 if not figure.log else 0.1)
    low, high = low - 0.05 * span, high + 0.05 * span
    if figure.log:
        return 10**low, 10**high
    if figure.metric == "acc":
        low, high = max(low, 0.0), min(high, 1.0)
    return max(low, 0.0), high


def _epoch_ticks(last: int, width: int) -> list[int]:
    """Whole epochs for the x-axis, about one every 8 columns."""
    room = max(width // 8, 2)
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000) if last / s <= room)
    ticks = [1, *range(step, last + 1, step)] if step > 1 else list(range(1, last + 1))
    return sorted(set(ticks))


def count_ticks(last: float, width: int) -> list[float]:
    """Round counts (steps, samples) for the x-axis from 0, about one every 10 columns."""
    room = max(width // 10, 2)
    magnitude = 10 ** math.floor(math.log10(max(last, 1)))
    step = next(
        m * magnitude / 10
        for m in (1, 2, 2.5, 5, 10, 20, 25, 50, 100)
        if last / (m * magnitude / 10) <= room
    )
    return [i * step for i in range(int(last // step) + 1)]


def fmt_count(value: float) -> str:
    """A count as an axis writes it: ``800``, ``12k``, ``1.5M``."""
    for size, unit in ((1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:g}{unit}"
    return f"{value:g}"


def _log_ticks(low: float, high: float) -> list[float]:
    """Powers of ten within the range, with 2 and 5 between them when it spans little."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    steps = (1, 2, 5) if last - first <= 3 else (1,)
    marks = [m * 10.0**k for k in range(first, last + 1) for m in steps]
    return [mark for mark in marks if low <= mark <= high]


_PLOTEXT = threading.Lock()
"""plotext draws on one module-level figure: one drawing at a time."""


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def legend(series: Sequence[Series], width: int = 10_000, tail: str = "") -> Text:
    """Each run's marker (filled, then hollow) and its label, in its colour, then ``tail``
    (dim): on one line where they fit ``width``, else on as many as they need, an entry never
    split (so that no marker is lost; a label longer than a line is cut at its end)."""
    entries = [  # (the gap before it, the entry)
        (2, Text(f"{s.style.marker}{s.style.hollow} {s.label}", style=s.style.colour))
        for s in series
    ]
    if tail:
        entries.append((3, Text(tail, style="dim")))
    text = Text(no_wrap=True, overflow="ellipsis")
    used = 0
    for gap, entry in entries:
        if used and used + gap + entry.cell_len > width:
            text.append("\n")
            used = 0
        elif used:
            text.append(" " * gap)
            used += gap
        if entry.cell_len > width - used:
            entry.truncate(max(width - used, 1), overflow="ellipsis")
        text.append_text(entry)
        used += entry.cell_len
    return text


def render(figure: Figure, width: int, height: int) -> Text:
    """The figure as Rich Text of ``width`` x ``height`` cells: a title, the legend, the plot."""
    text = Text(no_wrap=True, overflow="crop")
    text.append(figure.title + "\n", style="bold")
    limits = y_range(figure)
    last = max((s.epochs[-1] * s.per_epoch for s in figure.series if s.epochs), default=0)
    if limits is None or last == 0 or height < 6 or width < 20:
        text.append("Nothing to draw yet: select runs with finished epochs.", style="dim")
        return text
    key = legend(figure.series, width, ZOOM_TEXT[figure.zoom])
    text.append_text(key)
    text.append("\n")
    lines = key.plain.count("\n") + 1
    if height - 1 - lines < 4:  # no room for a plot under a long legend
        return text
    text.append_text(_plot(figure, limits, max(last, 2), width, height - 1 - lines))
    return text


def _plot(
    figure: Figure, limits: tuple[float, float], last: float, width: int, height: int
) -> Text:
    import plotext as plt

    # A log axis is drawn as log10 of the values on a linear one, with the ticks named in
    # plain numbers: plotext's own log scale drops every point once ticks are set.
    scale = math.log10 if figure.log else float
    with _PLOTEXT:
        fig = plt.figure
        fig.clear()
        fig.theme("simple")
        fig.plot_size(width, height)
        for s in figure.series:
            pixel = plt.pixel(foreground=_rgb(s.style.colour))
            val, train = (
                [
                    (e * s.per_epoch, scale(v))
                    for e, v in zip(s.epochs, values, strict=True)
                    if _drawable(v, figure)
                ]
                for values in (s.val, s.train)
            )
            if len(val) > 1:
                xs, ys = zip(*val, strict=True)
                fig.draw(fig.signal(xs, ys, marker=plt.marker("braille", pixel)).lines())
            for points, marker in ((val, s.style.marker), (train, s.style.hollow)):
                if points:
                    xs, ys = zip(*points, strict=True)
                    fig.draw(fig.signal(xs, ys, marker=plt.marker(marker, pixel)))
            at = None if s.best_epoch is None else s.best_epoch * s.per_epoch
            best = dict(val).get(at) if at is not None else None
            if best is not None:
                fig.draw(fig.signal([at], [best], marker=plt.marker(BEST_MARKER, pixel)))
        fig.legend(False)
        x = fig.ruler(0)
        if figure.x_axis == "epochs":
            x.lim(1, last)
            ticks = _epoch_ticks(int(last), width)
            x.ticks(ticks, [str(t) for t in ticks])
        else:
            x.lim(0, last)
            marks = count_ticks(last, width)
            x.ticks(marks, [fmt_count(m) for m in marks])
        y = fig.ruler(1)
        y.lim(scale(limits[0]), scale(limits[1]))
        if figure.log:
            marks = _log_ticks(*limits)
            if len(marks) >= 2:
                y.ticks([math.log10(m) for m in marks], [f"{m:g}" for m in marks])
        return Text.from_ansi(fig.build().string())


def _drawable(value: float | None, figure: Figure) -> bool:
    return value is not None and (not figure.log or value > 0)


# --- gradient heat-strips -----------------------------------------------------------------------

SHADES = "·░▒▓█"
"""Heat-strip cells from the smallest to the largest gradient norm (readable without colour)."""
HEAT = ("#3a5fcd", "#1e90ff", "#3cb371", "#ffd700", "#ff4500")
"""The colour of each shade: blue (vanishing) to red (large)."""
HEAT_DECADES = (-8, 2)
"""The heat-strips' one scale, log10 of the norm from the first shade's lower edge to the
last's upper one (two decades a shade; beyond it, the end shades): fixed, so that a shade
means the same norm for every run, in every figure, on every screen, whatever else is shown."""


@dataclass(frozen=True)
class Strip:
    """One run's per-layer gradient norms per epoch."""

    label: str
    style: RunStyle
    layers: tuple[str, ...]
    norms: tuple[tuple[float | None, ...], ...]
    """One tuple per epoch, one norm per layer (None where it was not finite)."""
    bands: tuple[str, ...] = ()
    """Per layer, the last epoch's gradient band (``lessons.gradient_bands``); empty when the
    run has no epoch."""


def strips_of(
    runs: Sequence[tuple[str, Mapping[str, Any]]], styles: Sequence[RunStyle] | None = None
) -> list[Strip]:
    """The heat-strips of runs given as (label, history), in ``styles`` (as metric_figure)."""
    strips = []
    for (label, history), style in zip(runs, styles or _cycle(len(runs)), strict=True):
        norms = tuple(
            tuple(
                float(v) if isinstance(v, int | float) and math.isfinite(v) and v > 0 else None
                for v in record.get("grad_norm") or []
            )
            for record in history.get("epochs") or []
        )
        layers = tuple(str(name) for name in history.get("layers") or [])
        strips.append(Strip(label, style, layers, norms, _last_bands(history, len(layers))))
    return strips


def _last_bands(history: Mapping[str, Any], layers: int) -> tuple[str, ...]:
    """The last epoch's gradient band of each layer, by the lesson's rule."""
    epochs = history.get("epochs") or []
    if not epochs or not layers:
        return ()
    record = epochs[-1]
    norms = [v if isinstance(v, int | float) else math.inf for v in record.get("grad_norm") or []]
    updates = record.get("update_ratio")
    if len(norms) != layers:
        return ()
    if not isinstance(updates, list) or len(updates) != layers:
        updates = None
    return gradient_bands(norms, updates)


BAND_COLOURS = {dark: palette(dark).bands for dark in (True, False)}
"""Dark background or not -> band -> colour of its word at the end of a heat-strip row (as
the gradient panel's)."""
BAND_W = 10
"""Columns of the band word after a row."""


def _wrapped(parts: Sequence[Text], width: int) -> Text:
    """The parts joined by spaces, a new line before a part that would pass ``width`` (a
    caption read whole at 80 columns, not cut at the edge)."""
    text = Text()
    used = 0
    for part in parts:
        if used and used + 1 + part.cell_len > width:
            text.append("\n")
            used = 0
        elif used:
            text.append(" ")
            used += 1
        text.append_text(part)
        used += part.cell_len
    return text


def render_strips(strips: Sequence[Strip], width: int, dark: bool = True) -> Text:
    """Heat-strips: per run one row per layer (input at the top), one cell per epoch, the
    log10 of the layer's mean gradient norm as shade and colour, on one fixed scale
    (``HEAT_DECADES``), and with one epoch width for all runs (a column covers the same
    epochs in every strip: a shorter run ends sooner)."""
    text = Text(no_wrap=True, overflow="crop")
    if not any(v is not None for s in strips for epoch in s.norms for v in epoch):
        text.append("No gradient norms to show yet: select runs with finished epochs.", style="dim")
        return text
    low, high = HEAT_DECADES
    name_w = max((len(name) for s in strips for name in s.layers), default=3)
    room = max(width - name_w - 3 - BAND_W, 4)
    longest = max(len(s.norms) for s in strips)
    cell = 2 if 2 * longest <= room else 1
    buckets = _buckets(longest, room // cell)
    scale = Text(f"log scale: ≤1e{low} ")
    for shade, colour in zip(SHADES, HEAT, strict=True):
        scale.append(shade, style=colour)
    scale.append(f" ≥1e{high};")
    parts = [
        Text("gradient norm per layer (rows, input at the top) and epoch (columns),"),
        scale,
    ]
    if len(buckets) < longest:
        parts.append(Text(f"a column: {longest / len(buckets):.3g} epochs;", style="dim"))
    parts.append(Text("after each row its band in the last epoch"))
    text.append_text(_wrapped(parts, width))
    text.append("\n")
    for s in strips:
        epochs = len(s.norms)
        text.append(f"\n{s.style.marker} {s.label}", style=s.style.colour)
        text.append(f"  ({epochs} epochs)\n", style="dim")
        for layer, name in enumerate(s.layers):
            text.append(f" {name:>{name_w}} ", style="dim")
            for start, stop in buckets:
                if start >= epochs:  # a shorter run ends sooner; its band lines up
                    text.append(" " * cell)
                    continue
                values = [
                    math.log10(v)
                    for epoch in s.norms[start:stop]
                    if layer < len(epoch) and (v := epoch[layer]) is not None
                ]
                if not values:
                    text.append(" " * cell)
                    continue
                level = heat_level(sum(values) / len(values))
                text.append(SHADES[level] * cell, style=HEAT[level])
            if layer < len(s.bands):
                band = s.bands[layer]
                text.append(f" {band}", style=BAND_COLOURS[dark].get(band, "dim"))
            text.append("\n")
    return text


def heat_level(log_norm: float) -> int:
    """The shade (0 to len(SHADES) - 1) of a norm's log10 on the heat-strips' one scale."""
    low, high = HEAT_DECADES
    share = (log_norm - low) / (high - low)
    return min(max(int(share * len(SHADES)), 0), len(SHADES) - 1)


def _buckets(count: int, columns: int) -> list[tuple[int, int]]:
    """Split ``count`` epochs into at most ``columns`` consecutive groups (one group a cell)."""
    columns = max(min(columns, count), 1)
    edges = [round(i * count / columns) for i in range(columns + 1)]
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


# --- weight norms -------------------------------------------------------------------------------


def render_weight_norms(
    runs: Sequence[tuple[str, Mapping[str, Any]]],
    width: int,
    styles: Sequence[RunStyle] | None = None,
) -> Text:
    """Per run (label, history), each Linear layer's weight norm ‖W‖ in its last epoch as a bar,
    on one scale for every run, with the norm at the start: L2's smaller weights beside the
    baseline's. Runs written before weights were measured say so."""
    text = Text(no_wrap=True, overflow="crop")
    rows = [(label, history, _weight_norms(history)) for label, history in runs]
    largest = max((v for *_, (now, _) in rows for v in now if v is not None), default=0.0)
    if not largest > 0:
        text.append("No weight norms to show: select runs with finished epochs.", style="dim")
        return text
    text.append("weight norm ‖W‖ per layer in the last epoch (one scale for all runs; ")
    text.append("│ marks the norm at the start)\n")
    name_w = max((len(str(n)) for _, h, _ in rows for n in h.get("layers") or []), default=3)
    room = max(width - name_w - 24, 8)
    for (label, history, (now, start)), style in zip(
        rows, styles or _cycle(len(rows)), strict=True
    ):
        values = [v for v in now if v is not None]
        total = math.hypot(*values) if values and len(values) == len(now) else None
        text.append(f"\n{style.marker} {label}", style=style.colour)
        if not now:
            text.append("  (no weight norms: a run from before they were measured)\n", style="dim")
            continue
        summary = f"all layers {total:.3g}" if total is not None else "not all finite"
        text.append(f"  ({summary})\n", style="dim")
        for index, name in enumerate(history.get("layers") or []):
            value = now[index] if index < len(now) else None
            text.append(f" {name!s:>{name_w}} ", style="dim")
            cells = round(value / largest * room) if value is not None else 0
            bar = list("█" * cells + " " * (room - cells))
            begin = start[index] if index < len(start) else None
            if begin is not None and begin <= largest:
                bar[min(room - 1, round(begin / largest * room))] = "│"
            text.append("".join(bar), style=style.colour)
            shown = f"{value:.3g}" if value is not None else "-"
            text.append(f" {shown:>6}")
            if begin is not None:
                text.append(f" (start {begin:.3g})", style="dim")
            text.append("\n")
    return text


def _weight_norms(history: Mapping[str, Any]) -> tuple[list[float | None], list[float | None]]:
    """(the last epoch's weight norms, those at the start) of a history; empty lists where the
    run has none."""

    def numbers(values: Any) -> list[float | None]:
        if not isinstance(values, list):
            return []
        return [
            float(v) if isinstance(v, int | float) and math.isfinite(v) else None for v in values
        ]

    epochs = history.get("epochs") or []
    now = numbers(epochs[-1].get("weight_norm")) if epochs else []
    initial = history.get("initial")
    start = numbers(initial.get("weight_norm")) if isinstance(initial, dict) else []
    return now, start
