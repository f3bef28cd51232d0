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

from dnn_tui.analysis.figures import X_AXES, ZOOMS
from dnn_tui.commands.options import UsageError, choices, say_run_error
from dnn_tui.fileio import visible
from dnn_tui.training.columns import Column, left_out_note, rich_table
from dnn_tui.training.numbers import fmt_acc, fmt_gap, fmt_loss
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
    compare.add_argument(
        "runs", metavar="RUN_DIR", nargs="+", type=Path, help="run directories to compare"
    )
    compare.add_argument(
        "--csv",
        metavar="FILE|-",
        help="write one tidy CSV instead (run, preset, epoch, every metric; - for stdout)",
    )
    compare.add_argument(
        "--per-layer",
        action="store_true",
        help="with --csv: add a gradient-norm column per Linear layer (grad_norm.fc1, ...)",
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
    compare.add_argument(
        "--per-class",
        action="store_true",
        help="instead: each run's test accuracy class by class, side by side (evaluation.json)",
    )
    compare.add_argument(
        "--x",
        dest="x_axis",
        metavar=choices(X_AXES),
        choices=X_AXES,
        default=X_AXES[0],
        help="what the figures' x axis counts: epochs, optimizer steps taken or training "
        "samples seen (the batching lesson is per step; default: %(default)s)",
    )
    compare.add_argument(
        "--importance",
        action="store_true",
        help="of a sweep folder: how much each searched option mattered (fANOVA shares of "
        "the best validation loss, summing to 1) and a parallel-coordinates figure",
    )
    compare.add_argument(
        "--json", action="store_true", help="with --importance: one JSON object on stdout"
    )
    compare.set_defaults(handler=_compare, parser=compare)


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

    if args.per_layer and args.csv is None:
        raise UsageError("--per-layer adds columns to the tidy CSV: give --csv FILE|- too")
    if args.importance or args.json:
        return _importance(args)
    loaded, damaged = load_runs(args.runs)
    if args.csv is not None:
        _write_csv(loaded, args.csv, per_layer=args.per_layer)
    elif args.per_class:
        damaged += print_per_class(loaded, make_console())
    elif loaded:
        print_comparison(
            loaded, make_console(), zoom=args.zoom, log=not args.linear_loss, x_axis=args.x_axis
        )
    for error in damaged:
        say_run_error(error)
    return EXIT_ERROR if damaged else EXIT_OK


def _importance(args: argparse.Namespace) -> int:
    """``compare SWEEP_DIR --importance [--json]``."""
    import json

    from dnn_tui.commands.options import CommandError, UsageError
    from dnn_tui.fileio import shorten_path
    from dnn_tui.sweeps.importance import (
        ImportanceError,
        importance_bars,
        parallel_coordinates,
        what_mattered,
    )
    from dnn_tui.sweeps.planning import read_state
    from dnn_tui.training.report import make_console

    if not args.importance or len(args.runs) != 1:
        raise UsageError("--importance takes one sweep folder (--json only with --importance)")
    root = args.runs[0]
    state = read_state(root)
    if state is None:
        raise CommandError(f"{shorten_path(root)}: not a sweep folder (no readable sweep.json)")
    try:
        result = what_mattered(root, state)
    except ImportanceError as error:
        raise CommandError(f"{shorten_path(root)}: {error}") from None
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
        return EXIT_OK
    console = make_console()
    width = min(FIGURE_WIDTH, console.width)
    console.print(
        f"What mattered ({len(result.points)} of {result.runs} runs with a result; "
        "fANOVA shares of the best validation loss):",
        style="bold",
        markup=False,
    )
    longest = max(len(name) for name in result.importance)  # a bar, its name and its share fit
    console.print(importance_bars(result, max(10, min(width - 30, width - longest - 8))))
    console.print("One line per run (green: lowest best validation loss):", style="bold")
    console.print(parallel_coordinates(result, width, 12))
    return EXIT_OK


def _write_csv(runs: Sequence[SavedRun], target: str, *, per_layer: bool = False) -> None:
    from dnn_tui.analysis.comparison import tidy_csv, write_tidy_csv

    named = [(str(run.path), run.config.preset, run.history) for run in runs]
    text = tidy_csv(named, per_layer=per_layer)
    if target == "-":
        sys.stdout.write(text)
        return
    write_tidy_csv(Path(target), text)
    rows = sum(len(run.history["epochs"]) for run in runs)
    print(f"wrote {visible(target)}: {rows} rows of {len(runs)} runs")


def print_comparison(
    runs: Sequence[SavedRun],
    console: Console,
    *,
    zoom: str = ZOOMS[0],
    log: bool = True,
    x_axis: str = X_AXES[0],
) -> None:
    """The runs, the best epoch's validation accuracy first: a table, the settings that
    differ, the accuracy and loss figures, the gradient heat-strips and the weight norms
    (markers as in the table, each run's the one its preset prefers, as in the dashboard)."""
    from dnn_tui.analysis import figures
    from dnn_tui.analysis.comparison import run_labels
    from dnn_tui.rundir.readings import best_val_acc

    def rank(run: SavedRun) -> float:
        best = best_val_acc(run.history)
        return -math.inf if best is None else best

    ordered = sorted(runs, key=rank, reverse=True)
    styles = figures.pick_styles([run.config.preset for run in ordered])
    # Folder names, presets and settings come from files: their control characters are shown.
    labels = [visible(label) for label in run_labels([(r.path, r.config.preset) for r in ordered])]
    _print_table(ordered, [style.marker for style in styles], labels, console)
    if len(ordered) > 1:
        headers = [f"{style.marker} {label}" for style, label in zip(styles, labels, strict=True)]
        _print_differences(ordered, headers, console)
    width = min(console.width, FIGURE_WIDTH)
    pairs = [(label, run.history) for label, run in zip(labels, ordered, strict=True)]
    for metric, height in (("acc", 24), ("loss", 18)):
        figure = figures.metric_figure(
            pairs,
            metric,  # type: ignore[arg-type]
            zoom=zoom,
            log=log,
            styles=styles,
            x_axis=x_axis,  # type: ignore[arg-type]
        )
        console.print()
        console.print(figures.render(figure, width, height))
    console.print()
    console.print(figures.render_strips(figures.strips_of(pairs, styles), width))
    console.print()
    console.print(figures.render_weight_norms(pairs, width, styles))


TABLE_COLUMNS = (
    Column("", 0),
    Column("run", 2, name_width=10, right=False),
    Column("data", 9, name_width=6, right=False),
    Column("best epoch", 0),
    Column("best val acc", 0),
    Column("test acc", 1),
    Column("top val acc", 5),
    Column("gap last", 6),
    Column("gap best", 7),
    Column("train loss", 8),
    Column("val loss", 4),
    Column("status", 3, name_width=9, right=False),
    Column("directory", 0, name_width=20, right=False),
)
"""The comparison's columns; at a narrow width the highest ranks are left out first."""


def _print_table(
    runs: Sequence[SavedRun], markers: Sequence[str], labels: Sequence[str], console: Console
) -> None:
    """A row per run: its best epoch (lowest validation loss, the weights kept), that
    epoch's validation and test accuracy, the top validation accuracy, gaps, last losses."""
    from dnn_tui.rundir.liveness import shown_status
    from dnn_tui.rundir.readings import best_val_acc, gaps, max_val_acc
    from dnn_tui.training.report import width_of

    rows = []
    for marker, label, run in zip(markers, labels, runs, strict=True):
        last = run.history["epochs"][-1] if run.history["epochs"] else {}
        test = run.history.get("test") or {}
        best = run.history.get("best_epoch")
        gap = gaps(run.history)
        rows.append(
            [
                marker,
                label,
                visible((run.history["dataset"] or {}).get("name", run.config.data.dataset)),
                "-" if best is None else str(best),
                fmt_acc(best_val_acc(run.history)),
                fmt_acc(test.get("acc") if best is not None else None),
                fmt_acc(max_val_acc(run.history)),
                fmt_gap(gap.last),
                fmt_gap(gap.best),
                fmt_loss(last.get("train_loss")),
                fmt_loss(last.get("val_loss")),
                visible(shown_status(run.history["status"], run.path)),
                visible(run.path),
            ]
        )
    width = width_of(console)
    table, layout = rich_table(TABLE_COLUMNS, rows, width)
    console.print(table)
    words = [
        "best epoch: the lowest validation loss, whose weights are kept; best val acc and test acc"
        " are that epoch's; top val acc: the highest of any epoch",
        "gap: training minus validation accuracy, at the last and at the best epoch",
    ]
    note = left_out_note(layout, width)
    for line in [*words, *([note] if note else [])]:
        console.print(line, overflow="fold")


def _print_differences(runs: Sequence[SavedRun], headers: Sequence[str], console: Console) -> None:
    """The settings whose values differ between the runs, a column per run."""
    from dnn_tui.analysis.comparison import config_differences

    differences = config_differences([run.config for run in runs])
    if not differences:
        console.print("\nthe runs have the same settings")
        return
    from dnn_tui.training.report import width_of

    columns = [Column(title, 0, name_width=10, right=False) for title in ("setting", *headers)]
    rows = [[visible(key), *(visible(value) for value in values)] for key, values in differences]
    diff, _ = rich_table(columns, rows, width_of(console), title="settings that differ")
    console.print(diff)


def print_per_class(runs: Sequence[SavedRun], console: Console) -> list[RunError]:
    """Each run's per-class test accuracy, a column per run (in the given order); returns the
    errors of the evaluation.json files that are damaged (those runs show ``-``)."""
    from dnn_tui.analysis.comparison import run_labels
    from dnn_tui.analysis.errors import per_class_table
    from dnn_tui.rundir.files import EVALUATION_FILE, RunError, load_evaluation
    from dnn_tui.training.report import width_of

    labels = run_labels([(run.path, run.config.preset) for run in runs])
    evaluations, damaged = [], []
    for run in runs:
        try:
            evaluations.append(load_evaluation(run.path))
        except RunError as error:
            evaluations.append(None)
            damaged.append(error)
    header, rows = per_class_table(list(zip(labels, evaluations, strict=True)))
    columns = [Column(header[0], 0, name_width=6, right=False)]
    columns += [Column(title, 0, name_width=6) for title in header[1:]]
    table, _ = rich_table(columns, rows, width_of(console), title="test accuracy per class")
    console.print(table)
    broken = {error.file for error in damaged}
    missing = [
        visible(run.path)
        for run, e in zip(runs, evaluations, strict=True)
        if e is None and run.path / EVALUATION_FILE not in broken
    ]
    if missing:
        console.print(
            "no evaluation.json (a run from before it, or one without a test split): "
            + ", ".join(missing)
            + "; dnn-tui eval RUN_DIR --confusion evaluates one from its weights",
            overflow="fold",
        )
    return damaged
