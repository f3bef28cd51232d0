"""The configuration of a run: frozen dataclasses, validation and TOML files.

Runs without any UI and without torch: the dashboard validates its form with
these same rules while torch is still loading. The TOML layout is the one the
README documents (sections ``[model]``, ``[data]`` and ``[train]``); the flat
option names (``hidden``, ``lr`` ...) are the command-line options with dashes
turned into underscores.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import tomli_w

from dnn_tui.fileio import (
    ECHO_LIMIT,
    FileRefused,
    atomic_write_text,
    did_you_mean,
    read_small_file,
    shorten,
    shorten_path,
)
from dnn_tui.options import (
    ACTIVATIONS,
    DATASETS,
    DEVICES,
    INITS,
    OPTIMIZERS,
    OPTIONS,
    OPTIONS_BY_NAME,
    SCHEDULES,
    Syntax,
)

MAX_LAYER_WIDTH = 4096
"""Wider layers than this are almost certainly a typo (and would not fit a laptop)."""
MAX_DEPTH = 32
"""Deeper stacks than this teach nothing the 10-layer presets do not."""


class ConfigError(ValueError):
    """An invalid configuration value; the message names the field and the rule."""


@dataclass(frozen=True)
class ModelConfig:
    """The network: Linear -> [BatchNorm1d] -> activation -> [Dropout] per hidden layer."""

    hidden: tuple[int, ...] = (100, 50, 20)
    """Hidden layer widths, input side first; the output layer is added from the dataset."""
    activation: str = "relu"
    """Activation after every hidden layer."""
    init: str = "xavier"
    """Weight init. Xavier by default because Keras starts Dense layers Glorot-uniform."""
    init_std: float = 0.05
    """Standard deviation of the ``normal`` init; ignored by the others."""
    dropout: float | tuple[float, ...] = 0.0
    """Dropout probability after every hidden layer, or one value per hidden layer."""
    batchnorm: bool = False
    """BatchNorm1d between each hidden Linear and its activation."""

    def dropout_per_layer(self) -> tuple[float, ...]:
        """The dropout probability of each hidden layer."""
        if isinstance(self.dropout, tuple):
            return self.dropout
        return (self.dropout,) * len(self.hidden)


@dataclass(frozen=True)
class DataConfig:
    """Where the samples come from."""

    dataset: str = "auto"
    """``auto`` is MNIST when present or downloadable, else scikit-learn's digits."""
    data_dir: str | None = None
    """Download/cache folder for the torchvision datasets; None = a per-user cache."""
    idx_images: str | None = None
    """IDX image file for ``dataset = "idx"``."""
    idx_labels: str | None = None
    """IDX label file for ``dataset = "idx"``."""
    limit: int = 0
    """Keep at most this many training samples; 0 keeps all."""
    split_seed: int = 0
    """Seeds which samples are train, validation and test (and the points of a 2-D toy set),
    apart from ``train.seed``, so that runs of several training seeds share their test
    samples. A config file without it (every file written before it existed) splits by its
    ``train.seed``, as it did then: ``from_dict`` reads the absent key so."""


@dataclass(frozen=True)
class TrainConfig:
    """The optimisation loop."""

    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int | Literal["full"] = 100
    """Samples per step, or ``"full"`` for full-batch gradient descent."""
    epochs: int = 20
    l2: float = 0.0
    """Adds ``l2 * sum(W**2)`` over the Linear weights to the loss (Keras' kernel_regularizer)."""
    early_stopping: int = 0
    """Patience in epochs on validation loss; 0 = off (best weights are restored anyway)."""
    clip_norm: float | None = None
    """Clip the global gradient norm to this; None = clipping off."""
    seed: int = 0
    device: str = "auto"
    threads: int | Literal["auto"] = "auto"
    """PyTorch threads, or ``"auto"``: the idle cores, looked at again as the run goes (a
    second thread gains a small MLP little, and costs it up to 9x when another process holds
    a core). The count changes only the last bits of float32 sums: give a number for runs
    that repeat bit for bit on a machine whose load changes."""
    schedule: str = "none"
    """The learning-rate schedule, stepped at each epoch's end: ``step`` (torch's StepLR),
    ``cosine`` (CosineAnnealingLR over the run's epochs, down to 0), ``plateau``
    (ReduceLROnPlateau on the validation loss) or ``none``."""
    step_size: int = 10
    """Epochs between two cuts of the ``step`` schedule."""
    gamma: float = 0.1
    """What a cut of the ``step`` or ``plateau`` schedule multiplies the lr by."""
    plateau_patience: int = 2
    """Epochs without a better validation loss before the ``plateau`` schedule cuts the lr."""


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    preset: str | None = None
    """The preset this config came from (informational)."""
    description: str = ""
    """What the experiment demonstrates (informational)."""


SECTIONS: dict[str, type] = {"model": ModelConfig, "data": DataConfig, "train": TrainConfig}
OPTION_SECTION: dict[str, str] = {
    f.name: OPTIONS_BY_NAME[f.name].section for cls in SECTIONS.values() for f in fields(cls)
}
"""Flat option name -> the section that holds it (the option table's), in the order of the
sections' fields."""


# --- validation -----------------------------------------------------------------------------

FLOAT32_MAX = 3.4028234663852886e38
"""The largest float32: the weights, the optimizer's steps and the loss are float32, so a
larger learning rate, L2 factor or threshold overflows inside PyTorch mid-run."""
FLOAT32_TINY = 1.1754943508222875e-38
"""The smallest normal float32; smaller positive values flush to 0 on many devices, so a
learning rate below it would train nothing."""
INT64_MAX = 2**63 - 1
"""Counts and seeds are 64-bit integers in torch (and in most readers of history.json)."""
MAX_EPOCHS = 100_000
"""More epochs than this is a typo, not an experiment."""
MAX_NUMBER_CHARS = 64
"""Longest text read as a number: float32 needs 9 significant digits, int64 19; Python's
int() refuses more than 4300 digits with a message that names no option."""


def _finite(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name}: must be a number, got {shorten(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond any float
        raise ConfigError(f"{name}: must be a finite number, got {shorten(value)}") from None
    if not math.isfinite(number):
        raise ConfigError(f"{name}: must be a finite number, got {shorten(value)}")
    return number


def float32_setting(
    name: str, value: Any, *, zero: bool = False, called: str = "", how_to_turn_off: str = ""
) -> float:
    """The one rule for a positive real setting the engine hands to float32 tensors.

    A finite number, > 0 (or 0 when ``zero``), and within float32's normal range, so that
    PyTorch can neither overflow it ("value cannot be converted to type float without
    overflow") nor flush it to 0. The error names the option (``lr``); ``called`` also names
    the setting in words (``the learning rate``), and ``how_to_turn_off`` follows the rule of
    a setting that cannot be 0 to say how to turn it off instead. validate() and RunControls
    (what the dashboard changes mid-run) both call it.
    """
    number = _finite(name, value)
    what = f"{called} must be" if called else "must be"
    if number == 0 and zero:
        return 0.0
    if number <= 0:
        raise ConfigError(
            f"{name}: {what} {'>= 0' if zero else '> 0'}{how_to_turn_off}, got {number:g}"
        )
    if number > FLOAT32_MAX:
        raise ConfigError(
            f"{name}: {what} at most {FLOAT32_MAX:.4g} (the largest float32), got {number:g}"
        )
    if number < FLOAT32_TINY:
        raise ConfigError(
            f"{name}: {what} at least {FLOAT32_TINY:.4g} (smaller values are 0 in float32), "
            f"got {number:g}"
        )
    return number


def check_lr(value: Any) -> float:
    """The learning-rate rule (validate() and a mid-run change share it)."""
    return float32_setting("lr", value, called="the learning rate")


def check_clip_norm(value: Any) -> float:
    """The clipping-threshold rule (validate() and a mid-run change share it)."""
    return float32_setting(
        "clip_norm", value, how_to_turn_off=" (leave it out to turn clipping off)"
    )


def _integer(name: str, value: Any, low: int, high: int = INT64_MAX) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name}: must be an integer, got {shorten(value)}")
    if not low <= value <= high:
        top = "2**63 - 1" if high == INT64_MAX else str(high)
        raise ConfigError(f"{name}: must be an integer from {low} to {top}, got {shorten(value)}")
    return value


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(
            f"{name}: must be one of {', '.join(choices)}; got {shorten(value)}"
            + did_you_mean(value, choices)
        )
    return value


def _optional_path(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{name}: must be a path (a string), got {shorten(value)}")
    if value.strip() == "":
        raise ConfigError(f"{name}: an empty path; leave {name} out instead")
    return value


def _validate_model(m: ModelConfig) -> ModelConfig:
    if not isinstance(m.hidden, list | tuple):
        raise ConfigError(f"hidden: must be a list of positive integers, got {shorten(m.hidden)}")
    if len(m.hidden) > MAX_DEPTH:
        raise ConfigError(f"hidden: at most {MAX_DEPTH} hidden layers, got {len(m.hidden)}")
    hidden = tuple(_integer("hidden", h, 1, MAX_LAYER_WIDTH) for h in m.hidden)
    activation = _choice("activation", m.activation, ACTIVATIONS)
    init = _choice("init", m.init, INITS)
    init_std = float32_setting("init_std", m.init_std)
    if isinstance(m.dropout, list | tuple):
        if len(m.dropout) != len(hidden):
            raise ConfigError(
                f"dropout: a list needs one value per hidden layer ({len(hidden)}), "
                f"got {len(m.dropout)}"
            )
        dropout: float | tuple[float, ...] = tuple(_dropout(p) for p in m.dropout)
    else:
        dropout = _dropout(m.dropout)
    if not isinstance(m.batchnorm, bool):
        raise ConfigError(f"batchnorm: must be true or false, got {shorten(m.batchnorm)}")
    return ModelConfig(hidden, activation, init, init_std, dropout, m.batchnorm)


def _dropout(p: Any) -> float:
    value = _finite("dropout", p)
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"dropout: must be in [0, 1), got {value:g}")
    return value


def _validate_data(d: DataConfig) -> DataConfig:
    dataset = _choice("dataset", d.dataset, DATASETS)
    images = _optional_path("idx_images", d.idx_images)
    labels = _optional_path("idx_labels", d.idx_labels)
    if dataset == "idx" and (images is None or labels is None):
        raise ConfigError("idx_images, idx_labels: dataset 'idx' needs both files")
    return DataConfig(
        dataset=dataset,
        data_dir=_optional_path("data_dir", d.data_dir),
        idx_images=images,
        idx_labels=labels,
        limit=_integer("limit", d.limit, 0),
        split_seed=_integer("split_seed", d.split_seed, 0),
    )


def _batch_size(value: Any) -> int | Literal["full"]:
    """A positive integer, or the word ``full`` in any letter case (the CLI, the form and TOML
    files share this rule)."""
    if isinstance(value, str) and value.lower() == "full":
        return "full"
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= INT64_MAX:
        raise ConfigError(f"batch_size: must be a positive integer or 'full', got {shorten(value)}")
    return value


MAX_THREADS = 1024
"""The most PyTorch threads a run may ask for."""


def _threads(value: Any) -> int | Literal["auto"]:
    """A whole number of threads from 1 to ``MAX_THREADS``, or ``auto`` in any letter case."""
    if isinstance(value, str) and value.lower() == "auto":
        return "auto"
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_THREADS:
        raise ConfigError(
            f"threads: must be an integer from 1 to {MAX_THREADS} or 'auto', got {shorten(value)}"
        )
    return value


def _validate_train(t: TrainConfig) -> TrainConfig:
    optimizer = _choice("optimizer", t.optimizer, OPTIMIZERS)
    clip_norm = None if t.clip_norm is None else check_clip_norm(t.clip_norm)
    return TrainConfig(
        optimizer=optimizer,
        lr=check_lr(t.lr),
        batch_size=_batch_size(t.batch_size),
        epochs=_integer("epochs", t.epochs, 1, MAX_EPOCHS),
        l2=float32_setting("l2", t.l2, zero=True),
        early_stopping=_integer("early_stopping", t.early_stopping, 0, MAX_EPOCHS),
        clip_norm=clip_norm,
        seed=_integer("seed", t.seed, 0),
        device=_choice("device", t.device, DEVICES),
        threads=_threads(t.threads),
        schedule=_choice("schedule", t.schedule, SCHEDULES),
        step_size=_integer("step_size", t.step_size, 1, MAX_EPOCHS),
        gamma=_gamma(t.gamma),
        plateau_patience=_integer("plateau_patience", t.plateau_patience, 0, MAX_EPOCHS),
    )


def _gamma(value: Any) -> float:
    """A cut's factor: below 1 (a cut), and a float32 setting above 0."""
    number = float32_setting("gamma", value, called="the lr factor")
    if number >= 1:
        raise ConfigError(f"gamma: the lr factor must be below 1, got {number:g}")
    return number


def validate(config: RunConfig) -> RunConfig:
    """Check every field; return the normalised config or raise ConfigError naming the field."""
    if config.preset is not None and not isinstance(config.preset, str):
        raise ConfigError(f"preset: must be a string, got {shorten(config.preset)}")
    if not isinstance(config.description, str):
        raise ConfigError(f"description: must be a string, got {shorten(config.description)}")
    return RunConfig(
        model=_validate_model(config.model),
        data=_validate_data(config.data),
        train=_validate_train(config.train),
        preset=config.preset,
        description=config.description,
    )


def unused_options(config: RunConfig) -> dict[str, str]:
    """Settings of config that the run will not read -> why, naming the setting that decides.

    The option table's ``used_when`` decides (the form hides the same rows). A command-line
    option in this list was given for nothing (the CLI refuses it); a config file may hold
    such values (every saved config.toml holds init_std), so they are no error there. An
    option that is not set (None) is never in the list.
    """
    unused: dict[str, str] = {}
    for option in OPTIONS:
        if option.used_when is None or option_value(config, option.name) is None:
            continue
        why = option.used_when.why_unused(option_value(config, option.used_when.option))
        if why is not None:
            unused[option.name] = why
    return unused


def notices(config: RunConfig) -> list[str]:
    """Settings that are valid and used but cannot change anything: worth a warning."""
    found = []
    patience, epochs = config.train.early_stopping, config.train.epochs
    if patience > 0 and patience >= epochs:
        found.append(
            f"early_stopping: a patience of {patience} never stops a run of {epochs} "
            f"epoch{'s' if epochs != 1 else ''} (the best weights are restored anyway)"
        )
    return found


# --- flat options (command line, dashboard form) --------------------------------------------

_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}
_INT_TEXT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_FLOAT_TEXT = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?|inf|infinity|nan)",
    re.ASCII | re.IGNORECASE,
)
"""Numbers as written in ASCII. float() and int() also take other scripts' digits and
underscores, and str.isdigit() takes superscripts that int() then refuses."""


def _number_text(name: str, text: str, pattern: re.Pattern[str], kind: str) -> str:
    if len(text) > MAX_NUMBER_CHARS and pattern.fullmatch(text):
        raise ConfigError(
            f"{name}: {len(text)} characters is too long for a number "
            f"(at most {MAX_NUMBER_CHARS}); got {shorten(text)}"
        )
    if not pattern.fullmatch(text):
        raise ConfigError(f"{name}: must be {kind}, got {shorten(text)}")
    return text


def _parse_float(name: str, text: str) -> float:
    return float(_number_text(name, text, _FLOAT_TEXT, "a number"))


def _parse_int(name: str, text: str) -> int:
    return int(_number_text(name, text, _INT_TEXT, "an integer"))


def _parse_hidden(name: str, text: str) -> tuple[int, ...]:
    """``100,50,20``; ``64x10`` is ten layers of 64 (``256,64x8`` mixes both); empty or
    ``none``: no hidden layer, a linear model (softmax regression)."""
    if text == "" or text.lower() == "none":
        return ()
    widths: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        width, times, count = (q.strip() for q in part.lower().partition("x"))
        if not _INT_TEXT.fullmatch(width) or (times and not count.isdigit()):
            raise ConfigError(
                f"{name}: must be comma-separated positive integers like 100,50,20; "
                f"64x10 is ten layers of 64; got {shorten(text)}"
            )
        repeat = _parse_int(name, count) if times else 1
        if repeat < 1 or len(widths) + repeat > MAX_DEPTH:
            raise ConfigError(
                f"{name}: 1 to {MAX_DEPTH} hidden layers (64x10 = ten layers of 64); "
                f"got {shorten(text)}"
            )
        widths += [_parse_int(name, width)] * repeat
    return tuple(widths)


def format_hidden(hidden: tuple[int, ...]) -> str:
    """Hidden widths as ``parse_option`` reads them, runs of three or more as ``64x10``."""
    parts: list[str] = []
    index = 0
    while index < len(hidden):
        end = index
        while end < len(hidden) and hidden[end] == hidden[index]:
            end += 1
        run = end - index
        parts += [f"{hidden[index]}x{run}"] if run >= 3 else [str(hidden[index])] * run
        index = end
    return ",".join(parts)


def _parse_dropout(name: str, text: str) -> float | tuple[float, ...]:
    """One probability, or one per hidden layer."""
    values = tuple(_parse_float(name, p.strip()) for p in text.split(","))
    return values[0] if len(values) == 1 else values


def _parse_bool(name: str, text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ConfigError(f"{name}: must be true or false, got {shorten(text)}")


_READERS: dict[Syntax, Callable[[str, str], Any]] = {
    "word": lambda name, text: text,
    "bool": _parse_bool,
    "integer": _parse_int,
    "number": _parse_float,
    "path": lambda name, text: text or None,
    "widths": _parse_hidden,
    "dropout": _parse_dropout,
    "size": lambda name, text: "full" if text.lower() == "full" else _parse_int(name, text),
    "threads": lambda name, text: "auto" if text.lower() == "auto" else _parse_int(name, text),
    "norm": lambda name, text: (
        None if text.lower() in ("", "off", "none") else _parse_float(name, text)
    ),
}
"""How each ``Syntax`` of the option table reads a text: (option name, stripped text) -> value."""


def parse_option(name: str, text: str) -> Any:
    """Turn the text of an option (as typed on the command line or in a form) into its value.

    The option table's ``syntax`` says how. Only the syntax is checked here; ``validate``
    checks the rules. Numbers are ASCII decimals of at most ``MAX_NUMBER_CHARS`` characters;
    every error names the option and repeats the text shortened. An empty text is the
    option's "none" (no hidden layer, clipping off, no path), as an emptied form field means;
    the command line refuses empty values before they get here (an unset shell variable is
    not a choice).
    """
    option = OPTIONS_BY_NAME.get(name)
    if option is None:
        raise ConfigError(f"{shorten(name)}: not a run option")
    return _READERS[option.syntax](name, text.strip())


def with_options(config: RunConfig, options: Mapping[str, Any]) -> RunConfig:
    """Return config with the given flat options replaced (not validated)."""
    sections: dict[str, dict[str, Any]] = {}
    for name, value in options.items():
        if name not in OPTION_SECTION:
            raise ConfigError(f"{shorten(name)}: not a run option")
        sections.setdefault(OPTION_SECTION[name], {})[name] = value
    return replace(
        config,
        **{name: replace(getattr(config, name), **values) for name, values in sections.items()},
    )


def option_value(config: RunConfig, name: str) -> Any:
    """The value of a flat option in config."""
    return getattr(getattr(config, OPTION_SECTION[name]), name)


def format_option(value: Any) -> str:
    """The text form of an option value, as parse_option reads it back."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(format_option(v) for v in value)
    return str(value)


# --- dictionaries and TOML ------------------------------------------------------------------


def to_dict(config: RunConfig) -> dict[str, Any]:
    """A plain, JSON- and TOML-friendly dict; None values are left out (TOML has no null)."""
    out: dict[str, Any] = {}
    if config.preset is not None:
        out["preset"] = config.preset
    if config.description:
        out["description"] = config.description
    for section in SECTIONS:
        values = asdict(getattr(config, section))
        out[section] = {
            k: list(v) if isinstance(v, tuple) else v for k, v in values.items() if v is not None
        }
    return out


def key_text(text: str) -> str:
    """A TOML key for a message: bare when it reads as one, else quoted; never whole when long."""
    if text.isprintable() and not any(c.isspace() for c in text) and text:
        return text if len(text) <= ECHO_LIMIT else shorten(text)
    return shorten(text)


def from_dict(data: Mapping[str, Any], source: str = "config") -> RunConfig:
    """Build and validate a config from a dict laid out like the TOML file.

    Unknown keys and wrong types raise ConfigError naming the key and ``source``. A
    ``[data]`` table without ``split_seed`` splits by ``train.seed``: such a file was written
    before the split had a seed of its own, and so repeats its run; every config the tool
    writes holds the key.
    """
    try:
        top: dict[str, Any] = {}
        sections: dict[str, dict[str, Any]] = {}
        for key, value in data.items():
            if key in ("preset", "description"):
                top[key] = value
            elif key in SECTIONS:
                if not isinstance(value, Mapping):
                    raise ConfigError(f"[{key}]: must be a table, got {shorten(value)}")
                known = {f.name for f in fields(SECTIONS[key])}
                for sub in value:
                    if sub not in known:
                        names = ", ".join(sorted(known))
                        raise ConfigError(f"{key}.{key_text(sub)}: unknown key (known: {names})")
                sections[key] = {
                    k: tuple(v) if isinstance(v, list) else v for k, v in value.items()
                }
            else:
                raise ConfigError(
                    f"{key_text(key)}: unknown key (known: preset, description, model, data, train)"
                )
        config = validate(
            RunConfig(
                **{name: cls(**sections.get(name, {})) for name, cls in SECTIONS.items()}, **top
            )
        )
        if "split_seed" not in sections.get("data", {}):
            config = replace(config, data=replace(config.data, split_seed=config.train.seed))
        return config
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


MAX_CONFIG_BYTES = 1 << 20
"""Largest config file read: the biggest preset is under 1 kB; a megabyte is a wrong file."""
_LONG_INTEGER = re.compile(r"[0-9_]{4301,}")


def loads(text: str, source: str = "config") -> RunConfig:
    """Parse TOML text into a validated config."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from None
    except RecursionError:
        raise ConfigError(f"{source}: not valid TOML: arrays or tables nested too deeply") from None
    except ValueError:
        # tomllib hands an integer of more than 4300 digits to int(), which refuses it.
        found = _LONG_INTEGER.search(text)
        where = f" (at line {text.count(chr(10), 0, found.start()) + 1})" if found else ""
        raise ConfigError(f"{source}: not valid TOML: a number too long to read{where}") from None
    return from_dict(data, source)


def load(path: str | Path) -> RunConfig:
    """Read and validate a TOML config file: a regular file of at most MAX_CONFIG_BYTES.

    A FIFO would block the read and /dev/zero would never end it (see read_small_file).
    """
    path = Path(path)
    name = shorten_path(path)
    try:
        blob = read_small_file(path, MAX_CONFIG_BYTES)
    except FileRefused as error:
        raise ConfigError(f"{name}: {error.strerror}; a config file is a TOML file") from None
    except OSError as error:
        reason = error.strerror or error
        raise ConfigError(f"{name}: cannot read the config file: {reason}") from None
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: not a UTF-8 text file") from None
    return loads(text, name)


def dumps(config: RunConfig) -> str:
    """TOML text; ``loads(dumps(c)) == c`` for every valid config."""
    return tomli_w.dumps(to_dict(config))


def save(config: RunConfig, path: str | Path) -> None:
    """Write config as TOML, atomically."""
    atomic_write_text(Path(path), dumps(config))


def config_hash(config: RunConfig) -> str:
    """A short, stable fingerprint of the config (stored beside the weights)."""
    blob = json.dumps(to_dict(config), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def describe(config: RunConfig) -> str:
    """One line: architecture and the settings that differ between the presets."""
    m, t = config.model, config.train
    parts = ["-".join(map(str, m.hidden)) or "linear", m.activation, m.init]
    if any(m.dropout_per_layer()):
        parts.append("dropout " + format_option(m.dropout))
    if m.batchnorm:
        parts.append("batchnorm")
    if t.l2:
        parts.append(f"l2 {t.l2:g}")
    parts.append(f"{t.optimizer} lr {t.lr:g}")
    if t.schedule != "none":
        parts.append(f"{t.schedule} schedule")
    parts.append(f"batch {t.batch_size}")
    if t.clip_norm is not None:
        parts.append(f"clip {t.clip_norm:g}")
    return ", ".join(parts)
