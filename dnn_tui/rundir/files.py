"""Run directories: what a run leaves on disk, and the one loader that reads it back.

Runs without any UI; torch and safetensors are imported only when weights are
written or read. A run directory holds (every file written atomically):

- ``config.toml``: the fully resolved config; ``dnn-tui train --config`` repeats the run.
- ``history.json``: strict JSON (non-finite numbers are ``null``), schema 3 (schemas 1 and 2,
  the same without the weight figures or the activation figures, still load). While the
  run goes on its ``status`` is ``"running"``, and the file is rewritten after every
  epoch, so an interrupted run keeps the epochs it finished; at the end the status is
  ``completed``, ``early_stopped``, ``stopped``, ``diverged`` or ``failed``.
- ``history.csv``: one row per epoch, the scalar columns of the epoch records
  (non-finite values are empty cells).
- ``model.safetensors``: the best epoch's weights, with metadata ``config_hash`` and
  ``epoch`` (``"0"`` when the run ended before its first epoch). Weights are never
  read with pickle.
- ``checkpoint.safetensors`` and ``checkpoint.json``: the latest checkpoint (an epoch end):
  the model's, the best weights' and the optimizer's tensors and the random states, and as
  JSON its epoch, learning rate, clipping, best epoch and loss, the config's identity and
  the SHA-256 of the tensor file (written first: the pair is used only when they match).
  ``load_checkpoint`` reads them back.
- ``trace.json``: one sample's forward and backward pass through the network, traced by a
  paused run (the sample a watcher asked for with a ``trace`` request, else the first),
  rewritten at each pause and each step of a paused run, for the model graph of ``watch``:
  ``{"epoch", "step", "split", "sample", "input", "label", "loss", "nodes"}`` as ``eval
  --trace --json`` prints the pass. A pass over ``MAX_TRACE_BYTES`` (a wide network: a first
  layer of 512 units on MNIST is 401,408 weight gradients) is not written whole: the file holds its
  epoch, step, split, sample, label and ``"too_large"``, its size in bytes. ``read_trace``.
- ``evaluation.json``: the kept weights on the test split class by class (confusion
  matrix, per-class accuracy, most confused pairs, worst mistakes), written when a run
  with a test split ends; older runs have none. ``load_run`` leaves it alone (a list of
  runs never reads it); ``load_evaluation`` reads and checks it (``check_evaluation``).

Reading is careful because run folders are shared and anything may sit in them: every
file is read only when it is a regular file below a size limit (a FIFO, a device or a
symlink to ``/dev/zero`` is refused, never waited on or read), and checked against the
layout above (``check_history``, ``check_history_csv``, ``check_weights_header``). A file
that breaks a rule raises ``RunError`` naming the file, the field and the rule.
Schemas 1 to 3 are read (2 adds activation statistics under a key of each epoch record
and a top-level ``initial`` record, 3 the weights' figures); keys this version does not know
are kept, unchecked.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnn_tui.config import MAX_DEPTH, MAX_EPOCHS, ConfigError, RunConfig, loads, to_dict
from dnn_tui.fileio import (
    FileRefused,
    open_regular,
    read_file_head,
    read_small_file,
    spreadsheet_cell,
)
from dnn_tui.rundir.liveness import LIVENESS_FILE
from dnn_tui.training.activations import HIST_BINS
from dnn_tui.training.evaluation import SCHEMA as EVALUATION_SCHEMA
from dnn_tui.training.evaluation import WORST_KEPT, ConfusedPair, Evaluation, Mistake
from dnn_tui.training.status import RECORDED, Status

if TYPE_CHECKING:
    from torch import Tensor

    from dnn_tui.training.checkpoint import Checkpoint
    from dnn_tui.training.trace import NodePass, SamplePass

SCHEMA = 3
"""The version of history.json's layout that runs write. 2 added the activation figures:
``activations``, ``initial`` and the ``act_*`` keys of the epoch records; 3 the epoch log
(``EPOCHS_FILE``), which a running run's history.json is joined with, bounded records, and
the weights' figures: ``weight_norm``, ``update_ratio``, ``weight_hist`` and
``weight_hist_max`` in each epoch record (one entry per Linear layer, in ``layers`` order)
and in ``initial``."""
READABLE_SCHEMAS = (1, 2, 3)
"""The versions the loader accepts."""

CONFIG_FILE = "config.toml"
HISTORY_FILE = "history.json"
HISTORY_CSV = "history.csv"
WEIGHTS_FILE = "model.safetensors"
EPOCHS_FILE = "epochs.jsonl"
"""The epoch log (schema 3): each finished epoch's record, one JSON line, appended as it
ends; history.json is rewritten from it now and then and at the end (see ``read_history``)."""
EVENTS_FILE = "events.jsonl"
"""The run's events as they happen, one JSON object a line (any process can follow it)."""
CONTROL_FILE = "control.jsonl"
"""Steering requests to the run from other processes, one JSON object a line."""
LOG_FILE = "output.log"
"""What a background run printed."""
EVALUATION_FILE = "evaluation.json"
"""The kept weights on the test split, class by class (``training.evaluation``)."""
CHECKPOINT_FILE = "checkpoint.safetensors"
"""The latest checkpoint's tensors (``training.checkpoint``): what ``train --resume`` goes on
from."""
CHECKPOINT_META = "checkpoint.json"
"""The latest checkpoint's numbers, and the SHA-256 of the tensor file it goes with."""
TRACE_FILE = "trace.json"
"""One sample's pass through the network of a paused run (``dumps_trace``), for watchers."""
RUN_FILES = frozenset(
    {
        TRACE_FILE,
        CONFIG_FILE,
        HISTORY_FILE,
        HISTORY_CSV,
        WEIGHTS_FILE,
        EPOCHS_FILE,
        EVENTS_FILE,
        CONTROL_FILE,
        LOG_FILE,
        LIVENESS_FILE,
        EVALUATION_FILE,
        CHECKPOINT_FILE,
        CHECKPOINT_META,
    }
)
"""Every file a run directory may hold."""

SCALAR_COLUMNS = (
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
"""The scalar keys of an epoch record: history.csv's first columns, in every schema."""
ACTIVATION_COLUMNS: dict[str, tuple[str, Callable[[list[float]], float]]] = {
    "act_std_first": ("act_std", lambda values: values[0]),
    "act_std_last": ("act_std", lambda values: values[-1]),
    "act_saturated_max": ("act_saturated", max),
    "act_dead_max": ("act_dead", max),
}
"""Schema 2's columns taken from an epoch record's per-layer lists: the first and the last
hidden layer's activation std, and the largest saturated or dead share of any hidden layer
(empty when not measured or when the share does not apply to the activation)."""
WEIGHT_COLUMNS: dict[str, tuple[str, Callable[[list[float]], float]]] = {
    "weight_norm_total": ("weight_norm", lambda values: math.hypot(*values)),
    "weight_norm_first": ("weight_norm", lambda values: values[0]),
    "weight_norm_last": ("weight_norm", lambda values: values[-1]),
    "update_ratio_first": ("update_ratio", lambda values: values[0]),
    "update_ratio_last": ("update_ratio", lambda values: values[-1]),
}
"""Schema 3's columns from the weights' per-layer lists: the L2 norm of all Linear weights
together (the number L2 regularisation keeps small), the first and the last Linear layer's
weight norm and update ratio (empty in older runs)."""
LIST_COLUMNS = {**ACTIVATION_COLUMNS, **WEIGHT_COLUMNS}
"""Every column taken from a per-layer list."""
CSV_COLUMNS = (*SCALAR_COLUMNS, *ACTIVATION_COLUMNS, *WEIGHT_COLUMNS)
"""history.csv's columns, in order."""

MAX_CONFIG_BYTES = 1 << 20
"""config.toml is a few hundred bytes; a megabyte is not a config."""
MAX_WEIGHTS_BYTES = 4 << 30
"""model.safetensors: the largest model the config allows (32 layers of 4096) is about 2 GB."""
MAX_SAFETENSORS_HEADER = 100 << 20
"""safetensors' own limit on the JSON header."""


def has_ended(run_dir: Path) -> bool:
    """Whether the run's history.json says it ended (its process may live on: a dashboard)."""
    try:
        status = json.loads(read_small_file(run_dir / HISTORY_FILE, MAX_HISTORY_BYTES))["status"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return isinstance(status, str) and status != Status.RUNNING


class RunError(Exception):
    """A run directory or one of its files is missing or invalid.

    The message names the file, and where it applies the field and the rule it breaks
    (``runs/a/history.json: epochs[3].val_acc: must be a number or null, got 'x'``); the
    parts are attributes too, for a screen that shows them apart.
    """

    def __init__(
        self,
        message: str,
        *,
        file: Path | None = None,
        field: str | None = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        """The file (or run directory) at fault."""
        self.field = field
        """The field of the file, as ``epochs[3].val_acc``; None for the file as a whole."""
        self.rule = rule
        """The rule it breaks, or what went wrong reading it."""


NO_SUCH_RUN = "no such run directory"
"""RunError's rule for a path where nothing exists: a mistyped name, not a damaged run."""


def run_error(file: Path, rule: str, field: str | None = None) -> RunError:
    """A RunError for ``file`` (and ``field``) breaking ``rule``."""
    where = f"{file}: {field}" if field else str(file)
    return RunError(f"{where}: {rule}", file=file, field=field, rule=rule)


def strict_json(value: Any) -> Any:
    """value with every non-finite float replaced by None and tuples turned into lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    return value


def epoch_line(record: Mapping[str, Any]) -> str:
    """One epoch record as history.json writes it: strict JSON on one line."""
    return json.dumps(strict_json(record), allow_nan=False, separators=(", ", ": "))


def _pretty(value: Any, indent: str = "") -> str:
    """value (strict already) as indented JSON, a list of plain values on one line."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = (f"{inner}{json.dumps(k)}: {_pretty(v, inner)}" for k, v in value.items())
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return "[\n" + ",\n".join(inner + _pretty(v, inner) for v in value) + f"\n{indent}]"
    return json.dumps(value, allow_nan=False, separators=(", ", ": "))


def new_history(
    config: RunConfig,
    *,
    status: str = Status.RUNNING,
    dataset: dict[str, Any] | None = None,
    layers: Sequence[str] = (),
    error: str | None = None,
) -> dict[str, Any]:
    """history.json as a run starts it (running, no epoch yet), or, given its status and
    error, as a run that ended before its first step leaves it: one layout for both, so
    every reader meets the same keys in the same order."""
    return {
        "schema": SCHEMA,
        "status": status,
        "config": to_dict(config),
        "dataset": dataset,
        "layers": list(layers),
        "activations": None,
        "initial": None,
        "epochs": [],
        "best_epoch": None,
        "test": None,
        "diverged": None,
        "error": error,
        "partial_epoch": None,
    }


def dumps_history(history: dict[str, Any], epoch_lines: Sequence[str] | None = None) -> str:
    """history.json's text: strict JSON (no NaN/Infinity), indented for people, with a list of
    numbers on one line and one line per epoch record (an epoch's numbers read across; the
    file stays short and fast to write).

    ``epoch_lines`` are the records' ``epoch_line`` texts when the writer keeps them (a
    record never changes once written): only the new ones are encoded at each epoch.
    """
    epochs = history.get("epochs")
    if not isinstance(epochs, list):
        return _pretty(strict_json(history)) + "\n"
    lines = list(epoch_lines) if epoch_lines is not None else [epoch_line(r) for r in epochs]
    parts = []
    for key, value in history.items():
        if key == "epochs":
            text = "[\n    " + ",\n    ".join(lines) + "\n  ]" if lines else "[]"
        else:
            text = _pretty(strict_json(value), "  ")
        parts.append(f"  {json.dumps(str(key))}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def csv_header() -> str:
    """history.csv's first line."""
    return csv_row(CSV_COLUMNS)


def csv_row(cells: Iterable[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


def epoch_csv_row(record: Mapping[str, Any]) -> str:
    """One epoch record's line of history.csv."""
    return csv_row(_csv_cell(csv_value(record, column)) for column in CSV_COLUMNS)


def history_csv(epochs: list[dict[str, Any]], rows: Sequence[str] | None = None) -> str:
    """history.csv's text: a header and one row per epoch record (``rows``: their
    ``epoch_csv_row`` texts when the writer keeps them)."""
    return csv_header() + "".join(rows if rows is not None else map(epoch_csv_row, epochs))


def csv_value(record: Mapping[str, Any], column: str) -> Any:
    """The record's value for a column; the ``act_*``, ``weight_*`` and ``update_*`` columns
    are taken from its lists."""
    if column not in LIST_COLUMNS:
        return record.get(column)
    key, pick = LIST_COLUMNS[column]
    values = record.get(key)
    if not isinstance(values, list) or not values or None in values:
        return None
    return pick(values)


def _csv_cell(value: Any) -> str:
    """A history.csv cell: numbers as they are; anything else (a record holds numbers only, but
    the file is opened in spreadsheets) kept from being read as a formula."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return spreadsheet_cell(value)


# --- the read limits, derived from what a run may write ---------------------------------------

LONGEST_FLOAT = -2.2250738585072014e-308
"""A finite number whose JSON text is as long as any float's (24 characters)."""
EVENTS_PER_EPOCH = 64
"""Steering changes an epoch record keeps at most (a person at the keys changes a setting a few
times an epoch at most); further ones are counted in ``events_dropped`` (``bounded_record``)."""
MAX_LAYER_VALUES = MAX_DEPTH + 1
"""Entries of any per-layer list of an epoch record at most: one per Linear layer."""
MAX_BINS = 64
"""Values of any histogram (a list in a per-layer list) of an epoch record at most."""


def bounded_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """An epoch record as the run files keep it: at most ``EVENTS_PER_EPOCH`` steering changes
    (the first ones), the number left out in ``events_dropped``; so that every record fits
    ``MAX_EPOCH_BYTES`` and the longest run reads back."""
    events = record.get("events")
    if not isinstance(events, list) or len(events) <= EVENTS_PER_EPOCH:
        return dict(record)
    dropped = len(events) - EVENTS_PER_EPOCH + int(record.get("events_dropped") or 0)
    return {**record, "events": events[:EVENTS_PER_EPOCH], "events_dropped": dropped}


def largest_epoch_record(depth: int = MAX_DEPTH) -> dict[str, Any]:
    """An epoch record of the deepest model the config allows with every number at its
    longest: the most bytes an epoch adds to history.json and history.csv. Every per-layer
    list is given one entry per Linear layer (``depth + 1``), more than any holds."""
    n, layers = LONGEST_FLOAT, depth + 1
    event = {"step": 2**63 - 1, "kind": "x" * 32, "value": n}
    return {
        "epoch": MAX_EPOCHS,
        **{key: n for key in SCALAR_COLUMNS if key != "epoch"},
        "grad_norm": [n] * layers,
        "events": [event] * EVENTS_PER_EPOCH,
        "events_dropped": 2**63 - 1,
        "act_mean": [n] * layers,
        "act_std": [n] * layers,
        "act_saturated": [n] * layers,
        "act_dead": [n] * layers,
        "act_hist": [[n] * HIST_BINS] * layers,
        "weight_norm": [n] * layers,
        "update_ratio": [n] * layers,
        "weight_hist": [[n] * HIST_BINS] * layers,
        "weight_hist_max": [n] * layers,
    }


MAX_EPOCH_BYTES = len(epoch_line(largest_epoch_record())) + len(",\n    ")
"""The most bytes one epoch record adds to history.json (about 42 KB)."""
MAX_HISTORY_HEAD_BYTES = 8 * MAX_CONFIG_BYTES + 4 * MAX_EPOCH_BYTES
"""history.json without its epochs: the config (from a config file of at most
``MAX_CONFIG_BYTES``, each byte at most six in JSON), the dataset and layers, the initial
activations and a partial epoch (each at most an epoch record), an error line."""
MAX_HISTORY_BYTES = MAX_HISTORY_HEAD_BYTES + MAX_EPOCHS * MAX_EPOCH_BYTES
"""history.json larger than this is not read: derived from the allowed ranges (the most epochs
of the deepest model, every number at its longest, ``EVENTS_PER_EPOCH`` steering changes an
epoch), so every history a run writes reads back (about 4.2 GB; the digits baseline's is
about 3.3 KB an epoch)."""
MAX_EPOCH_LOG_BYTES = MAX_EPOCHS * MAX_EPOCH_BYTES
"""epochs.jsonl: the most epochs, each record at its longest (one line each)."""
MAX_CSV_BYTES = len(csv_header()) + MAX_EPOCHS * len(epoch_csv_row(largest_epoch_record()))
"""history.csv: the most epochs, every cell at its longest (about 46 MB; 300 bytes an epoch is
usual)."""


# --- reading files --------------------------------------------------------------------------


def read_run_file(path: Path, limit: int, missing: str = "missing") -> bytes:
    """The bytes of one run file: a regular file of at most ``limit`` bytes, or RunError."""
    try:
        return read_small_file(path, limit)
    except FileNotFoundError:
        raise run_error(path, missing) from None
    except FileRefused as error:
        raise run_error(path, f"not read: {error.strerror}") from None
    except OSError as error:
        raise run_error(path, f"cannot read: {error.strerror or error}") from None


def _text(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise run_error(path, f"not UTF-8 text (byte {error.start})") from None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not strict JSON (non-finite numbers are written as null)")


def parse_json(path: Path, data: bytes) -> Any:
    """Strict JSON (no NaN or Infinity) from a file's bytes, or RunError naming the file."""
    text = _text(path, data)
    if not text.strip():
        raise run_error(path, "empty (the run wrote nothing, or the file was truncated)")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise run_error(
            path, f"not valid JSON (truncated or damaged): {error.msg} at line {error.lineno}"
        ) from None
    except (ValueError, RecursionError) as error:  # huge integers, NaN, deep nesting
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise run_error(path, f"not valid JSON: {reason}") from None


# --- the layout of history.json ---------------------------------------------------------------


def _shown(value: Any) -> str:
    """A value as a message echoes it: JSON, shortened."""
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Fields:
    """Checks the fields of one JSON file; the first broken rule raises RunError."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, field: str, rule: str, value: Any = ...) -> RunError:
        got = "" if value is ... else f", got {_shown(value)}"
        return run_error(self.path, rule + got, field or None)

    def object(self, value: Any, field: str, *, null: bool = False) -> dict[str, Any] | None:
        if value is None and null:
            return None
        if not isinstance(value, dict):
            raise self.fail(field, "must be a JSON object" + (" or null" if null else ""), value)
        return value

    def require(self, record: dict[str, Any], keys: Sequence[str], where: str) -> None:
        for key in keys:
            if key not in record:
                raise self.fail(f"{where}{key}", "missing")

    def integer(self, value: Any, field: str, *, low: int = 0, null: bool = False) -> int | None:
        if value is None and null:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            kind = "an integer" if low == 0 else f"an integer of at least {low}"
            raise self.fail(field, f"must be {kind}" + (" or null" if null else ""), value)
        return value

    def number(
        self, value: Any, field: str, *, high: float | None = None, null: bool = True
    ) -> None:
        """A finite number from 0 (to ``high``), or null: every metric of a run is one."""
        if value is None and null:
            return
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
            or value < 0
            or (high is not None and value > high)
        ):
            span = f"from 0 to {high:g}" if high is not None else "of at least 0"
            raise self.fail(field, f"must be a number {span}" + (" or null" if null else ""), value)

    def text(self, value: Any, field: str, *, null: bool = False) -> None:
        if value is None and null:
            return
        if not isinstance(value, str):
            raise self.fail(field, "must be a string" + (" or null" if null else ""), value)


HISTORY_KEYS = ("schema", "status", "config", "dataset", "layers", "epochs", "best_epoch", "test")
"""The keys history.json must hold (``diverged`` may be absent, meaning null)."""
EPOCH_KEYS = (*SCALAR_COLUMNS, "grad_norm", "events")
"""The keys every epoch record holds (records may hold more: schema 2's statistics)."""
ACCURACY_KEYS = frozenset({"train_acc", "val_acc", "clipped_fraction"})
"""Fractions: from 0 to 1."""


def check_history(data: Any, path: Path) -> dict[str, Any]:
    """data (history.json's parsed content) when it follows the documented layout.

    Checks the documented fields and their types (numbers are finite and not negative,
    accuracies at most 1, epochs in increasing order, ``grad_norm`` one value per layer,
    ``best_epoch`` one of the epochs); keys it does not know are kept as they are.
    """
    f = _Fields(path)
    history = f.object(data, "")
    assert history is not None
    if "schema" not in history:
        raise f.fail("schema", "missing")
    schema = history["schema"]
    if isinstance(schema, bool) or schema not in READABLE_SCHEMAS:
        *earlier, last = map(str, READABLE_SCHEMAS)
        versions = f"{', '.join(earlier)} or {last}" if earlier else last
        raise f.fail("schema", f"must be {versions} (a newer dnn-tui wrote it?)", schema)
    f.require(history, HISTORY_KEYS, "")
    status = history["status"]
    if status not in RECORDED:
        raise f.fail("status", "must be one of " + ", ".join(RECORDED), status)
    config = f.object(history["config"], "config")
    assert config is not None
    f.text(config.get("preset"), "config.preset", null=True)
    # null only for a run that ended before its first step: its data never loaded
    dataset = f.object(history["dataset"], "dataset", null=history["epochs"] == [])
    if dataset is not None:
        f.text(dataset.get("name"), "dataset.name")
        for key in ("train", "val", "test", "input_dim", "classes", "split_seed"):
            if key in dataset:
                f.integer(dataset[key], f"dataset.{key}")
    layers = history["layers"]
    if not isinstance(layers, list) or not all(isinstance(name, str) for name in layers):
        raise f.fail("layers", "must be a list of layer names", layers)
    epochs = history["epochs"]
    if not isinstance(epochs, list):
        raise f.fail("epochs", "must be a list of epoch records", epochs)
    previous = 0
    for index, record in enumerate(epochs):
        previous = _check_epoch(f, record, f"epochs[{index}]", previous, len(layers))
    initial = history.get("initial")
    if isinstance(initial, dict):
        check_weight_figures(f, initial, "initial", len(layers))
    _check_outcome(f, history, {record["epoch"] for record in epochs})
    return history


def _check_epoch(f: _Fields, record: Any, where: str, previous: int, layers: int) -> int:
    """One epoch record (``where``: its place), following epoch ``previous``; its number."""
    f.object(record, where)
    f.require(record, EPOCH_KEYS, f"{where}.")
    number = f.integer(record["epoch"], f"{where}.epoch", low=1)
    assert number is not None
    if number <= previous:
        raise f.fail(f"{where}.epoch", f"must follow epoch {previous}", number)
    for key in SCALAR_COLUMNS[1:]:  # every number but the epoch (checked above)
        f.number(record[key], f"{where}.{key}", high=1.0 if key in ACCURACY_KEYS else None)
    norms = record["grad_norm"]
    if not isinstance(norms, list) or len(norms) != layers:
        raise f.fail(f"{where}.grad_norm", f"must be a list of {layers} norms", norms)
    for i, norm in enumerate(norms):
        f.number(norm, f"{where}.grad_norm[{i}]")
    check_weight_figures(f, record, where, layers)
    events = record["events"]
    if not isinstance(events, list):
        raise f.fail(f"{where}.events", "must be a list", events)
    for i, event in enumerate(events):
        f.object(event, f"{where}.events[{i}]")
        f.integer(event.get("step"), f"{where}.events[{i}].step")
        f.text(event.get("kind"), f"{where}.events[{i}].kind")
    for key, value in record.items():
        if isinstance(value, list) and key != "events":
            _check_layer_list(f, value, f"{where}.{key}")
    return number


WEIGHT_LISTS = ("weight_norm", "update_ratio", "weight_hist_max")
"""Schema 3's per-layer lists of numbers (null where a number was not finite or, for
``update_ratio``, not measured)."""


def check_weight_figures(f: _Fields, record: dict[str, Any], where: str, layers: int) -> None:
    """Schema 3's weight figures of an epoch record or of ``initial``, where present: one
    number (at least 0) per Linear layer, a histogram of ``HIST_BINS`` shares per layer."""
    prefix = f"{where}." if where else ""
    for key in WEIGHT_LISTS:
        if key not in record:
            continue
        values = record[key]
        if not isinstance(values, list) or len(values) != layers:
            raise f.fail(f"{prefix}{key}", f"must be a list of {layers} numbers", values)
        for i, value in enumerate(values):
            f.number(value, f"{prefix}{key}[{i}]")
    if "weight_hist" in record:
        rows = record["weight_hist"]
        if not isinstance(rows, list) or len(rows) != layers:
            raise f.fail(f"{prefix}weight_hist", f"must be a list of {layers} histograms", rows)
        for i, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != HIST_BINS:
                rule = f"must be a list of {HIST_BINS} shares"
                raise f.fail(f"{prefix}weight_hist[{i}]", rule, row)
            for j, share in enumerate(row):
                f.number(share, f"{prefix}weight_hist[{i}][{j}]", high=1.0)


def _check_layer_list(f: _Fields, values: list[Any], field: str) -> None:
    """A per-layer list of any name: at most one entry per Linear layer, each a number, null,
    or a histogram (a list of at most MAX_BINS numbers or nulls); so a record's size is bounded
    whatever figures a version adds."""
    if len(values) > MAX_LAYER_VALUES:
        raise f.fail(field, f"must hold at most {MAX_LAYER_VALUES} per-layer entries", len(values))
    for i, value in enumerate(values):
        if isinstance(value, list):
            if len(value) > MAX_BINS or not all(_is_number(v) for v in value):
                raise f.fail(f"{field}[{i}]", f"must be a list of at most {MAX_BINS} numbers")
        elif not _is_number(value):
            raise f.fail(f"{field}[{i}]", "must be a number, null or a list of numbers", value)


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _check_outcome(f: _Fields, history: dict[str, Any], numbers: set[int]) -> None:
    """How the run ended: ``best_epoch`` (one of the epoch ``numbers``), ``test``, ``diverged``."""
    best = f.integer(history["best_epoch"], "best_epoch", low=1, null=True)
    if best is not None and best not in numbers:
        raise f.fail("best_epoch", "must be the number of a recorded epoch", best)
    test = f.object(history["test"], "test", null=True)
    if test is not None:
        f.number(test.get("loss"), "test.loss")
        f.number(test.get("acc"), "test.acc", high=1.0)
    diverged = f.object(history.get("diverged"), "diverged", null=True)
    if diverged is not None:
        f.integer(diverged.get("epoch"), "diverged.epoch", low=1, null=True)
        f.integer(diverged.get("step"), "diverged.step", null=True)
        f.text(diverged.get("layer"), "diverged.layer", null=True)


def read_history(path: Path) -> dict[str, Any]:
    """history.json read and checked (``check_history``); RunError names file, field, rule.

    A running run's (schema 3) is joined with the epochs of its epoch log (``EPOCHS_FILE``
    beside it) that it does not hold yet: history.json is rewritten only now and then while
    the run goes on, the log after every epoch, so a killed run reads back with every epoch
    it finished. An ended run's history.json holds every epoch: the log is not read.
    """
    data = read_run_file(path, MAX_HISTORY_BYTES, "missing; the run wrote no history")
    history = check_history(parse_json(path, data), path)
    if history["schema"] >= 3 and history["status"] == Status.RUNNING:
        epochs = history["epochs"]
        after = epochs[-1]["epoch"] if epochs else 0
        logged = read_epoch_log(path.parent / EPOCHS_FILE, after, len(history["layers"]))
        if logged:
            epochs.extend(logged)
            history["best_epoch"] = best_epoch(epochs)
    return history


def best_epoch(records: Sequence[Mapping[str, Any]]) -> int | None:
    """The epoch with the lowest validation loss (the first of equals): the engine's rule."""
    best, lowest = None, math.inf
    for record in records:
        loss = record.get("val_loss")
        if isinstance(loss, int | float) and loss < lowest:
            best, lowest = record.get("epoch"), loss
    return best


_LOGGED_EPOCH = re.compile(rb'\{"epoch": ?(\d{1,12}),')
"""The start of an epochs.jsonl line as the recorder writes it: the epoch's number, read
without parsing the line (lines of epochs history.json holds already are skipped)."""


def read_epoch_log(path: Path, after: int, layers: int) -> list[dict[str, Any]]:
    """The checked records of epochs.jsonl that follow epoch ``after`` (``epoch_log``)."""
    return list(epoch_log(path, after, layers))


def epoch_log(path: Path, after: int = 0, layers: int = 0) -> Iterator[dict[str, Any]]:
    """The checked records of epochs.jsonl that follow epoch ``after``, one at a time as the
    file is read (none when it is missing; ``layers``: the run's Linear layers). The last line
    may be unfinished or damaged (a writer killed while it wrote): it is left out, as an epoch
    that did not finish; a damaged line before it is a RunError naming the file and the line.
    Read only when it is a regular file (no link followed, no FIFO waited on) of at most
    ``MAX_EPOCH_LOG_BYTES``, and only as far as it reached when it was opened."""
    try:
        fd = open_regular(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    except FileRefused as error:
        raise run_error(path, f"not read: {error.strerror}") from None
    except OSError as error:
        raise run_error(path, f"cannot read: {error.strerror or error}") from None
    try:
        size = os.fstat(fd).st_size
        if size > MAX_EPOCH_LOG_BYTES:
            rule = f"not read: {size:,} bytes, more than the {MAX_EPOCH_LOG_BYTES:,} allowed"
            raise run_error(path, rule)
        yield from _log_records(path, _whole_lines(fd, size), after, layers)
    finally:
        os.close(fd)


def _whole_lines(fd: int, size: int) -> Iterator[bytes]:
    """The lines of the file open as fd up to ``size`` bytes that end in a newline."""
    offset, rest = 0, b""
    while offset < size:
        chunk = os.pread(fd, min(1 << 20, size - offset), offset)
        if not chunk:
            break
        offset += len(chunk)
        *lines, rest = (rest + chunk).split(b"\n")
        yield from lines
        if len(rest) > MAX_EPOCH_BYTES:  # no record is this long: let the check name it
            yield rest
            rest = b""


def _log_records(
    path: Path, lines: Iterator[bytes], after: int, layers: int
) -> Iterator[dict[str, Any]]:
    """The records of the epoch log's lines (see ``epoch_log``), the last one's damage forgiven."""
    f = _Fields(path)
    previous = after
    waiting: tuple[int, bytes] | None = None  # a line is checked once the next one is seen

    def check(index: int, line: bytes, last: bool) -> dict[str, Any] | None:
        nonlocal previous
        known = _LOGGED_EPOCH.match(line)
        if known is not None and int(known[1]) <= after:
            return None
        where = f"line {index + 1}"
        try:
            if len(line) > MAX_EPOCH_BYTES:
                raise run_error(path, f"longer than {MAX_EPOCH_BYTES:,} bytes", where)
            record = parse_json(path, line)
            previous = _check_epoch(f, record, where, previous, layers)
        except RunError as error:
            if last:  # an epoch its writer did not finish
                return None
            rule = f"{error.rule} (a damaged line before the last)"
            raise run_error(path, rule, error.field or where) from None
        return record

    for index, line in enumerate(lines):
        if waiting is not None and (record := check(*waiting, last=False)) is not None:
            yield record
        waiting = (index, line)
    if waiting is not None and (record := check(*waiting, last=True)) is not None:
        yield record


def check_history_csv(data: bytes, path: Path, epochs: int | None) -> None:
    """history.csv's bytes follow its layout: the columns of SCALAR_COLUMNS (others may follow,
    such as schema 2's ACTIVATION_COLUMNS), one row per epoch (``epochs``, when known) of
    numbers or empty cells."""
    if epochs is None and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]  # a row its writer did not finish (a running run)
    rows = list(csv.reader(io.StringIO(_text(path, data))))
    if not rows:
        raise run_error(path, "empty: the header row is missing")
    header = rows[0]
    absent = [column for column in SCALAR_COLUMNS if column not in header]
    if absent:
        raise run_error(path, f"the columns {', '.join(absent)} are missing", "header")
    for line, row in enumerate(rows[1:], 2):
        if len(row) != len(header):
            rule = f"{len(row)} cells where the header has {len(header)} (truncated?)"
            raise run_error(path, rule, f"line {line}")
        for column, cell in zip(header, row, strict=True):
            if column in CSV_COLUMNS and cell:
                try:
                    value = float(cell)
                except ValueError:
                    value = math.nan
                if not math.isfinite(value):
                    rule = f"must be a number or empty, got {_shown(cell)}"
                    raise run_error(path, rule, f"line {line}, {column}")
    if epochs is not None and len(rows) - 1 != epochs:
        rule = f"{len(rows) - 1} epoch rows, but history.json has {epochs} epochs"
        raise run_error(path, rule)


def check_weights_header(path: Path) -> None:
    """model.safetensors is a regular file whose safetensors header is valid and whose size
    matches it (a truncated file does not); nothing but the header is read."""
    try:
        head, size = read_file_head(path, 8, MAX_WEIGHTS_BYTES)
        length = int.from_bytes(head, "little") if len(head) == 8 else -1
        if not 2 <= length <= min(MAX_SAFETENSORS_HEADER, size - 8):
            raise run_error(path, "not a valid safetensors file (no valid header; truncated?)")
        head, _ = read_file_head(path, 8 + length, MAX_WEIGHTS_BYTES)
    except FileRefused as error:
        raise run_error(path, f"not read: {error.strerror}") from None
    except OSError as error:
        raise run_error(path, f"cannot read: {error.strerror or error}") from None
    try:
        header = json.loads(head[8:].decode("utf-8"))
        ends = [
            int(entry["data_offsets"][1])
            for name, entry in header.items()
            if name != "__metadata__"
        ]
    except (ValueError, RecursionError, TypeError, KeyError, IndexError, AttributeError):
        raise run_error(path, "not a valid safetensors file (its header is not JSON)") from None
    expected = 8 + length + max(ends, default=0)
    if expected != size:
        raise run_error(
            path, f"{size:,} bytes where its header describes {expected:,} (truncated?)"
        )


# --- evaluation.json ----------------------------------------------------------------------------

MAX_EVALUATION_CLASSES = 256
"""The most classes a dataset has (IDX labels are bytes)."""
MAX_EVALUATION_BYTES = 32 << 20
"""evaluation.json of the most classes, every count and number at its longest and every
off-diagonal pair listed, is about 6 MB; 10 classes take about 12 KB."""


def dumps_evaluation(evaluation: Evaluation) -> str:
    """evaluation.json's text: strict JSON, a confusion row, a pair or a mistake a line."""
    parts = []
    for key, value in strict_json(evaluation.record()).items():
        if isinstance(value, list) and value and isinstance(value[0], dict | list):
            lines = (json.dumps(item, allow_nan=False, separators=(", ", ": ")) for item in value)
            text = "[\n    " + ",\n    ".join(lines) + "\n  ]"
        else:
            text = json.dumps(value, allow_nan=False, separators=(", ", ": "))
        parts.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def check_evaluation(data: Any, path: Path) -> Evaluation:
    """data (evaluation.json's parsed content) as an Evaluation when it follows the documented
    layout: types, the matrix square with one row per class and summing to ``count``, every
    class index in range, fractions from 0 to 1; RunError names the field and the rule."""
    f = _Fields(path)
    record = f.object(data, "")
    assert record is not None
    keys = ("schema", "split", "epoch", "classes", "count", "acc", "loss", "confusion")
    f.require(record, (*keys, "per_class_acc", "most_confused", "worst"), "")
    if record["schema"] != EVALUATION_SCHEMA or isinstance(record["schema"], bool):
        rule = f"must be {EVALUATION_SCHEMA} (a newer dnn-tui wrote it?)"
        raise f.fail("schema", rule, record["schema"])
    f.text(record["split"], "split")
    epoch = f.integer(record["epoch"], "epoch", low=1, null=True)
    classes = record["classes"]
    if (
        not isinstance(classes, list)
        or not 1 <= len(classes) <= MAX_EVALUATION_CLASSES
        or not all(isinstance(name, str) for name in classes)
    ):
        rule = f"must be a list of 1 to {MAX_EVALUATION_CLASSES} class names"
        raise f.fail("classes", rule, classes)
    n = len(classes)
    count = f.integer(record["count"], "count")
    f.number(record["acc"], "acc", high=1.0, null=False)
    f.number(record["loss"], "loss")
    confusion = _square(f, record["confusion"], n)
    if sum(map(sum, confusion)) != count:
        raise f.fail("confusion", f"must sum to count ({count})", sum(map(sum, confusion)))
    per_class = record["per_class_acc"]
    if not isinstance(per_class, list) or len(per_class) != n:
        raise f.fail("per_class_acc", f"must be a list of {n} accuracies or nulls", per_class)
    for i, value in enumerate(per_class):
        f.number(value, f"per_class_acc[{i}]", high=1.0)
    pairs = _records(f, record["most_confused"], "most_confused", ("true", "pred", "count"))
    worst = _records(f, record["worst"], "worst", ("index", "true", "pred", "p_true", "p_pred"))
    if len(worst) > WORST_KEPT:
        raise f.fail("worst", f"must hold at most {WORST_KEPT} examples", len(worst))
    for i, pair in enumerate(pairs):
        for key in ("true", "pred"):
            _class_index(f, pair[key], f"most_confused[{i}].{key}", n)
        f.integer(pair["count"], f"most_confused[{i}].count", low=1)
    for i, mistake in enumerate(worst):
        where = f"worst[{i}]"
        f.integer(mistake["index"], f"{where}.index")
        if mistake["index"] >= count:
            raise f.fail(f"{where}.index", f"must be below count ({count})", mistake["index"])
        for key in ("true", "pred"):
            _class_index(f, mistake[key], f"{where}.{key}", n)
        for key in ("p_true", "p_pred"):
            f.number(mistake[key], f"{where}.{key}", high=1.0, null=False)
    return Evaluation(
        split=record["split"],
        epoch=epoch,
        classes=tuple(classes),
        count=count or 0,
        acc=float(record["acc"]),
        loss=None if record["loss"] is None else float(record["loss"]),
        confusion=confusion,
        per_class_acc=tuple(per_class),
        most_confused=tuple(ConfusedPair(p["true"], p["pred"], p["count"]) for p in pairs),
        worst=tuple(
            Mistake(m["index"], m["true"], m["pred"], float(m["p_true"]), float(m["p_pred"]))
            for m in worst
        ),
    )


def _square(f: _Fields, value: Any, n: int) -> tuple[tuple[int, ...], ...]:
    """A matrix of n rows of n counts."""
    rule = f"must be {n} rows of {n} counts (one per class)"
    if not isinstance(value, list) or len(value) != n:
        raise f.fail("confusion", rule, value)
    for r, row in enumerate(value):
        if not isinstance(row, list) or len(row) != n:
            raise f.fail(f"confusion[{r}]", rule, row)
        for c, cell in enumerate(row):
            f.integer(cell, f"confusion[{r}][{c}]")
    return tuple(tuple(row) for row in value)


def _records(f: _Fields, value: Any, field: str, keys: Sequence[str]) -> list[dict[str, Any]]:
    """A list of JSON objects that hold keys."""
    if not isinstance(value, list):
        raise f.fail(field, "must be a list", value)
    for i, item in enumerate(value):
        f.object(item, f"{field}[{i}]")
        f.require(item, keys, f"{field}[{i}].")
    return value


def _class_index(f: _Fields, value: Any, field: str, n: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < n:
        raise f.fail(field, f"must be a class index from 0 to {n - 1}", value)


def load_evaluation(run_dir: str | Path) -> Evaluation | None:
    """The run's evaluation.json read and checked (``check_evaluation``); None when the run
    has none (it ended before this file existed, or had no test split)."""
    path = Path(run_dir) / EVALUATION_FILE
    if not (path.exists() or path.is_symlink()):
        return None
    data = read_run_file(path, MAX_EVALUATION_BYTES)
    return check_evaluation(parse_json(path, data), path)


# --- a whole run directory --------------------------------------------------------------------


@dataclass(frozen=True)
class SavedRun:
    """A run directory read back from disk."""

    path: Path
    config: RunConfig
    """config.toml, validated."""
    history: dict[str, Any]
    """history.json as written (non-finite numbers are None), checked against its layout."""
    weights: Path | None
    """model.safetensors (its header checked), or None when the run saved no weights."""

    @property
    def label(self) -> str:
        """The preset name, or the run directory's name for a custom config."""
        return self.config.preset or self.path.name


def load_config(path: Path) -> RunConfig:
    """config.toml read with the care of every run file and validated; RunError otherwise."""
    data = read_run_file(path, MAX_CONFIG_BYTES, f"missing; {path.parent} is not a run directory")
    try:
        return loads(_text(path, data), str(path))
    except ConfigError as error:
        # config's messages read "FILE: KEY: RULE" (or "FILE: RULE" for the file as a whole).
        rest = str(error).removeprefix(f"{path}: ")
        key, _, rule = rest.partition(": ")
        if not rule or not re.fullmatch(r"[\w.\[\]-]+", key):
            key, rule = "", rest
        raise RunError(str(error), file=path, field=key or None, rule=rule) from None


def load_run(run_dir: str | Path) -> SavedRun:
    """Read a run directory and check every file against its layout (the module docstring);
    RunError names the file, the field and the rule."""
    path = Path(run_dir)
    if not path.exists():
        raise run_error(path, NO_SUCH_RUN)
    if not path.is_dir():
        raise run_error(path, "not a run directory (it is a file)")
    config = load_config(path / CONFIG_FILE)
    history = read_history(path / HISTORY_FILE)
    csv_path = path / HISTORY_CSV
    running = history["status"] == Status.RUNNING
    try:
        csv_data = read_run_file(csv_path, MAX_CSV_BYTES)
    except RunError as error:
        # A running run writes history.csv just after history.json: it may not be there yet.
        if not (running and error.rule == "missing"):
            raise
    else:
        check_history_csv(csv_data, csv_path, None if running else len(history["epochs"]))
    weights = path / WEIGHTS_FILE
    if weights.exists() or weights.is_symlink():
        check_weights_header(weights)
        return SavedRun(path, config, history, weights)
    return SavedRun(path, config, history, None)


def load_weights(path: str | Path) -> dict[str, Tensor]:
    """Read a safetensors file (never pickle); RunError when it is missing or not safetensors."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    try:
        data = read_small_file(path, MAX_WEIGHTS_BYTES)
    except FileRefused as error:
        raise run_error(path, f"not read: {error.strerror}") from None
    except OSError as error:
        raise run_error(path, f"cannot read the weights: {error.strerror or error}") from None
    try:
        return load(data)
    except (SafetensorError, ValueError, RuntimeError) as error:
        raise run_error(path, f"not a valid safetensors file ({error})") from None


# --- the checkpoint ---------------------------------------------------------------------------

CHECKPOINT_SCHEMA = 1
"""The version of checkpoint.json's layout."""
MAX_CHECKPOINT_BYTES = 4 * MAX_WEIGHTS_BYTES
"""checkpoint.safetensors: the weights, the best weights and two optimizer moments each."""
MAX_CHECKPOINT_META_BYTES = 1 << 16
"""checkpoint.json is a dozen fields."""
MAX_SCHEDULE_KEYS = 8
"""A scheduler's numbers in checkpoint.json: half a dozen, its lr list one per param group."""
CHECKPOINT_KEYS = (
    "schema",
    "epoch",
    "lr",
    "clip_norm",
    "best_epoch",
    "best_loss",
    "identity",
    "tensors",
    "random",
)


def dumps_checkpoint(checkpoint: Checkpoint, identity: str, tensor_file: bytes) -> str:
    """checkpoint.json's text for a checkpoint whose tensor file holds ``tensor_file``."""
    from dnn_tui.training.checkpoint import RNG_BATCHES, RNG_CPU, RNG_CUDA

    record = {
        "schema": CHECKPOINT_SCHEMA,
        "epoch": checkpoint.epoch,
        "lr": checkpoint.lr,
        "clip_norm": checkpoint.clip_norm,
        "best_epoch": checkpoint.best_epoch,
        "best_loss": checkpoint.best_loss,
        "identity": identity,
        "schedule": checkpoint.schedule,
        "val_loss": checkpoint.val_loss,
        "tensors": {
            "file": CHECKPOINT_FILE,
            "bytes": len(tensor_file),
            "sha256": hashlib.sha256(tensor_file).hexdigest(),
        },
        "random": {
            "torch_cpu": RNG_CPU,
            "batch_order": RNG_BATCHES,
            "cuda": RNG_CUDA if RNG_CUDA in checkpoint.tensors else None,
        },
    }
    return json.dumps(strict_json(record), allow_nan=False, indent=2) + "\n"


def read_checkpoint_meta(run_dir: str | Path, identity: str) -> dict[str, Any]:
    """checkpoint.json read and checked (fields, types, the config's ``identity``: one of
    another config is refused), without its tensors (nor torch); RunError names the rule."""
    path = Path(run_dir) / CHECKPOINT_META
    missing = "missing: the run kept no checkpoint (it ended before its first epoch?)"
    record = parse_json(path, read_run_file(path, MAX_CHECKPOINT_META_BYTES, missing))
    f = _Fields(path)
    f.object(record, "")
    f.require(record, CHECKPOINT_KEYS, "")
    if record["schema"] != CHECKPOINT_SCHEMA or isinstance(record["schema"], bool):
        raise f.fail("schema", f"must be {CHECKPOINT_SCHEMA} (a newer dnn-tui wrote it?)")
    f.integer(record["epoch"], "epoch", low=1)
    f.number(record["lr"], "lr", null=False)
    f.number(record["clip_norm"], "clip_norm")
    f.integer(record["best_epoch"], "best_epoch", low=1, null=True)
    f.number(record["best_loss"], "best_loss")
    f.text(record["identity"], "identity")
    if record["identity"] != identity:
        rule = (
            f"a checkpoint of another config ({_shown(record['identity'])}; config.toml's "
            f"is {identity}): not continued"
        )
        raise f.fail("identity", rule)
    _check_schedule(f, record)
    about = f.object(record["tensors"], "tensors")
    assert about is not None
    f.require(about, ("bytes", "sha256"), "tensors.")
    f.integer(about["bytes"], "tensors.bytes")
    f.text(about["sha256"], "tensors.sha256")
    return record


def _check_schedule(f: _Fields, record: dict[str, Any]) -> None:
    """The lr scheduler's numbers (absent in a checkpoint of a run without a schedule's
    state: none); a few numbers or short lists of numbers."""
    schedule = f.object(record.setdefault("schedule", {}), "schedule")
    assert schedule is not None
    if len(schedule) > MAX_SCHEDULE_KEYS:
        raise f.fail("schedule", f"must hold at most {MAX_SCHEDULE_KEYS} numbers")
    for key, value in schedule.items():
        if isinstance(value, list):
            if len(value) > MAX_SCHEDULE_KEYS:
                raise f.fail(f"schedule.{key}", f"must hold at most {MAX_SCHEDULE_KEYS} numbers")
            for index, item in enumerate(value):
                f.number(item, f"schedule.{key}[{index}]", null=False)
        else:
            f.number(value, f"schedule.{key}")
    f.number(record.setdefault("val_loss", None), "val_loss")


def load_checkpoint(run_dir: str | Path, identity: str) -> Checkpoint:
    """The run's checkpoint read and checked: checkpoint.json (``read_checkpoint_meta``), the
    tensor file's size and SHA-256 against it, the tensors it names (never pickle).
    RunError names the file and the rule."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    from dnn_tui.training.checkpoint import RNG_BATCHES, RNG_CPU, Checkpoint

    record = read_checkpoint_meta(run_dir, identity)
    about = record["tensors"]
    tensor_path = Path(run_dir) / CHECKPOINT_FILE
    data = read_run_file(tensor_path, MAX_CHECKPOINT_BYTES)
    if len(data) != about["bytes"] or hashlib.sha256(data).hexdigest() != about["sha256"]:
        rule = f"does not match {CHECKPOINT_META} (its size or SHA-256 differs): damaged?"
        raise run_error(tensor_path, rule)
    try:
        tensors = load(data)
    except (SafetensorError, ValueError, RuntimeError) as error:
        raise run_error(tensor_path, f"not a valid safetensors file ({error})") from None
    import torch

    for name in (RNG_CPU, RNG_BATCHES):
        if name not in tensors or tensors[name].dtype != torch.uint8:
            raise run_error(tensor_path, "missing or not bytes", name)
    return Checkpoint(
        epoch=record["epoch"],
        lr=float(record["lr"]),
        clip_norm=None if record["clip_norm"] is None else float(record["clip_norm"]),
        best_epoch=record["best_epoch"],
        best_loss=None if record["best_loss"] is None else float(record["best_loss"]),
        tensors=tensors,
        schedule=record["schedule"],
        val_loss=None if record["val_loss"] is None else float(record["val_loss"]),
    )


# --- trace.json: the pass of a paused run -------------------------------------------------------

MAX_TRACE_BYTES = 2 << 20
"""A pass is written whole up to this size (about 25 ms to write or read 1 MB, once a pause):
the toy data's networks (2-8-8-2: 3 kB), digits' and MNIST's default widths (64-100-50-20-10:
0.15 MB; 784-100-50-20-10: 1.06 MB); wider ones (784-512-...) are summarised."""
MAX_TRACE_NODES = 4 * MAX_DEPTH + 8
"""Nodes a pass may have: Affine, BatchNorm, activation and Dropout per layer, softmax, loss."""
MAX_TRACE_VALUES = MAX_TRACE_BYTES // 2
"""Numbers one field of trace.json may hold, at most (each takes at least 2 bytes)."""


@dataclass(frozen=True)
class SavedTrace:
    """trace.json read back: where the paused run was, and its pass (None when too large)."""

    epoch: int
    step: int
    split: str
    sample: int
    label: int
    traced: SamplePass | None
    too_large: int | None = None
    """The size in bytes of a pass that was not written whole."""


def dumps_trace(epoch: int, step: int, traced: SamplePass) -> str:
    """The text of trace.json: the whole pass, or its summary when over MAX_TRACE_BYTES."""
    record = {"epoch": epoch, "step": step, **traced.record()}
    text = json.dumps(record, allow_nan=False, separators=(",", ":"))
    if len(text) <= MAX_TRACE_BYTES:
        return text
    keys = ("epoch", "step", "split", "sample", "label")
    return json.dumps({**{key: record[key] for key in keys}, "too_large": len(text)})


def _values(f: _Fields, value: Any, field: str) -> tuple[float, ...]:
    """A list of numbers or nulls (null: a value that was not finite)."""
    if not isinstance(value, list) or len(value) > MAX_TRACE_VALUES:
        raise f.fail(field, f"must be a list of at most {MAX_TRACE_VALUES} numbers")
    for item in value:
        if item is not None and (not isinstance(item, int | float) or isinstance(item, bool)):
            raise f.fail(field, "must hold numbers or null", item)
    return tuple(math.nan if item is None else float(item) for item in value)


def _trace_node(f: _Fields, value: Any, where: str) -> NodePass:
    from dnn_tui.training.trace import NODE_KINDS, NodePass  # torch: only once a pass is read

    node = f.object(value, where)
    assert node is not None
    f.require(node, ("name", "kind", "output", "grad_output"), f"{where}.")
    f.text(node["name"], f"{where}.name")
    if node["kind"] not in NODE_KINDS:
        raise f.fail(f"{where}.kind", f"must be one of {', '.join(NODE_KINDS)}", node["kind"])
    grads: dict[str, Any] = {}
    for key in ("grad_bias", "grad_gamma", "grad_beta"):
        if key in node:
            grads[key] = _values(f, node[key], f"{where}.{key}")
    if "grad_weight" in node:
        rows = node["grad_weight"]
        if not isinstance(rows, list) or len(rows) > MAX_TRACE_VALUES:
            raise f.fail(f"{where}.grad_weight", "must be a list of rows")
        weight = tuple(_values(f, row, f"{where}.grad_weight[{i}]") for i, row in enumerate(rows))
        if len({len(row) for row in weight}) > 1:
            raise f.fail(f"{where}.grad_weight", "must have rows of one length")
        grads["grad_weight"] = weight
    return NodePass(
        name=node["name"][:64],
        kind=node["kind"],
        output=_values(f, node["output"], f"{where}.output"),
        grad_output=_values(f, node["grad_output"], f"{where}.grad_output"),
        **grads,
    )


def check_trace(data: Any, path: Path) -> SavedTrace:
    """trace.json's fields checked (``dumps_trace``); RunError naming the field and the rule."""
    from dnn_tui.training.trace import SamplePass  # torch: only once a pass is read

    f = _Fields(path)
    record = f.object(data, "")
    assert record is not None
    f.require(record, ("epoch", "step", "split", "sample", "label"), "")
    epoch = f.integer(record["epoch"], "epoch")
    step = f.integer(record["step"], "step")
    sample = f.integer(record["sample"], "sample")
    label = f.integer(record["label"], "label")
    if record["split"] not in ("test", "val", "train"):
        raise f.fail("split", "must be test, val or train", record["split"])
    assert epoch is not None and step is not None and sample is not None and label is not None
    where = (epoch, step, record["split"], sample, label)
    if "too_large" in record:
        return SavedTrace(*where, None, f.integer(record["too_large"], "too_large"))
    f.require(record, ("input", "loss", "nodes"), "")
    nodes = record["nodes"]
    if not isinstance(nodes, list) or not 0 < len(nodes) <= MAX_TRACE_NODES:
        raise f.fail("nodes", f"must be a list of 1 to {MAX_TRACE_NODES} nodes")
    f.number(record["loss"], "loss")
    loss = math.nan if record["loss"] is None else float(record["loss"])
    traced = SamplePass(
        split=record["split"],
        sample=sample,
        input=_values(f, record["input"], "input"),
        label=label,
        loss=loss,
        nodes=tuple(_trace_node(f, node, f"nodes[{i}]") for i, node in enumerate(nodes)),
    )
    softmax = [node for node in traced.nodes if node.kind == "softmax"]
    if len(softmax) != 1 or not 0 <= label < len(softmax[0].output):
        raise f.fail("nodes", "must hold one softmax node with an output for the label")
    return SavedTrace(*where, traced)


def read_trace(run_dir: str | Path) -> SavedTrace | None:
    """The run's trace.json read and checked; None when the run wrote none (yet)."""
    path = Path(run_dir) / TRACE_FILE
    if not (path.exists() or path.is_symlink()):
        return None
    data = read_run_file(path, MAX_TRACE_BYTES + 4096)
    return check_trace(parse_json(path, data), path)
