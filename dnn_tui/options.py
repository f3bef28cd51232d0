"""The run options: one table that the command line, the dashboard's form, config parsing and
the "used only when" rule all read.

Runs without any UI and without torch (it imports only the standard library). Each option is
named once here: the section of the config that holds it, how its text is read, its
command-line metavar and help, its row in the form (label and placeholder), its choices, and
the other setting that decides whether a run reads it at all. ``config`` turns texts into
values and checks them; ``commands.options`` builds argparse from the table and
``app.widgets.config_form`` builds the form from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "elu", "gelu")
INITS = ("default", "xavier", "he", "normal")
OPTIMIZERS = ("adam", "adamw", "sgd", "momentum", "rmsprop")
DATASETS = (
    "auto",
    "mnist",
    "fashion-mnist",
    "kmnist",
    "digits",
    "idx",
    "moons",
    "circles",
    "spiral",
)
DEVICES = ("auto", "cpu", "cuda", "mps")
SCHEDULES = ("none", "step", "cosine", "plateau")
"""Learning-rate schedules, stepped at epoch ends (``training.schedule``)."""
TORCHVISION_DATASETS = ("mnist", "fashion-mnist", "kmnist")
"""The datasets read from (and downloaded into) ``data_dir``; ``auto`` tries MNIST there."""

Section = Literal["model", "data", "train"]
"""The config section (a TOML table, a dataclass of ``config``) that holds an option."""
Kind = Literal["choice", "text", "switch"]
"""How an option is given: picked from a list, typed, or switched on and off."""
Syntax = Literal[
    "word", "bool", "integer", "number", "path", "widths", "dropout", "size", "norm", "threads"
]
"""How ``config.parse_option`` reads an option's text:

- ``word``: the text itself (a choice; validation checks it is one);
- ``bool``: true/on/yes/1 or false/off/no/0;
- ``integer``, ``number``: an ASCII decimal;
- ``path``: the text, or None when empty;
- ``widths``: hidden layer widths, ``100,50,20`` or ``64x10``; empty or ``none`` is no layer;
- ``dropout``: one probability, or one per hidden layer (``0.2,0.2,0``);
- ``size``: a positive integer, or ``full``;
- ``threads``: a positive integer, or ``auto``;
- ``norm``: a number, or empty/``off``/``none`` for None (clipping off).
"""


@dataclass(frozen=True)
class UsedWhen:
    """An option that a run reads only for some values of another option."""

    option: str
    """The option that decides (``dataset``, ``init``)."""
    values: tuple[str, ...]
    """The deciding option's values under which the run reads the option."""
    reason: str
    """Why the option is unused otherwise, without the deciding value:
    ``only read with dataset idx``."""

    def why_unused(self, deciding: str) -> str | None:
        """None when the run reads the option with the deciding option at ``deciding``;
        otherwise why it does not, naming that value. The CLI refuses an option given for
        nothing with this text, and the form hides the option's row."""
        if deciding in self.values:
            return None
        return f"{self.reason} (the {self.option} is {deciding})"


IDX_ONLY = UsedWhen("dataset", ("idx",), "only read with dataset idx")
"""The rule of the two IDX file options."""


@dataclass(frozen=True)
class Option:
    """One run option: everything the command line, the form and config parsing know of it."""

    name: str
    """The flat name: a field of its section, ``--`` plus dashes on the command line."""
    section: Section
    """The config section that holds it."""
    syntax: Syntax
    """How its text becomes a value (see ``Syntax``)."""
    metavar: str
    """The placeholder of its value in ``--help`` (empty for a switch, which takes none)."""
    help: str
    """Its ``--help`` line; argparse adds the default."""
    label: str
    """The label of its row in the form."""
    hint: str = ""
    """The placeholder of its text field in the form (empty: none)."""
    choices: tuple[str, ...] = ()
    """The values to pick from; empty for an option that is typed or switched."""
    used_when: UsedWhen | None = None
    """The setting that decides whether a run reads it; None: every run does."""

    @property
    def kind(self) -> Kind:
        """How it is given: a choice has choices, a switch reads as a bool, the rest is text."""
        if self.choices:
            return "choice"
        return "switch" if self.syntax == "bool" else "text"


def braces(values: Sequence[str]) -> str:
    """The metavar of a choice, as argparse writes one: ``{relu,tanh}``."""
    return "{" + ",".join(values) + "}"


def _choice(name: str, section: Section, values: tuple[str, ...], help: str, label: str) -> Option:
    return Option(name, section, "word", braces(values), help, label, choices=values)


OPTIONS: tuple[Option, ...] = (
    _choice(
        "dataset", "data", DATASETS, "the data; auto = MNIST, or digits when offline", "dataset"
    ),
    Option(
        "data_dir",
        "data",
        "path",
        "DIR",
        "download/cache folder of mnist, fashion-mnist, kmnist and auto",
        "data dir",
        hint="default: a per-user cache",
        used_when=UsedWhen(
            "dataset",
            ("auto", *TORCHVISION_DATASETS),
            f"only read by datasets auto, {', '.join(TORCHVISION_DATASETS)}",
        ),
    ),
    Option(
        "idx_images",
        "data",
        "path",
        "FILE",
        "IDX images file (only with --dataset idx)",
        "idx images",
        hint="…-images-idx3-ubyte.gz",
        used_when=IDX_ONLY,
    ),
    Option(
        "idx_labels",
        "data",
        "path",
        "FILE",
        "IDX labels file (only with --dataset idx)",
        "idx labels",
        hint="…-labels-idx1-ubyte.gz",
        used_when=IDX_ONLY,
    ),
    Option(
        "limit",
        "data",
        "integer",
        "N",
        "keep at most N training samples; 0 = all",
        "limit",
        hint="0 = all training samples",
    ),
    Option(
        "split_seed",
        "data",
        "integer",
        "N",
        "seed of the train/validation/test split; the same for every --seed",
        "split seed",
        hint="which samples are test",
    ),
    Option(
        "hidden",
        "model",
        "widths",
        "100,50,20",
        "hidden layer widths; none = no hidden layer",
        "hidden",
        hint="100,50,20 or 64x10",
    ),
    _choice("activation", "model", ACTIVATIONS, "activation of the hidden layers", "activation"),
    _choice("init", "model", INITS, "weight initialisation", "init"),
    Option(
        "init_std",
        "model",
        "number",
        "F",
        "standard deviation of --init normal (only with it)",
        "init std",
        hint="std of the normal init",
        used_when=UsedWhen("init", ("normal",), "only used by init normal"),
    ),
    Option(
        "dropout",
        "model",
        "dropout",
        "P[,P...]",
        "dropout after every hidden layer, or one value per layer",
        "dropout",
        hint="0.2 or 0.2,0.2,0",
    ),
    Option(
        "batchnorm",
        "model",
        "bool",
        "",
        "BatchNorm1d between each Linear and its activation",
        "batch norm",
    ),
    Option("l2", "train", "number", "LAMBDA", "L2 penalty on the Linear weights", "L2"),
    _choice(
        "optimizer",
        "train",
        OPTIMIZERS,
        "the optimizer (momentum = SGD with momentum 0.9)",
        "optimizer",
    ),
    Option("lr", "train", "number", "F", "learning rate", "learn rate"),
    _choice(
        "schedule",
        "train",
        SCHEDULES,
        "lr schedule at epoch ends: step = times --gamma every --step-size epochs, cosine = "
        "down to 0 over the epochs, plateau = times --gamma after --plateau-patience epochs "
        "without a better val loss",
        "schedule",
    ),
    Option(
        "step_size",
        "train",
        "integer",
        "N",
        "epochs between two lr cuts of --schedule step (only with it)",
        "step size",
        hint="epochs between lr cuts",
        used_when=UsedWhen("schedule", ("step",), "only used by schedule step"),
    ),
    Option(
        "gamma",
        "train",
        "number",
        "F",
        "the factor of each lr cut of --schedule step or plateau (only with them)",
        "lr factor",
        hint="lr times this at a cut",
        used_when=UsedWhen("schedule", ("step", "plateau"), "only used by schedules step, plateau"),
    ),
    Option(
        "plateau_patience",
        "train",
        "integer",
        "N",
        "epochs without a better val loss before --schedule plateau cuts the lr (only with it)",
        "plateau",
        hint="epochs without a better val loss",
        used_when=UsedWhen("schedule", ("plateau",), "only used by schedule plateau"),
    ),
    Option(
        "batch_size",
        "train",
        "size",
        "N|full",
        "samples per step; full = full-batch gradient descent",
        "batch size",
        hint="100 or full",
    ),
    Option("epochs", "train", "integer", "N", "passes over the training set", "epochs"),
    Option(
        "early_stopping",
        "train",
        "integer",
        "PATIENCE",
        "stop after PATIENCE epochs without a better val loss; 0 = off",
        "early stop",
        hint="patience; 0 = off",
    ),
    Option(
        "clip_norm",
        "train",
        "norm",
        "MAX",
        "clip the global gradient norm to MAX; off = no clipping",
        "clipping",
        hint="max norm",
    ),
    Option(
        "seed",
        "train",
        "integer",
        "N",
        "seed of init, dropout and batch order (same seed, same numbers on CPU)",
        "seed",
    ),
    _choice("device", "train", DEVICES, "where to train", "device"),
    Option(
        "threads",
        "train",
        "threads",
        "N|auto",
        "PyTorch threads; auto = the cores other processes leave idle, looked at again as the "
        "run goes",
        "threads",
        hint="auto or 1",
    ),
)
"""Every run option, in ``--help`` order (also the form's, below its preset picker)."""

OPTIONS_BY_NAME: dict[str, Option] = {option.name: option for option in OPTIONS}
"""Flat option name -> its entry in the table."""
