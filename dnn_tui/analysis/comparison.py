"""What a comparison of runs computes: settings that differ, train-validation gaps, a tidy CSV.

Runs without any UI and without torch; ``dnn-tui compare`` and the dashboard's compare
screen show the same numbers from here.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dnn_tui.config import RunConfig, format_option, to_dict
from dnn_tui.fileio import spreadsheet_cell, write_user_file
from dnn_tui.rundir.files import CONFIG_FILE, CSV_COLUMNS, HISTORY_FILE, RUN_FILES, csv_value

TIDY_COLUMNS = ("run", "preset", *CSV_COLUMNS, "best")
"""The tidy CSV's header: the run, its preset, every scalar column of an epoch record, then
``best``: 1 on the run's best epoch (lowest validation loss, the weights kept), else 0."""
IGNORED_SETTINGS = frozenset({"description"})
"""Config keys that describe a run rather than set it."""


def _flat(config: RunConfig) -> dict[str, Any]:
    """A config as ``section.key: value`` (and ``preset``), absent keys as None."""
    flat: dict[str, Any] = {}
    for key, value in to_dict(config).items():
        if isinstance(value, dict):
            flat.update({f"{key}.{sub}": v for sub, v in value.items()})
        elif key not in IGNORED_SETTINGS:
            flat[key] = value
    return flat


def config_differences(configs: Sequence[RunConfig]) -> list[tuple[str, list[str]]]:
    """The settings whose values are not the same in every config: (``section.key``, the value
    in each config as the command line writes it, ``-`` where absent)."""
    flats = [_flat(config) for config in configs]
    keys = sorted({key for flat in flats for key in flat}, key=_setting_order)
    rows = []
    for key in keys:
        values = [flat.get(key) for flat in flats]
        if any(value != values[0] for value in values[1:]):
            rows.append((key, ["-" if v is None else format_option(_plain(v)) for v in values]))
    return rows


def _plain(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _setting_order(key: str) -> tuple[int, str]:
    section = key.split(".", 1)[0]
    order = {"preset": 0, "model": 1, "train": 2, "data": 3}
    return order.get(section, 4), key


def tidy_csv(
    runs: Sequence[tuple[str, str | None, Mapping[str, Any]]], *, per_layer: bool = False
) -> str:
    """One CSV of runs given as (run name, preset, history): a header (``TIDY_COLUMNS``) and one
    row per run and epoch; non-finite or missing values are empty cells. Every cell goes
    through ``spreadsheet_cell``: a run folder named ``+cmd`` stays text in a spreadsheet.

    ``per_layer`` adds a ``grad_norm.<layer>`` column after ``best`` for each Linear layer of
    the runs (in the order the runs name them), empty for a run without that layer."""
    layers = per_layer_names([history for _, _, history in runs]) if per_layer else []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = [*TIDY_COLUMNS, *(f"{PER_LAYER_PREFIX}{name}" for name in layers)]
    writer.writerow([spreadsheet_cell(cell) for cell in header])
    for name, preset, history in runs:
        best = history.get("best_epoch")
        names = history.get("layers") or []
        for record in history.get("epochs") or []:
            cells = [_cell(csv_value(record, column)) for column in CSV_COLUMNS]
            is_best = int(best is not None and record.get("epoch") == best)
            row = [name, preset or "", *cells, is_best]
            if layers:
                row += _layer_cells(names, record.get("grad_norm"), layers)
            writer.writerow([spreadsheet_cell(cell) for cell in row])
    return out.getvalue()


PER_LAYER_PREFIX = "grad_norm."
"""The per-layer columns' prefix (no other column holds a dot, so a layer named ``total``
does not meet ``grad_norm_total``)."""


def per_layer_names(histories: Sequence[Mapping[str, Any]]) -> list[str]:
    """The Linear layers' names of the runs, each once, in the order the runs name them."""
    names: dict[str, None] = {}
    for history in histories:
        for name in history.get("layers") or []:
            names.setdefault(str(name))
    return list(names)


def _layer_cells(names: Sequence[Any], norms: Any, layers: Sequence[str]) -> list[Any]:
    """A record's gradient norm under each of ``layers`` (empty where the run has no such
    layer or the norm was not finite)."""
    mine: dict[str, Any] = {}
    if isinstance(norms, list):
        for name, norm in zip(names, norms, strict=False):
            mine.setdefault(str(name), norm)
    return [_cell(mine.get(layer)) for layer in layers]


SWEEP_FILE = "sweep.json"
"""A sweep folder's record (``sweeps.planning.SWEEP_FILE``; sweeps sit above this layer)."""
OTHERS_FILES = frozenset(
    {*RUN_FILES, SWEEP_FILE, "evaluation.json", "checkpoint.json", "checkpoint.safetensors"}
)
"""The files of a run or a sweep: in a folder holding one, a CSV is never written over them."""


def write_tidy_csv(target: Path, text: str) -> None:
    """Write a tidy CSV to the file a user named: atomically, as a new or a regular file only
    (a link, a FIFO or a device is refused by name), and in a run's or a sweep's folder only
    as a new file that is none of its own (``fileio.write_user_file``)."""
    guard = (CONFIG_FILE, HISTORY_FILE, SWEEP_FILE)
    write_user_file(target, text.encode("utf-8"), guarded_by=guard, reserved=OTHERS_FILES)


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return value


def run_labels(runs: Sequence[tuple[Path, str | None]]) -> list[str]:
    """Short names for runs given as (directory, preset): the preset (or the directory's name
    for a custom config), with the folder added where two would read the same."""
    base = [preset or path.name for path, preset in runs]
    labels = []
    for (path, _), label in zip(runs, base, strict=True):
        if base.count(label) > 1:
            # A run given by its bare name (``r1``) is told apart by the folder it is in.
            where = path.absolute().parent.name if path.name == label else path.name
            label = f"{label} ({where})"
        labels.append(label)
    named = list(labels)
    for i, label in enumerate(named):  # still the same: number them
        if named.count(label) > 1:
            labels[i] = f"{label} #{named[: i + 1].count(label)}"
    return labels
