"""The command line: ``dnn-tui [tui|train|presets|compare|eval|suite|watch|runs] ...``.

This module builds the parser from the command modules in ``dnn_tui.commands`` (one
module a command) and turns every failure into one line. Everything but ``tui`` runs
without any UI; ``tui`` imports the dashboard lazily, so this module never pulls in
Textual. torch is imported only by the commands that train or evaluate, so ``--help``,
``presets`` and ``compare`` start fast.

Exit codes: 0 completed or early-stopped; 1 invalid input or a failure (one line
on stderr, no traceback); 2 usage error; 3 diverged; 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from dnn_tui import __version__
from dnn_tui.commands import compare, evaluate, presets, runs, suite, sweep, train, tui, watch
from dnn_tui.commands.options import UsageError, config_from_args
from dnn_tui.fileio import ECHO_LIMIT, error_line, visible
from dnn_tui.training.status import EXIT_OK, EXIT_USAGE, run_guarded

__all__ = ["build_parser", "config_from_args", "main"]

COMMANDS = (tui, train, presets, compare, evaluate, suite, sweep, watch, runs)
"""The command modules, in the order ``--help`` lists them."""


class CommandParser(argparse.ArgumentParser):
    """argparse with short error lines: its messages repeat the words it could not parse
    (``unrecognized arguments: ...``), which may be a pasted 100,000-character value."""

    def error(self, message: str) -> NoReturn:
        long_word = re.compile(rf"\S{{{ECHO_LIMIT + 1},}}")
        message = long_word.sub(lambda m: f"{m[0][: ECHO_LIMIT - 1]}…", message)
        super().error(visible(message))


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of every command (subparsers take the class of their parent)."""
    parser = CommandParser(
        prog="dnn-tui",
        description="A deep-learning lab in the terminal: train MLPs with PyTorch and watch "
        "their gradients. Without a command it opens the dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"dnn-tui {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or (words[0].startswith("-") and words[0] not in ("-h", "--help", "--version")):
        words.insert(0, "tui")
    try:
        args = build_parser().parse_args(words)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code not in (0, None) else EXIT_OK
    return run_guarded(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    """The command; a UsageError prints the command's usage and exits 2, as argparse does."""
    try:
        return args.handler(args)
    except UsageError as error:
        with contextlib.suppress(SystemExit):
            args.parser.error(error_line(error))
        return EXIT_USAGE
