"""``dnn-tui lr-find``: the learning-rate range test for a run's settings, headless.

A throwaway model of the settings takes a few hundred steps at exponentially growing
learning rates (``dnn_tui.training.lr_range``); prints the figure of the loss against the lr
and the suggested lr, or (``--json``) the numbers. Nothing is written to disk.
"""

from __future__ import annotations

import argparse
import json
import sys

from dnn_tui.commands.options import UsageError, add_run_options, config_from_args
from dnn_tui.training.status import EXIT_OK

FIGURE_WIDTH, FIGURE_HEIGHT = 80, 20
"""The figure's cells at most (a terminal narrower than 80 columns gets its width)."""


def register(commands: argparse._SubParsersAction) -> None:
    lr_find = commands.add_parser(
        "lr-find",
        help="the learning-rate range test: suggest a learning rate for the settings",
        epilog="The lr grows exponentially from --min-lr to --max-lr over --steps steps of a "
        "throwaway model (no run directory is written); the test stops early when the "
        "smoothed loss passes 4x its best. The suggestion is the lr where the smoothed loss "
        "falls fastest against log(lr).",
    )
    add_run_options(lr_find)
    sweep = lr_find.add_argument_group("range test")
    sweep.add_argument("--min-lr", metavar="F", default="1e-7", help="first lr (default: 1e-7)")
    sweep.add_argument("--max-lr", metavar="F", default="10", help="last lr (default: 10)")
    sweep.add_argument("--steps", metavar="N", default="300", help="steps at most (default: 300)")
    sweep.add_argument(
        "--json", action="store_true", help="print lrs, losses and the suggestion as JSON"
    )
    lr_find.set_defaults(handler=_lr_find)


def _lr_find(args: argparse.Namespace) -> int:
    from dnn_tui.config import ConfigError
    from dnn_tui.training.lr_range import LrSweep

    config = config_from_args(args)
    try:
        sweep = LrSweep(
            _read("min_lr", "lr", args.min_lr),
            _read("max_lr", "lr", args.max_lr),
            _read("steps", "epochs", args.steps),
        ).check()
    except ConfigError as error:
        raise UsageError(str(error)) from None

    from dnn_tui.analysis.range_figure import render_range_test, suggestion_line
    from dnn_tui.data import load_data
    from dnn_tui.training.lr_range import range_test
    from dnn_tui.training.report import make_console

    test = range_test(config, load_data(config), sweep)
    if args.json:
        sys.stdout.write(json.dumps(test.to_dict(), indent=1, allow_nan=False) + "\n")
        return EXIT_OK
    console = make_console()
    width = min(FIGURE_WIDTH, console.width)
    console.print(render_range_test(test, width, FIGURE_HEIGHT))
    console.print(suggestion_line(test), soft_wrap=True)
    return EXIT_OK


def _read(name: str, like: str, text: str) -> float | int:
    """The text of a range-test setting read as the run option ``like`` reads its own; a
    ConfigError names the setting."""
    from dnn_tui.config import ConfigError, parse_option

    try:
        return parse_option(like, text)
    except ConfigError as error:
        raise ConfigError(f"{name}:{str(error).partition(':')[2]}") from None
