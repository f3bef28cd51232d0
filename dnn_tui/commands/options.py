"""What the commands share: exit codes, the run options and how they become a RunConfig.

Runs without any UI and without torch.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from dnn_tui.config import (
    ConfigError,
    RunConfig,
    format_option,
    load,
    notices,
    option_value,
    parse_option,
    unused_options,
    validate,
    with_options,
)
from dnn_tui.fileio import visible
from dnn_tui.options import OPTIONS, braces
from dnn_tui.presets import EDITED, load_preset, same_experiment
from dnn_tui.training.status import say

if TYPE_CHECKING:
    from dnn_tui.rundir.files import RunError

_T = TypeVar("_T")


class CommandError(Exception):
    """A command cannot do what was asked; the message says why and what to do instead."""


class UsageError(CommandError):
    """Options that are given for nothing or contradict each other: like argparse's own
    errors, the command line prints its usage and exits 2."""


choices = braces
"""A metavar that lists the values (``{relu,tanh}``), as the run options' choices show them."""

RUN_OPTIONS: tuple[str, ...] = tuple(option.name for option in OPTIONS)
"""The run options' flat names in ``--help`` order (the table is ``dnn_tui.options``); the
values are checked by config.validate, not argparse."""


def flag(name: str) -> str:
    """The command-line spelling of an option: ``idx_images`` -> ``--idx-images``."""
    return "--" + name.replace("_", "-")


def add_run_options(parser: argparse.ArgumentParser, *, source: bool = True) -> None:
    """Add every option of the table (``dnn_tui.options``), and with ``source`` the preset or
    config file they override; a switch is ``--name``/``--no-name``, the rest take a value."""
    if source:
        start = parser.add_mutually_exclusive_group()
        start.add_argument("--preset", metavar="NAME", help="start from a preset (dnn-tui presets)")
        start.add_argument("--config", metavar="FILE.toml", help="start from a config file")
    group = parser.add_argument_group("run options (override the preset or config file)")
    defaults = RunConfig()
    for option in OPTIONS:
        name = flag(option.name)
        if option.kind == "switch":
            group.add_argument(name, action=argparse.BooleanOptionalAction, help=option.help)
        else:
            default = format_option(option_value(defaults, option.name)) or "none"
            group.add_argument(
                name, metavar=option.metavar, help=f"{option.help} (default: {default})"
            )
    parser.set_defaults(parser=parser)  # a UsageError prints this command's usage


def given_options(args: argparse.Namespace, names: Iterable[str]) -> dict[str, Any]:
    """The options given on the command line, parsed; an empty value is refused by name.

    On a command line an empty value is nearly always an unset shell variable
    (``--data-dir "$DIR"``), so it is not taken to mean the default.
    """
    options: dict[str, Any] = {}
    for name in names:
        value = getattr(args, name, None)
        if value is None:
            continue
        if isinstance(value, str) and not value.strip():
            hint = " (--hidden none: no hidden layer)" if name == "hidden" else ""
            raise ConfigError(f"{name}: an empty value; leave {flag(name)} out{hint}")
        options[name] = value if isinstance(value, bool) else parse_option(name, value)
    return options


def check_used(config: RunConfig, given: Iterable[str]) -> None:
    """UsageError when an option given on the command line is one the run would not read."""
    unused = unused_options(config)
    for name in given:
        if name in unused:
            raise UsageError(f"{flag(name)}: {unused[name]}")


def print_warning(text: str) -> None:
    """A warning on stderr: the run goes ahead."""
    say(f"dnn-tui: warning: {' '.join(text.split())}")


def say_run_error(error: RunError) -> None:
    """A run that did not load, on stderr: an ``error`` where no run directory is, a ``damaged
    run`` where one is."""
    from dnn_tui.rundir.files import NO_SUCH_RUN

    kind = "error" if error.rule == NO_SUCH_RUN else "damaged run"
    say(f"dnn-tui: {kind}: {visible(error)}")


def config_from_args(
    args: argparse.Namespace,
    base: RunConfig | None = None,
    *,
    warn: Callable[[str], None] = print_warning,
) -> RunConfig:
    """RunConfig defaults <- preset or config file (or base) <- the given options; validated.

    Options given for nothing (``--idx-images`` without dataset idx, ``--init-std`` without
    init normal, ``--data-dir`` with a dataset that is not downloaded) raise UsageError;
    settings that cannot change the run (a patience of at least the epochs) are warned about.
    A ``--preset`` whose experiment the options change is ``NAME (edited)``, as the
    dashboard's form names it: its lesson line and run folder do not claim the preset's.
    """
    preset, config_file = getattr(args, "preset", None), getattr(args, "config", None)
    if base is not None:
        config = base
    elif preset is not None:
        config = _typed(load_preset, preset)
    elif config_file is not None:
        if not config_file.strip():
            raise UsageError("config: an empty file name; give a TOML file or leave --config out")
        config = load(Path(config_file))
    else:
        config = RunConfig()
    options = _typed(given_options, args, RUN_OPTIONS)
    config = _typed(lambda: validate(with_options(config, options)))
    if base is None and preset is not None and not same_experiment(config, load_preset(preset)):
        config = replace(config, preset=preset + EDITED)
    check_used(config, options)
    for text in notices(config):
        warn(text)
    return config


def _typed(read: Callable[..., _T], *args: Any) -> _T:
    """read(*args), its ConfigError a UsageError: the command line is wrong, not a file, so
    the exit code is 2 like any other mistyped option (a config file's errors exit 1)."""
    try:
        return read(*args)
    except ConfigError as error:
        raise UsageError(str(error)) from None
