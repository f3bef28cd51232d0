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
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

import tomli_w

from dnn_tui.fileio import atomic_write_text

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
    f.name: section for section, cls in SECTIONS.items() for f in fields(cls)
}
"""Flat option name -> the section that holds it."""


# --- validation -----------------------------------------------------------------------------


def _finite(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name}: must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{name}: must be a finite number, got {value!r}")
    return float(value)


def _integer(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name}: must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        rule = f">= {low}" if high is None else f"from {low} to {high}"
        raise ConfigError(f"{name}: must be an integer {rule}, got {value}")
    return value


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{name}: must be one of {', '.join(choices)}; got {value!r}")
    return value


def _optional_path(name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{name}: must be a path (a string), got {value!r}")
    return value


def _validate_model(m: ModelConfig) -> ModelConfig:
    if not isinstance(m.hidden, list | tuple):
        raise ConfigError(f"hidden: must be a list of positive integers, got {m.hidden!r}")
    if len(m.hidden) > MAX_DEPTH:
        raise ConfigError(f"hidden: at most {MAX_DEPTH} hidden layers, got {len(m.hidden)}")
    hidden = tuple(_integer("hidden", h, 1, MAX_LAYER_WIDTH) for h in m.hidden)
    activation = _choice("activation", m.activation, ACTIVATIONS)
    init = _choice("init", m.init, INITS)
    init_std = _finite("init_std", m.init_std)
    if init_std <= 0:
        raise ConfigError(f"init_std: must be > 0, got {init_std}")
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
        raise ConfigError(f"batchnorm: must be true or false, got {m.batchnorm!r}")
    return ModelConfig(hidden, activation, init, init_std, dropout, m.batchnorm)


def _dropout(p: Any) -> float:
    value = _finite("dropout", p)
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"dropout: must be in [0, 1), got {value}")
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
    )


def _validate_train(t: TrainConfig) -> TrainConfig:
    optimizer = _choice("optimizer", t.optimizer, OPTIMIZERS)
    lr = _finite("lr", t.lr)
    if lr <= 0:
        raise ConfigError(f"lr: the learning rate must be > 0, got {lr}")
    batch_size = t.batch_size
    if batch_size != "full" and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ConfigError(f"batch_size: must be a positive integer or 'full', got {batch_size!r}")
    l2 = _finite("l2", t.l2)
    if l2 < 0:
        raise ConfigError(f"l2: must be >= 0, got {l2}")
    clip_norm = t.clip_norm
    if clip_norm is not None:
        clip_norm = _finite("clip_norm", clip_norm)
        if clip_norm <= 0:
            raise ConfigError(
                f"clip_norm: must be > 0 (leave it out to turn clipping off), got {clip_norm}"
            )
    return TrainConfig(
        optimizer=optimizer,
        lr=lr,
        batch_size=batch_size,
        epochs=_integer("epochs", t.epochs, 1, 100_000),
        l2=l2,
        early_stopping=_integer("early_stopping", t.early_stopping, 0),
        clip_norm=clip_norm,
        seed=_integer("seed", t.seed, 0, 2**63 - 1),
        device=_choice("device", t.device, DEVICES),
    )


def validate(config: RunConfig) -> RunConfig:
    """Check every field; return the normalised config or raise ConfigError naming the field."""
    if config.preset is not None and not isinstance(config.preset, str):
        raise ConfigError(f"preset: must be a string, got {config.preset!r}")
    if not isinstance(config.description, str):
        raise ConfigError(f"description: must be a string, got {config.description!r}")
    return RunConfig(
        model=_validate_model(config.model),
        data=_validate_data(config.data),
        train=_validate_train(config.train),
        preset=config.preset,
        description=config.description,
    )


# --- flat options (command line, dashboard form) --------------------------------------------

_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}


def _parse_float(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"{name}: must be a number, got {text!r}") from None


def _parse_int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{name}: must be an integer, got {text!r}") from None


def parse_option(name: str, text: str) -> Any:
    """Turn the text of an option (as typed on the command line or in a form) into its value.

    Only the syntax is checked here; ``validate`` checks the rules.
    """
    text = text.strip()
    if name == "hidden":
        if text == "":
            return ()
        parts = [p.strip() for p in text.split(",")]
        if not all(p.lstrip("-").isdigit() for p in parts):
            raise ConfigError(
                f"hidden: must be comma-separated positive integers like 100,50,20; got {text!r}"
            )
        return tuple(int(p) for p in parts)
    if name == "dropout":
        parts = [p.strip() for p in text.split(",")]
        values = tuple(_parse_float("dropout", p) for p in parts)
        return values[0] if len(values) == 1 else values
    if name == "batch_size":
        return "full" if text.lower() == "full" else _parse_int("batch_size", text)
    if name == "clip_norm":
        return None if text.lower() in ("", "off", "none") else _parse_float("clip_norm", text)
    if name == "batchnorm":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ConfigError(f"batchnorm: must be true or false, got {text!r}")
    if name in ("lr", "l2", "init_std"):
        return _parse_float(name, text)
    if name in ("epochs", "early_stopping", "seed", "limit"):
        return _parse_int(name, text)
    if name in ("data_dir", "idx_images", "idx_labels"):
        return text or None
    if name in OPTION_SECTION:
        return text
    raise ConfigError(f"{name}: not a run option")


def with_options(config: RunConfig, options: Mapping[str, Any]) -> RunConfig:
    """Return config with the given flat options replaced (not validated)."""
    sections: dict[str, dict[str, Any]] = {}
    for name, value in options.items():
        if name not in OPTION_SECTION:
            raise ConfigError(f"{name}: not a run option")
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


def from_dict(data: Mapping[str, Any], source: str = "config") -> RunConfig:
    """Build and validate a config from a dict laid out like the TOML file.

    Unknown keys and wrong types raise ConfigError naming the key and ``source``.
    """
    try:
        top: dict[str, Any] = {}
        sections: dict[str, dict[str, Any]] = {}
        for key, value in data.items():
            if key in ("preset", "description"):
                top[key] = value
            elif key in SECTIONS:
                if not isinstance(value, Mapping):
                    raise ConfigError(f"[{key}]: must be a table")
                known = {f.name for f in fields(SECTIONS[key])}
                for sub in value:
                    if sub not in known:
                        raise ConfigError(
                            f"{key}.{sub}: unknown key (known: {', '.join(sorted(known))})"
                        )
                sections[key] = {
                    k: tuple(v) if isinstance(v, list) else v for k, v in value.items()
                }
            else:
                raise ConfigError(
                    f"{key}: unknown key (known: preset, description, model, data, train)"
                )
        config = RunConfig(
            **{name: cls(**sections.get(name, {})) for name, cls in SECTIONS.items()}, **top
        )
        return validate(config)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


def loads(text: str, source: str = "config") -> RunConfig:
    """Parse TOML text into a validated config."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from None
    return from_dict(data, source)


def load(path: str | Path) -> RunConfig:
    """Read and validate a TOML config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        reason = error.strerror or error
        raise ConfigError(f"{path}: cannot read the config file: {reason}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    return loads(text, str(path))


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
    parts.append(f"batch {t.batch_size}")
    if t.clip_norm is not None:
        parts.append(f"clip {t.clip_norm:g}")
    return ", ".join(parts)
