"""``dnn-tui tui`` (and ``dnn-tui`` alone): the dashboard, its form filled from the options."""

from __future__ import annotations

import argparse
from pathlib import Path

from dnn_tui.commands.options import CommandError, add_run_options, config_from_args


def register(commands: argparse._SubParsersAction) -> None:
    tui = commands.add_parser("tui", help="open the dashboard (the default)")
    add_run_options(tui)
    tui.add_argument("--start", action="store_true", help="start the run at once")
    tui.add_argument(
        "--runs",
        metavar="DIR",
        default="runs",
        help="the runs folder: where runs started here are saved and what the runs list (v) "
        "shows (default: runs)",
    )
    tui.set_defaults(handler=_tui)


def _tui(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    runs = Path(args.runs)
    if runs.exists() and not runs.is_dir():
        raise CommandError(f"{runs}: --runs must be a folder, and this is a file")
    try:
        from dnn_tui.app.app import run_app
    except ImportError as error:
        raise CommandError(
            f"the dashboard cannot start ({error}); use `dnn-tui train` for a headless run"
        ) from None
    return run_app(config, start=args.start, run_root=runs)
