"""``dnn-tui runs [DIR] [--json]``: the runs under a folder (suites and sweeps included), with
their status, for people (a table) or scripts (JSON).

Reads only what the list shows (``dnn_tui.rundir.catalog``): each run's history.json and, for a
run that says it is running, its liveness record.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from dnn_tui.commands.options import CommandError
from dnn_tui.fileio import visible
from dnn_tui.training.columns import Column
from dnn_tui.training.status import EXIT_OK, say

if TYPE_CHECKING:
    from dnn_tui.rundir.catalog import RunEntry

DEFAULT_DIR = Path("runs")
BEST_MARK = "★"
"""Marks the best epoch's number, as the epoch table stars its row."""
BEST_LEGEND = (
    f"{BEST_MARK} best epoch (lowest val loss, its weights kept); val acc and test are that epoch's"
)


def register(commands: argparse._SubParsersAction) -> None:
    runs = commands.add_parser(
        "runs",
        help="list the runs under a folder, with their status",
        epilog="Statuses: running, interrupted (its process is gone), completed, early_stopped, "
        "stopped, diverged, pruned (stopped by a search's pruner), failed; and damaged, with the "
        "file and the reason on stderr.",
    )
    runs.add_argument(
        "folder",
        metavar="DIR",
        nargs="?",
        type=Path,
        default=DEFAULT_DIR,
        help="where to look, subfolders included (default: %(default)s)",
    )
    runs.add_argument("--json", action="store_true", help="one JSON array, for scripts")
    runs.set_defaults(handler=_runs)


def fmt_age(seconds: float | None) -> str:
    """How long ago: ``40s``, ``12m``, ``5h``, ``3d``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    seconds = max(seconds, 0.0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _runs(args: argparse.Namespace) -> int:
    from dnn_tui.rundir.catalog import list_runs

    folder: Path = args.folder
    if not folder.is_dir():
        raise CommandError(f"{folder}: no such folder (runs are saved under ./runs by default)")
    entries = list_runs(folder)
    now = time.time()
    if args.json:
        sys.stdout.write(json.dumps([entry.to_json(now) for entry in entries], indent=1) + "\n")
    else:
        _print_table(entries, folder, now)
    for entry in entries:
        if entry.damaged:
            say(f"dnn-tui: damaged run: {visible(entry.problem)}")
    return EXIT_OK


RUN_COLUMNS = (
    Column("run", 0, name_width=24, right=False),
    Column("preset", 4, name_width=8, right=False),
    Column("dataset", 6, name_width=6, right=False),
    Column("status", 2, name_width=9, right=False),
    Column("epochs", 5),
    Column("best", 3),
    Column("val acc", 1),
    Column("test", 1),
    Column("age", 7),
)
"""The listing's columns; at a narrow width the highest ranks are left out first, and the run
folder (the only unique name) is shortened (in the middle) only once the columns ranked
above KEY_AFTER are left out."""
KEY_AFTER = 3


def _print_table(entries: list[RunEntry], folder: Path, now: float) -> None:
    """Aligned plain columns, one line per run (Rich's table takes longer than the listing for
    1,000 runs); names, presets and datasets come from folders and files, so their control
    characters are shown."""
    from dnn_tui.training.columns import fit, left_out_note, output_width, plain_lines, wrapped
    from dnn_tui.training.numbers import fmt_acc

    if not entries:
        print(f"no runs under {visible(folder)}")
        return
    rows = []
    for entry in entries:
        age = fmt_age(None if entry.modified is None else now - entry.modified)
        if entry.damaged:
            rows.append((visible(entry.name), "", "", "damaged", "", "", "", "", age))
            continue
        planned = f"/{entry.planned}" if entry.planned is not None else ""
        rows.append(
            (
                visible(entry.name),
                visible(entry.preset or "custom"),
                visible(entry.dataset or "-"),
                visible(entry.status),
                f"{entry.epochs}{planned}",
                "-" if entry.best_epoch is None else f"{BEST_MARK}{entry.best_epoch}",
                fmt_acc(entry.best_val_acc),
                fmt_acc(entry.test_acc),
                age,
            )
        )
    width = output_width()
    layout = fit(RUN_COLUMNS, rows, width, wrap=False, key_after=KEY_AFTER)
    lines = plain_lines(RUN_COLUMNS, rows, layout) + wrapped(BEST_LEGEND, width)
    note = left_out_note(layout, width)
    lines += wrapped(note, width) if note else []
    sys.stdout.write("\n".join(lines) + "\n")
