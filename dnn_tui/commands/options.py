"""What the commands share: exit codes, the run options and how they become a RunConfig.

Runs without any UI and without torch.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnn_tui.config import (
    ACTIVATIONS,
    DATASETS,
    DEVICES,
    INITS,
    OPTIMIZERS,
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
from dnn_tui.presets import load_preset

if TYPE_CHECKING:
    pass


class CommandError(Exception):
    """A command cannot do what was asked; the message says why and what to do instead."""


class UsageError(CommandError):
    """Options that are given for nothing or contradict each other: like argparse's own
    errors, the command line prints its usage and exits 2."""


def choices(values: Sequence[str]) -> str:
    return "{" + ",".join(values) + "}"


RUN_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("dataset", choices(DATASETS), "the data; auto = MNIST, or digits when offline"),
    ("data_dir", "DIR", "download/cache folder of mnist, fashion-mnist, kmnist and auto"),
    ("idx_images", "FILE", "IDX images file (only with --dataset idx)"),
    ("idx_labels", "FILE", "IDX labels file (only with --dataset idx)"),
    ("limit", "N", "keep at most N training samples; 0 = all"),
    ("hidden", "100,50,20", "hidden layer widths; none = no hidden layer"),
    ("activation", choices(ACTIVATIONS), "activation of the hidden layers"),
    ("init", choices(INITS), "weight initialisation"),
    ("init_std", "F", "standard deviation of --init normal (only with it)"),
    ("dropout", "P[,P...]", "dropout after every hidden layer, or one value per layer"),
    ("batchnorm", "", "BatchNorm1d between each Linear and its activation"),
    ("l2", "LAMBDA", "L2 penalty on the Linear weights"),
    ("optimizer", choices(OPTIMIZERS), "the optimizer (momentum = SGD with momentum 0.9)"),
    ("lr", "F", "learning rate"),
    ("batch_size", "N|full", "samples per step; full = full-batch gradient descent"),
    ("epochs", "N", "passes over the training set"),
    ("early_stopping", "PATIENCE", "stop after PATIENCE epochs without a better val loss; 0 = off"),
    ("clip_norm", "MAX", "clip the global gradient norm to MAX; off = no clipping"),
    ("seed", "N", "random seed (same seed, same numbers on CPU)"),
    ("device", choices(DEVICES), "where to train"),
)
"""Flat option name, metavar, help; the values are checked by config.validate, not argparse."""


def flag(name: str) -> str:
    """The command-line spelling of an option: ``idx_images`` -> ``--idx-images``."""
    return "--" + name.replace("_", "-")


def add_run_options(parser: argparse.ArgumentParser, *, source: bool = True) -> None:
    if source:
        start = parser.add_mutually_exclusive_group()
        start.add_argument("--preset", metavar="NAME", help="start from a preset (dnn-tui presets)")
        start.add_argument("--config", metavar="FILE.toml", help="start from a config file")
    group = parser.add_argument_group("run options (override the preset or config file)")
    defaults = RunConfig()
    for name, metavar, text in RUN_OPTIONS:
        default = format_option(option_value(defaults, name)) or "none"
        if name == "batchnorm":
            group.add_argument(flag(name), action=argparse.BooleanOptionalAction, help=text)
        else:
            group.add_argument(flag(name), metavar=metavar, help=f"{text} (default: {default})")
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
    print(f"dnn-tui: warning: {' '.join(text.split())}", file=sys.stderr)


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
    """
    preset, config_file = getattr(args, "preset", None), getattr(args, "config", None)
    if base is not None:
        config = base
    elif preset is not None:
        config = load_preset(preset)
    elif config_file is not None:
        if not config_file.strip():
            raise ConfigError("config: an empty file name; give a TOML file or leave --config out")
        config = load(Path(config_file))
    else:
        config = RunConfig()
    options = given_options(args, (name for name, _, _ in RUN_OPTIONS))
    config = validate(with_options(config, options))
    check_used(config, options)
    for text in notices(config):
        warn(text)
    return config
