"""Run directories: what a run leaves on disk, and how it is read back.

Runs without any UI; torch and safetensors are imported only when weights are
written or read. A run directory holds (every file written atomically):

- ``config.toml``: the fully resolved config; ``dnn-tui train --config`` repeats the run.
- ``history.json``: strict JSON (non-finite numbers are ``null``), schema 2 (schema 1, the
  same without the activation figures, still loads). While the
  run goes on its ``status`` is ``"running"``, and the file is rewritten after every
  epoch, so an interrupted run keeps the epochs it finished; at the end the status is
  ``completed``, ``early_stopped``, ``stopped`` or ``diverged``.
- ``history.csv``: one row per epoch, the scalar columns of the epoch records
  (non-finite values are empty cells).
- ``model.safetensors``: the best epoch's weights, with metadata ``config_hash`` and
  ``epoch`` (``"0"`` when the run ended before its first epoch). Weights are never
  read with pickle.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnn_tui.config import ConfigError, RunConfig, load
from dnn_tui.liveness import LIVENESS_FILE

if TYPE_CHECKING:
    from torch import Tensor

SCHEMA = 2
"""The version of history.json's layout that runs write. 2 added the activation figures:
``activations``, ``initial`` and the ``act_*`` keys of the epoch records."""
READABLE_SCHEMAS = (1, 2)
"""The versions the loader accepts."""
RUNNING = "running"
"""history.json's status while the run is still going (or was killed without a chance to end)."""

CONFIG_FILE = "config.toml"
HISTORY_FILE = "history.json"
HISTORY_CSV = "history.csv"
WEIGHTS_FILE = "model.safetensors"
EVENTS_FILE = "events.jsonl"
"""The run's events as they happen, one JSON object a line (any process can follow it)."""
CONTROL_FILE = "control.jsonl"
"""Steering requests to the run from other processes, one JSON object a line."""
LOG_FILE = "output.log"
"""What a background run printed."""
RUN_FILES = frozenset(
    {
        CONFIG_FILE,
        HISTORY_FILE,
        HISTORY_CSV,
        WEIGHTS_FILE,
        EVENTS_FILE,
        CONTROL_FILE,
        LOG_FILE,
        LIVENESS_FILE,
    }
)
"""Every file a run directory may hold."""
MAX_HISTORY_BYTES = 64 * 1024 * 1024
"""history.json larger than this is not read (100,000 epochs of a 32-layer model fit)."""

CSV_COLUMNS = (
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "lr",
    "seconds",
    "samples_per_s",
    "grad_norm_total",
    "clipped_fraction",
    "act_std_first",
    "act_std_last",
    "act_saturated_max",
    "act_dead_max",
)
"""The scalar columns of an epoch record, in history.csv's order. The ``act_*`` ones come
from the record's per-layer lists: the first and the last hidden layer's activation std,
and the largest saturated or dead share of any hidden layer (empty when not measured or
when the share does not apply to the activation)."""


def has_ended(run_dir: Path) -> bool:
    """Whether the run's history.json says it ended (its process may live on: a dashboard)."""
    from dnn_tui.fileio import read_small_file

    try:
        status = json.loads(read_small_file(run_dir / HISTORY_FILE, MAX_HISTORY_BYTES))["status"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return isinstance(status, str) and status != RUNNING


class RunError(Exception):
    """A run directory or one of its files is missing or invalid; the message names the file."""


def strict_json(value: Any) -> Any:
    """value with every non-finite float replaced by None and tuples turned into lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    return value


def dumps_history(history: dict[str, Any]) -> str:
    """history.json's text: strict JSON (no NaN/Infinity), indented for people."""
    return json.dumps(strict_json(history), indent=2, allow_nan=False) + "\n"


def history_csv(epochs: list[dict[str, Any]]) -> str:
    """history.csv's text: a header and one row per epoch record."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in epochs:
        writer.writerow(_csv_cell(_csv_value(record, column)) for column in CSV_COLUMNS)
    return out.getvalue()


def _csv_value(record: dict[str, Any], column: str) -> Any:
    """The record's value for a column; the ``act_*`` columns are taken from its lists."""
    derived = {
        "act_std_first": ("act_std", lambda v: v[0]),
        "act_std_last": ("act_std", lambda v: v[-1]),
        "act_saturated_max": ("act_saturated", max),
        "act_dead_max": ("act_dead", max),
    }
    if column not in derived:
        return record.get(column)
    key, pick = derived[column]
    values = record.get(key)
    if not isinstance(values, list) or not values or None in values:
        return None
    return pick(values)


def _csv_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return str(value)


@dataclass(frozen=True)
class SavedRun:
    """A run directory read back from disk."""

    path: Path
    config: RunConfig
    """config.toml, validated."""
    history: dict[str, Any]
    """history.json as written (non-finite numbers are None)."""
    weights: Path | None
    """model.safetensors, or None when the run saved no weights."""

    @property
    def label(self) -> str:
        """The preset name, or the run directory's name for a custom config."""
        return self.config.preset or self.path.name


def load_run(run_dir: str | Path) -> SavedRun:
    """Read a run directory; RunError names the missing or invalid file."""
    path = Path(run_dir)
    if not path.exists():
        raise RunError(f"{path}: no such run directory")
    if not path.is_dir():
        raise RunError(f"{path}: not a run directory (it is a file)")
    config_path = path / CONFIG_FILE
    if not config_path.is_file():
        raise RunError(f"{config_path}: missing; {path} is not a run directory")
    try:
        config = load(config_path)
    except ConfigError as error:
        raise RunError(str(error)) from None
    history = _load_history(path / HISTORY_FILE)
    weights = path / WEIGHTS_FILE
    return SavedRun(path, config, history, weights if weights.is_file() else None)


def _load_history(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunError(f"{path}: missing; the run wrote no history") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RunError(f"{path}: cannot read: {error}") from None
    try:
        history = json.loads(text)
    except json.JSONDecodeError as error:
        raise RunError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(history, dict):
        raise RunError(f"{path}: must hold a JSON object")
    if history.get("schema") not in READABLE_SCHEMAS:
        raise RunError(
            f"{path}: schema must be one of {', '.join(map(str, READABLE_SCHEMAS))}, "
            f"got {history.get('schema')!r}"
        )
    if not isinstance(history.get("epochs"), list) or not all(
        isinstance(record, dict) for record in history["epochs"]
    ):
        raise RunError(f"{path}: 'epochs' must be a list of epoch records")
    return history


def load_weights(path: str | Path) -> dict[str, Tensor]:
    """Read a safetensors file (never pickle); RunError when it is missing or not safetensors."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RunError(f"{path}: cannot read the weights: {error.strerror or error}") from None
    try:
        return load(data)
    except (SafetensorError, ValueError, RuntimeError) as error:
        raise RunError(f"{path}: not a valid safetensors file ({error})") from None
