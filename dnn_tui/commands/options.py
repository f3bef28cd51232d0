"""What the commands share: exit codes, the run options and how they become a RunConfig.

Runs without any UI and without torch.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnn_tui.config import (
    ACTIVATIONS,
    DATASETS,
    DEVICES,
    INITS,
    OPTIMIZERS,
    RunConfig,
    format_option,
    load,
    option_value,
    parse_option,
    validate,
    with_options,
)
from dnn_tui.presets import load_preset

if TYPE_CHECKING:
    from dnn_tui.data import Dataset

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """A command cannot do what was asked; the message says why and what to do instead."""


def choices(values: Sequence[str]) -> str:
    return "{" + ",".join(values) + "}"


RUN_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("dataset", choices(DATASETS), "the data; auto = MNIST, or digits when offline"),
    ("data_dir", "DIR", "download/cache folder of the torchvision datasets"),
    ("idx_images", "FILE", "IDX images file (--dataset idx)"),
    ("idx_labels", "FILE", "IDX labels file (--dataset idx)"),
    ("limit", "N", "keep at most N training samples; 0 = all"),
    ("hidden", "100,50,20", "hidden layer widths"),
    ("activation", choices(ACTIVATIONS), "activation of the hidden layers"),
    ("init", choices(INITS), "weight initialisation"),
    ("init_std", "F", "standard deviation of --init normal"),
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


def add_run_options(parser: argparse.ArgumentParser, *, source: bool = True) -> None:
    if source:
        start = parser.add_mutually_exclusive_group()
        start.add_argument("--preset", metavar="NAME", help="start from a preset (dnn-tui presets)")
        start.add_argument(
            "--config", metavar="FILE.toml", type=Path, help="start from a config file"
        )
    group = parser.add_argument_group("run options (override the preset or config file)")
    defaults = RunConfig()
    for name, metavar, text in RUN_OPTIONS:
        flag = "--" + name.replace("_", "-")
        default = format_option(option_value(defaults, name)) or "none"
        if name == "batchnorm":
            group.add_argument(flag, action=argparse.BooleanOptionalAction, help=text)
        else:
            group.add_argument(flag, metavar=metavar, help=f"{text} (default: {default})")


def config_from_args(args: argparse.Namespace, base: RunConfig | None = None) -> RunConfig:
    """RunConfig defaults <- preset or config file (or base) <- the given options; validated."""
    if base is not None:
        config = base
    elif getattr(args, "preset", None):
        config = load_preset(args.preset)
    elif getattr(args, "config", None):
        config = load(args.config)
    else:
        config = RunConfig()
    options: dict[str, Any] = {}
    for name, _, _ in RUN_OPTIONS:
        value = getattr(args, name)
        if value is not None:
            options[name] = value if isinstance(value, bool) else parse_option(name, value)
    return validate(with_options(config, options))


def load_data(config: RunConfig) -> Dataset:
    """The dataset config names (torch loads here)."""
    from dnn_tui.data import load_dataset

    return load_dataset(config.data, seed=config.train.seed)
