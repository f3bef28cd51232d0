"""``dnn-tui compare``: saved runs side by side, a table and their overlaid curves."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnn_tui.commands.options import EXIT_OK
from dnn_tui.config import describe

if TYPE_CHECKING:
    from rich.console import Console

    from dnn_tui.runs import SavedRun


def register(commands: argparse._SubParsersAction) -> None:
    compare = commands.add_parser("compare", help="compare saved runs")
    compare.add_argument("runs", metavar="RUN_DIR", nargs="+", type=Path)
    compare.set_defaults(handler=_compare)


def _compare(args: argparse.Namespace) -> int:
    from dnn_tui.report import make_console
    from dnn_tui.runs import load_run

    print_comparison([load_run(path) for path in args.runs], make_console())
    return EXIT_OK


_MARKERS = "123456789abcdefghijklmnopqrstuvwxyz"
"""The plot marker of each compared run, best first (``.`` for any beyond these)."""


def _finite(values: Sequence[Any]) -> list[float]:
    return [v for v in values if isinstance(v, int | float) and math.isfinite(v)]


def best_val_acc(run: SavedRun) -> float | None:
    """The highest validation accuracy of any epoch, or None without a finished epoch."""
    values = _finite([record.get("val_acc") for record in run.history["epochs"]])
    return max(values) if values else None


def print_comparison(runs: Sequence[SavedRun], console: Console) -> None:
    """A table of the runs, best validation accuracy first, and their val-accuracy curves."""
    from rich.table import Table

    from dnn_tui.report import fmt_float

    def rank(run: SavedRun) -> float:
        best = best_val_acc(run)
        return -math.inf if best is None else best

    ordered = sorted(runs, key=rank, reverse=True)
    markers = [_MARKERS[i] if i < len(_MARKERS) else "." for i in range(len(ordered))]
    table = Table(header_style="bold")
    table.add_column("#", justify="right")
    table.add_column("run")
    table.add_column("data")
    for title in ("best epoch", "best val acc", "test acc", "train loss", "val loss"):
        table.add_column(title, justify="right")
    table.add_column("status")
    table.add_column("directory", overflow="fold")
    for marker, run in zip(markers, ordered, strict=True):
        last = run.history["epochs"][-1] if run.history["epochs"] else {}
        test = run.history.get("test") or {}
        best = run.history.get("best_epoch")
        table.add_row(
            marker,
            run.config.preset or describe(run.config),
            str((run.history.get("dataset") or {}).get("name", run.config.data.dataset)),
            "-" if best is None else str(best),
            fmt_float(best_val_acc(run), ".4f"),
            fmt_float(test.get("acc"), ".4f"),
            fmt_float(last.get("train_loss"), ".4f"),
            fmt_float(last.get("val_loss"), ".4f"),
            str(run.history.get("status")),
            str(run.path),
        )
    console.print(table)
    curves = [
        (marker, [record.get("val_acc") for record in run.history["epochs"]])
        for marker, run in zip(markers, ordered, strict=True)
    ]
    plot = accuracy_plot(curves)
    if plot:
        console.print("\nvalidation accuracy per epoch (the # column marks each run):")
        console.print(plot, soft_wrap=True)


def accuracy_plot(
    curves: Sequence[tuple[str, Sequence[float | None]]], width: int = 60, height: int = 12
) -> str:
    """Plain-text overlaid curves, one marker character per run, ``*`` where they cross.

    Empty when there is nothing to draw (fewer than two epochs).
    """
    values = [v for _, curve in curves for v in _finite(curve)]
    epochs = max((len(curve) for _, curve in curves), default=0)
    if not values or epochs < 2:
        return ""
    low, high = min(values), max(values)
    if high - low < 1e-3:
        low, high = low - 5e-4, high + 5e-4
    grid = [[" "] * width for _ in range(height)]
    for marker, curve in curves:
        last = len(curve) - 1
        for x in range(width):
            position = x * (epochs - 1) / (width - 1)
            if position > last:
                break
            left = math.floor(position)
            a, b = curve[left], curve[min(left + 1, last)]
            if len(_finite([a, b])) < 2:
                continue
            value = a + (b - a) * (position - left)
            row = round((high - value) / (high - low) * (height - 1))
            grid[row][x] = marker if grid[row][x] in (" ", marker) else "*"
    lines = []
    for i, row in enumerate(grid):
        label = ""
        if i in (0, height // 2, height - 1):
            label = f"{high - (high - low) * i / (height - 1):.4f}"
        lines.append(f"{label:>7} |{''.join(row).rstrip()}")
    lines.append(" " * 8 + "+" + "-" * width)
    lines.append(" " * 8 + f"epoch 1{f'epoch {epochs}':>{width - 7}}")
    return "\n".join(lines)
