"""Run directories: what a run leaves on disk, and how it is read back.

Runs without any UI; torch and safetensors are imported only when weights are
written or read. A run directory holds (every file written atomically):

- ``config.toml``: the fully resolved config; ``dnn-tui train --config`` repeats the run.
- ``history.json``: strict JSON (non-finite numbers are ``null``), schema 1. While the
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
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnn_tui.config import ConfigError, RunConfig, config_hash, dumps, load, to_dict
from dnn_tui.fileio import atomic_write_bytes, atomic_write_text
from dnn_tui.training.events import EpochEnded, Event, RunFinished, RunStarted

if TYPE_CHECKING:
    from torch import Tensor

SCHEMA = 1
"""The version of history.json's layout."""
RUNNING = "running"
"""history.json's status while the run is still going (or was killed without a chance to end)."""

CONFIG_FILE = "config.toml"
HISTORY_FILE = "history.json"
HISTORY_CSV = "history.csv"
WEIGHTS_FILE = "model.safetensors"

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
)
"""The scalar columns of an epoch record, in history.csv's order."""


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
        writer.writerow(_csv_cell(record.get(column)) for column in CSV_COLUMNS)
    return out.getvalue()


def _csv_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return str(value)


def default_run_dir(preset: str | None, root: Path = Path("runs")) -> Path:
    """``root/<YYYYmmdd-HHMMSS>-<preset or "custom">``, suffixed ``-2``, ``-3`` ... if taken."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", preset or "custom").strip("-.") or "custom"
    base = root / f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


class RunRecorder:
    """An event sink that keeps a run directory up to date as the run goes on.

    ``RunStarted`` creates the directory and writes config.toml, history.json (status
    ``running``) and history.csv (header only); each ``EpochEnded`` rewrites both
    histories; ``RunFinished`` writes the final status and model.safetensors.
    """

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.history: dict[str, Any] | None = None
        """history.json's content as last written; None before RunStarted."""
        self._hash = ""

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._started(event)
        elif isinstance(event, EpochEnded):
            history = self._require(event)
            history["epochs"].append(event.record)
            history["best_epoch"] = event.best_epoch
            self._write_history(history)
        elif isinstance(event, RunFinished):
            history = self._require(event)
            history.update(
                status=event.status,
                best_epoch=event.best_epoch,
                test=event.test,
                diverged=event.diverged,
            )
            if event.weights:
                self._write_weights(event.weights, event.best_epoch)
            self._write_history(history)

    def _require(self, event: Event) -> dict[str, Any]:
        if self.history is None:
            raise RuntimeError(f"RunRecorder got {type(event).__name__} before RunStarted")
        return self.history

    def _started(self, event: RunStarted) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # Weights left by an earlier run in the same folder would not match this config.
        (self.run_dir / WEIGHTS_FILE).unlink(missing_ok=True)
        self._hash = config_hash(event.config)
        atomic_write_text(self.run_dir / CONFIG_FILE, dumps(event.config))
        self.history = history = {
            "schema": SCHEMA,
            "status": RUNNING,
            "config": to_dict(event.config),
            "dataset": event.dataset,
            "layers": list(event.layers),
            "epochs": [],
            "best_epoch": None,
            "test": None,
            "diverged": None,
        }
        self._write_history(history)

    def _write_history(self, history: dict[str, Any]) -> None:
        atomic_write_text(self.run_dir / HISTORY_FILE, dumps_history(history))
        atomic_write_text(self.run_dir / HISTORY_CSV, history_csv(history["epochs"]))

    def _write_weights(self, weights: dict[str, Tensor], epoch: int | None) -> None:
        from safetensors.torch import save

        tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in weights.items()}
        metadata = {"config_hash": self._hash, "epoch": str(epoch or 0)}
        atomic_write_bytes(self.run_dir / WEIGHTS_FILE, save(tensors, metadata=metadata))


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
    if history.get("schema") != SCHEMA:
        raise RunError(f"{path}: schema must be {SCHEMA}, got {history.get('schema')!r}")
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
