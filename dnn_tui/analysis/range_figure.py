"""The figure of a learning-rate range test: the smoothed loss against the lr on a log axis,
the suggested lr marked. ``dnn-tui lr-find`` prints it and the dashboard's lr-find screen
shows it, both through ``render_range_test``.

Runs without any UI: plotext draws into Rich ``Text``, as the comparison figures do (and
under their lock: plotext draws on one module-level figure).
"""

from __future__ import annotations

import math

from rich.text import Text

from dnn_tui.analysis.figures import _PLOTEXT, _log_ticks
from dnn_tui.training.lr_range import RangeTest

LINE = "#5fafff"
MARK = "#ffaf5f"
SUGGESTED_MARKER = "★"


def suggestion_line(test: RangeTest) -> str:
    """One line: the suggested lr, or why there is none; and why the test stopped early."""
    if test.suggestion is None:
        text = f"no suggestion: {len(test.lrs)} steps are too few to tell"
    else:
        text = f"suggested lr {test.suggestion:.3g} (steepest fall of the smoothed loss)"
    if test.stopped:
        text += f"; stopped early: {test.stopped}"
    return text


def render_range_test(test: RangeTest, width: int, height: int) -> Text:
    """The figure as Rich Text of ``width`` x ``height`` cells: a title line, then the plot."""
    text = Text(no_wrap=True, overflow="crop")
    text.append(f"loss (smoothed) by learning rate, {SUGGESTED_MARKER} suggested\n", style="bold")
    if len(test.lrs) < 2 or height < 6 or width < 20:
        text.append("Nothing to draw: fewer than two steps were taken.", style="dim")
        return text
    text.append_text(_plot(test, width, height - 1))
    return text


def _plot(test: RangeTest, width: int, height: int) -> Text:
    import plotext as plt

    xs = [math.log10(lr) for lr in test.lrs]
    ys = list(test.smoothed)
    # The y range: from the lowest loss to a little above the first, so the divergence's last
    # climb does not flatten the fall the suggestion reads.
    low, high = min(ys), max(ys[0], min(max(ys), 2 * ys[0])) * 1.05
    if high <= low:
        high = low + 1.0
    with _PLOTEXT:
        fig = plt.figure
        fig.clear()
        fig.theme("simple")
        fig.plot_size(width, height)
        line = plt.pixel(foreground=(95, 175, 255))
        fig.draw(fig.signal(xs, [min(y, high) for y in ys], marker=plt.marker("braille", line)))
        step = test.suggested_step
        if step is not None:
            mark = plt.pixel(foreground=(255, 175, 95))
            fig.draw(fig.signal([xs[step]], [ys[step]], marker=plt.marker(SUGGESTED_MARKER, mark)))
        fig.legend(False)
        x = fig.ruler(0)
        x.lim(xs[0], xs[-1])
        marks = _log_ticks(test.lrs[0], test.lrs[-1])
        if len(marks) > 8:
            marks = marks[:: math.ceil(len(marks) / 8)]
        if len(marks) >= 2:
            x.ticks([math.log10(m) for m in marks], [f"{m:g}" for m in marks])
        fig.ruler(1).lim(low, high)
        return Text.from_ansi(fig.build().string())
