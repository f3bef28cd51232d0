"""``dnn-tui compare``: saved runs side by side: a table, the settings that differ, the
train-validation gaps, the lesson's figures and the gradient heat-strips; or one tidy CSV.

Every run directory is read by the one loader (``runs.load_run``); a damaged one is
reported by file and reason at the end, the others are still compared, and the exit
code is then 1.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dnn_tui.analysis.figures import ZOOMS
from dnn_tui.commands.options import choices
from dnn_tui.fileio import visible
from dnn_tui.training.status import EXIT_ERROR, EXIT_OK

if TYPE_CHECKING:
    from rich.console import Console

    from dnn_tui.rundir.files import RunError, SavedRun

FIGURE_WIDTH = 100
"""Columns of the figures at most (a pipe gets exactly this many)."""


def register(commands: argparse._SubParsersAction) -> None:
    compare = commands.add_parser(
        "compare",
        help="compare saved runs: table, figures, differences; or a tidy CSV",
        epilog="A damaged run directory (a missing, truncated or wrongly typed file, a FIFO, "
        "a device, a huge file) is named with the reason at the end; the other runs are "
        "still compared, and the exit code is then 1.",
    )
    compare.add_argument("runs", metavar="RUN_DIR", nargs="+", type=Path)
    compare.add_argument(
        "--csv",
        metavar="FILE|-",
        help="write one tidy CSV instead (run, preset, epoch, every metric; - for stdout)",
    )
    compare.add_argument(
        "--zoom",
        metavar=choices(ZOOMS),
        choices=ZOOMS,
        default=ZOOMS[0],
        help="what the y-range of the figures fits (default: %(default)s)",
    )
    compare.add_argument(
        "--linear-loss", action="store_true", help="draw the loss on a linear scale (default: log)"
    )
    compare.set_defaults(handler=_compare)


def load_runs(paths: Sequence[Path]) -> tuple[list[SavedRun], list[RunError]]:
    """The runs that load, and the errors of those that do not, in the given order."""
    from dnn_tui.rundir.files import RunError, load_run

    loaded, damaged = [], []
    for path in paths:
        try:
            loaded.append(load_run(path))
        except RunError as error:
            damaged.append(error)
    return loaded, damaged


def _compare(args: argparse.Namespace) -> int:
    from dnn_tui.training.report import make_console

    loaded, damaged = load_runs(args.runs)
    if args.csv is not None:
        _write_csv(loaded, args.csv)
    elif loaded:
        print_comparison(loaded, make_console(), zoom=args.zoom, log=not args.linear_loss)
    for error in damaged:
        print(f"dnn-tui: damaged run: {visible(error)}", file=sys.stderr)
    return EXIT_ERROR if damaged else EXIT_OK


def _write_csv(runs: Sequence[SavedRun], target: str) -> None:
    from dnn_tui.analysis.comparison import tidy_csv, write_tidy_csv

    text = tidy_csv([(str(run.path), run.config.preset, run.history) for run in runs])
    if target == "-":
        sys.stdout.write(text)
        return
    write_tidy_csv(Path(target), text)
    rows = sum(len(run.history["epochs"]) for run in runs)
    print(f"wrote {visible(target)}: {rows} rows of {len(runs)} runs")


def print_comparison(
    runs: Sequence[SavedRun], console: Console, *, zoom: str = ZOOMS[0], log: bool = True
) -> None:
    """The runs, best validation accuracy first: a table, the settings that differ, the
    accuracy and loss figures and the gradient heat-strips (markers as in the table)."""
    from rich.table import Table

    from dnn_tui.analysis import figures
    from dnn_tui.analysis.comparison import run_labels
    from dnn_tui.rundir.liveness import shown_status
    from dnn_tui.rundir.readings import best_val_acc, gaps
    from dnn_tui.training.report import fmt_float

    def rank(run: SavedRun) -> float:
        best = best_val_acc(run.history)
        return -math.inf if best is None else best

    ordered = sorted(runs, key=rank, reverse=True)
    styles = [figures.STYLES[i % len(figures.STYLES)] for i in range(len(ordered))]
    # Folder names, presets and settings come from files: their control characters are shown.
    labels = [visible(label) for label in run_labels([(r.path, r.config.preset) for r in ordered])]
    table = Table(header_style="bold")
    table.add_column("", justify="right")
    table.add_column("run")
    table.add_column("data")
    for title in ("best epoch", "best val acc", "test acc", "gap last", "gap best"):
        table.add_column(title, justify="right")
    table.add_column("train loss", justify="right")
    table.add_column("val loss", justify="right")
    table.add_column("status")
    table.add_column("directory", overflow="fold")
    for style, label, run in zip(styles, labels, ordered, strict=True):
        last = run.history["epochs"][-1] if run.history["epochs"] else {}
        test = run.history.get("test") or {}
        best = run.history.get("best_epoch")
        gap = gaps(run.history)
        table.add_row(
            style.marker,
            label,
            visible((run.history["dataset"] or {}).get("name", run.config.data.dataset)),
            "-" if best is None else str(best),
            fmt_float(best_val_acc(run.history), ".4f"),
            fmt_float(test.get("acc"), ".4f"),
            fmt_float(gap.last, ".4f"),
            fmt_float(gap.best, ".4f"),
            fmt_float(last.get("train_loss"), ".4f"),
            fmt_float(last.get("val_loss"), ".4f"),
            visible(shown_status(run.history["status"], run.path)),
            visible(run.path),
        )
    console.print(table)
    console.print("gap: training minus validation accuracy, at the last and at the best epoch")
    if len(ordered) > 1:
        headers = [f"{style.marker} {label}" for style, label in zip(styles, labels, strict=True)]
        _print_differences(ordered, headers, console)
    width = min(console.width, FIGURE_WIDTH)
    pairs = [(label, run.history) for label, run in zip(labels, ordered, strict=True)]
    for metric, height in (("acc", 24), ("loss", 18)):
        figure = figures.metric_figure(pairs, metric, zoom=zoom, log=log)  # type: ignore[arg-type]
        console.print()
        console.print(figures.render(figure, width, height))
    console.print()
    console.print(figures.render_strips(figures.strips_of(pairs), width))
    console.print()
    console.print(figures.render_weight_norms(pairs, width))


def _print_differences(runs: Sequence[SavedRun], headers: Sequence[str], console: Console) -> None:
    """The settings whose values differ between the runs, a column per run."""
    from rich.table import Table

    from dnn_tui.analysis.comparison import config_differences

    differences = config_differences([run.config for run in runs])
    if not differences:
        console.print("\nthe runs have the same settings")
        return
    diff = Table(header_style="bold", title="settings that differ", title_justify="left")
    diff.add_column("setting")
    for header in headers:
        diff.add_column(header)
    for key, values in differences:
        diff.add_row(visible(key), *(visible(value) for value in values))
    console.print(diff)
