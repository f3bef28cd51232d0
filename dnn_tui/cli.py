"""The command line: ``dnn-tui [tui|train|presets|compare|eval|suite|watch|runs|export] ...``.

This module builds the parser from the command modules in ``dnn_tui.commands`` (one
module a command) and turns every failure into one line. Everything but ``tui`` runs
without any UI; ``tui`` imports the dashboard lazily, so this module never pulls in
Textual. torch is imported only by the commands that train or evaluate, so ``--help``,
``presets`` and ``compare`` start fast.

Exit codes: 0 completed or early-stopped; 1 a bad file, dataset or run, or a failure (one
line on stderr, no traceback); 2 the command line is wrong (a mistyped command, option or
name, a value outside its rule: the usage, then one line); 3 diverged; 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from dnn_tui import __version__
from dnn_tui.commands import (
    compare,
    evaluate,
    export,
    lr_find,
    presets,
    runs,
    suite,
    sweep,
    train,
    tui,
    watch,
)
from dnn_tui.commands.options import UsageError, config_from_args
from dnn_tui.fileio import ECHO_LIMIT, did_you_mean, error_line, visible
from dnn_tui.training.columns import fold, output_width
from dnn_tui.training.status import EXIT_OK, EXIT_USAGE, run_guarded

__all__ = ["build_parser", "config_from_args", "main"]

COMMANDS = (tui, train, presets, compare, evaluate, suite, sweep, watch, runs, export, lr_find)
"""The command modules, in the order ``--help`` lists them."""


def _listed_choices(action: argparse.Action) -> list[str]:
    """The values a ``{a,b,c}`` metavar lists (none for any other metavar)."""
    metavar = action.metavar
    if isinstance(metavar, str) and metavar.startswith("{") and metavar.endswith("}"):
        return metavar[1:-1].split(",")
    return []


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help in its width: a list of choices longer than half a line (a usage line
    cannot break inside it) is named in the usage (``--dataset DATASET``) and spelled out,
    wrapped, in the option's help."""

    def _long_choices(self, action: argparse.Action) -> list[str]:
        values = _listed_choices(action)
        return values if len(",".join(values)) + 2 > self._width // 2 else []

    def _metavar_formatter(
        self, action: argparse.Action, default_metavar: str
    ) -> Callable[[int], tuple[str, ...]]:
        if self._long_choices(action):
            name = action.dest.upper()
            return lambda size: (name,) * size
        return super()._metavar_formatter(action, default_metavar)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = super()._get_help_string(action)
        values = self._long_choices(action)
        if text and values:
            text += f"; {action.dest.upper()} is one of: {', '.join(values)}"
        return text


class CommandParser(argparse.ArgumentParser):
    """argparse with short error lines that suggest the closest name: its messages repeat the
    words it could not parse (``unrecognized arguments: ...``), which may be a pasted
    100,000-character value. Its help and errors fit the terminal's width."""

    words: Sequence[str] = ()
    """The command line being parsed (the root parser reports unknown options of a command)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        message += self._suggestion(message)
        long_word = re.compile(rf"\S{{{ECHO_LIMIT + 1},}}")
        message = long_word.sub(lambda m: f"{m[0][: ECHO_LIMIT - 1]}…", message)
        self.print_usage(sys.stderr)
        line = f"{self.prog}: error: {visible(message)}"
        self.exit(EXIT_USAGE, "\n".join(fold(line, output_width(sys.stderr))) + "\n")

    def _suggestion(self, message: str) -> str:
        """``did you mean`` for a mistyped command, choice or option (argparse 3.11 has none)."""
        choice = re.match(r"argument .*: invalid choice: '(.*)' \(choose from (.*)\)$", message)
        if choice:
            return did_you_mean(choice[1], re.findall(r"'([^']*)'", choice[2]))
        unknown = re.match(r"unrecognized arguments: (\S+)", message)
        if unknown and unknown[1].startswith("--"):
            return did_you_mean(unknown[1].split("=")[0], self._chosen_options())
        return ""

    def _chosen_options(self) -> list[str]:
        """The option strings of this parser, and of the command the words chose."""
        options = [o for action in self._actions for o in action.option_strings]
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction) and self.words:
                command = action.choices.get(self.words[0])
                if command is not None:
                    options += [o for a in command._actions for o in a.option_strings]
        return options


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
        parser = build_parser()
        parser.words = words
        args = parser.parse_args(words)
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
