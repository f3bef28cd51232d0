"""Sweeps: a grid of runs over run options, each an ordinary run directory in one sweep folder.

Runs without any UI and without torch. A sweep is one or more base configs (a preset, a
config file, each preset of a suite, or the base of a sweep file) and a grid: run options
with several values each. Every combination of every base is one run, checked with the same
rules as ``dnn-tui train`` before the first run starts. The sweep folder holds the run
directories and ``sweep.json`` (``SWEEP_FILE``): the grid, each run's directory, base, grid
values and state, and the sweep's status, rewritten atomically whenever a run starts or ends.

A sweep file is TOML: a config file's keys (``[model]``, ``[data]``, ``[train]``), an
optional ``base = "PRESET"`` they override, and a ``[grid]`` table of arrays::

    base = "baseline"
    [train]
    epochs = 5
    [grid]
    lr = [0.01, 0.001]
    hidden = [[100, 50], [200], []]   # [] = no hidden layer
    seed = [0, 1, 2]
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import re
import statistics
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dnn_tui.config import (
    MAX_CONFIG_BYTES,
    OPTION_SECTION,
    ConfigError,
    RunConfig,
    from_dict,
    key_text,
    parse_option,
    shorten,
    shorten_path,
    to_dict,
    unused_options,
    validate,
    with_options,
)
from dnn_tui.fileio import FileRefused, Folder, atomic_write_text, read_small_file
from dnn_tui.presets import load_preset
from dnn_tui.training.status import ENDED_WELL, Status

SWEEP_FILE = "sweep.json"
SWEEP_SCHEMA = 1
LIST_OPTIONS = frozenset({"hidden", "dropout"})
"""Options whose values hold commas: on the command line their grid values are split on ``/``."""
SEED = "seed"
"""The grid axis the comparison averages over (mean and spread)."""


DEFAULT_MAX_RUNS = 10_000
"""Runs a sweep makes at most unless ``--max-runs`` says more: a typo in a grid (a value list
pasted twice, one axis too many) multiplies the runs, and 10^9 planned runs end in a
MemoryError after minutes, so the count is checked before anything is allocated."""
MAX_SWEEP_RUNS = 100_000
"""The most ``--max-runs`` allows: sweep.json's read limit is derived from it
(``MAX_SWEEP_BYTES``), so a sweep the tool makes is one it can read back."""


class GridError(ConfigError):
    """A --grid value that breaks the option's rules; the message names the key."""


class GridTooLarge(GridError):
    """A grid with more combinations than the limit (a usage error, checked before expanding)."""


def grid_size(bases: int, axes: Sequence[Axis]) -> int:
    """The number of runs a grid makes: the bases times the product of the value counts."""
    return bases * math.prod(len(axis.values) for axis in axes)


def check_grid_size(bases: int, axes: Sequence[Axis], limit: int = DEFAULT_MAX_RUNS) -> int:
    """The run count of the grid, counted (never expanded); GridTooLarge names the count and
    the limit when it is over it."""
    count = grid_size(bases, axes)
    if count > limit:
        shown = f"{count:,}" if count < 10**30 else f"about 10^{len(str(count)) - 1}"
        raise GridTooLarge(
            f"the grid makes {shown} runs, more than the limit of {limit:,}; "
            f"give --max-runs N to allow up to {MAX_SWEEP_RUNS:,}"
        )
    return count


@dataclass(frozen=True)
class Axis:
    """One grid option and its values, as text that ``parse_option`` reads."""

    name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class PlannedRun:
    """One run of the sweep: its directory name, base, grid values and resolved config."""

    name: str
    base: str | None
    values: dict[str, str]
    config: RunConfig


def _known() -> str:
    return ", ".join(OPTION_SECTION)


def parse_grid(text: str) -> Axis:
    """``KEY=V1,V2`` (``KEY=V1/V2`` for hidden and dropout) -> Axis; GridError names the key."""
    key, sep, values = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep or not key:
        raise GridError(f"{key_text(text)}: must be KEY=V1,V2 (for example lr=0.1,0.01)")
    if key not in OPTION_SECTION:
        raise GridError(f"{key_text(key)}: not a run option (known: {_known()})")
    parts = [p.strip() for p in values.split("/" if key in LIST_OPTIONS else ",")]
    if any(not p for p in parts):
        rule = "values separated by /" if key in LIST_OPTIONS else "values separated by commas"
        shown = shorten(values) or "''"
        raise GridError(f"{key}: an empty value in {shown}; give {rule}")
    return _axis(key, parts)


def _axis(key: str, parts: Sequence[str]) -> Axis:
    if len(set(parts)) != len(parts):
        raise GridError(f"{key}: a value given twice in {shorten(', '.join(parts))}")
    for part in parts:
        try:
            parse_option(key, part)  # the syntax; the rules are checked on each run's config
        except ConfigError as error:
            raise GridError(str(error)) from None
    return Axis(key, tuple(parts))


def expand(
    bases: Sequence[tuple[str | None, RunConfig]],
    axes: Sequence[Axis],
    max_runs: int = DEFAULT_MAX_RUNS,
) -> list[PlannedRun]:
    """Every combination of every base, validated; GridError names the key and the rule.
    The runs are counted before anything is expanded: over ``max_runs``, GridTooLarge."""
    check_grid_size(len(bases), axes, max_runs)
    names = [axis.name for axis in axes]
    if len(set(names)) != len(names):
        twice = next(name for name in names if names.count(name) > 1)
        raise GridError(f"{twice}: on the grid twice; give its values once, separated")
    for axis in axes:  # each value on its own first, so that the error names its key
        for value in axis.values:
            _checked(bases[0][1], {axis.name: value}, axis.name)
    combos = list(itertools.product(*(axis.values for axis in axes)))
    width = len(str(len(bases) * len(combos)))
    runs: list[PlannedRun] = []
    for base, config in bases:
        for combo in combos:
            values = dict(zip(names, combo, strict=True))
            resolved = _checked(config, values, ", ".join(f"{k}={v}" for k, v in values.items()))
            resolved = replace(resolved, preset=run_label(config.preset, values))
            label = "-".join([*([base] if len(bases) > 1 and base else []), *slugs(values)])
            name = f"{len(runs) + 1:0{width}d}-{label}"[:120]
            runs.append(PlannedRun(name, base, values, resolved))
    for name in names:  # an option no run reads (init_std without init normal) is a mistake
        reasons = [unused_options(run.config).get(name) for run in runs]
        if all(reasons):
            raise GridError(f"{name}: {reasons[0]}")
    return runs


def run_label(base: str | None, values: Mapping[str, str]) -> str:
    """A sweep run's name as lists show it (its config's ``preset``): the base preset (if
    any) and the grid values it ran with, ``deep-sigmoid activation=relu init=he``; the base
    name alone would claim the base's experiment for a run that changed it."""
    return " ".join([*([base] if base else []), *(f"{k}={v}" for k, v in values.items())])


def _checked(config: RunConfig, values: Mapping[str, str], where: str) -> RunConfig:
    try:
        options = {name: parse_option(name, text) for name, text in values.items()}
        return validate(with_options(config, options))
    except ConfigError as error:
        message = str(error)
        if not message.startswith(f"{where}:"):
            message = f"{where}: {message}" if "=" in where else message
        raise GridError(message) from None


check_values = _checked
"""A base config with option texts applied, validated; GridError names ``where`` and the rule."""


def slugs(values: Mapping[str, str]) -> list[str]:
    return [re.sub(r"[^A-Za-z0-9.,=_+-]+", "_", f"{k}={v}") for k, v in values.items()]


# --- sweep files ------------------------------------------------------------------------------


def load_sweep_file(path: str | Path) -> tuple[RunConfig, list[Axis]]:
    """A sweep file's base config and grid; ConfigError names the file and the key."""
    config, axes, _space = load_sweep(path)
    return config, axes


def load_sweep(path: str | Path) -> tuple[RunConfig, list[Axis], dict[str, Any] | None]:
    """A sweep file's base config, grid and ``[space]`` table (None when it has none; the
    search checks it); ConfigError names the file and the key."""
    name = shorten_path(path)
    try:
        blob = read_small_file(Path(path), MAX_CONFIG_BYTES)
        data = tomllib.loads(blob.decode("utf-8"))
    except FileRefused as error:
        raise ConfigError(f"{name}: {error.strerror}; a sweep file is a TOML file") from None
    except OSError as error:
        raise ConfigError(f"{name}: cannot read the sweep file: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: not a UTF-8 text file") from None
    except (tomllib.TOMLDecodeError, RecursionError, ValueError) as error:
        raise ConfigError(f"{name}: not valid TOML: {error}") from None
    grid = data.pop("grid", None)
    space = data.pop("space", None)
    if space is not None and (not isinstance(space, dict) or not space):
        raise ConfigError(f'{name}: space: must be a table like lr = "log:1e-4..1e-1"')
    if space is not None and grid is None:
        grid = {}
    elif not isinstance(grid, dict) or not grid:
        raise ConfigError(f"{name}: grid: missing; add a [grid] table like lr = [0.1, 0.01]")
    base = data.pop("base", None)
    merged: dict[str, Any] = {}
    if base is not None:
        if not isinstance(base, str):
            raise ConfigError(f"{name}: base: must be a preset name, got {shorten(base)}")
        try:
            merged = to_dict(load_preset(base))
        except ConfigError as error:
            raise ConfigError(f"{name}: base: {error}") from None
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    config = from_dict(merged, name)
    axes = []
    for key, values in grid.items():
        if key not in OPTION_SECTION:
            raise ConfigError(f"{name}: grid.{key_text(key)}: not a run option (known: {_known()})")
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{name}: grid.{key}: must be an array of values like [1, 2]")
        try:
            axes.append(_axis(key, [_text(v) for v in values]))
            for value in axes[-1].values:
                _checked(config, {key: value}, key)
        except ConfigError as error:
            raise ConfigError(f"{name}: grid.{error}") from None
    return config, axes, space


def _text(value: Any) -> str:
    """A TOML value as the option text parse_option reads."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value) or "none"
    if isinstance(value, int | float | str):
        return str(value)
    return shorten(value)  # a table or a date: parse_option refuses it by name


value_text = _text


# --- the sweep file in the folder and the comparison ----------------------------------------


def new_state(runs: Sequence[PlannedRun], axes: Sequence[Axis], **info: Any) -> dict[str, Any]:
    """sweep.json's content before any run starts; ``info`` adds backend, jobs, threads..."""
    return {
        "schema": SWEEP_SCHEMA,
        "status": Status.RUNNING,
        "grid": {axis.name: list(axis.values) for axis in axes},
        **info,
        "runs": [
            {"dir": run.name, "base": run.base, "values": run.values, "status": "pending"}
            for run in runs
        ],
    }


class SweepClaimError(ConfigError):
    """A sweep folder that is not this sweep's: not a folder, not empty, or claimed by another."""


def claim_sweep_dir(root: Path, state: Mapping[str, Any]) -> None:
    """Make root this sweep's folder, as a run claims its directory: made with ``mkdir`` or
    found empty, then claimed by creating ``sweep.json`` (the sweep's first state)
    exclusively, so that of two sweeps started together on the same ``--out`` one goes on
    and the other is refused, naming the folder. Whoever made the folder claims it the same
    way: a sweep that found it a moment later may have claimed it first."""
    try:
        root.mkdir(parents=True)
    except FileExistsError:
        if not root.is_dir():
            raise SweepClaimError(
                f"{shorten_path(root)}: --out must be a new or empty folder"
            ) from None
    data = _state_json(state).encode()
    with Folder(root) as folder:
        try:
            folder.create_exclusive(SWEEP_FILE, data)
        except FileExistsError:
            raise SweepClaimError(
                f"{shorten_path(root)}: --out must be a new or empty folder "
                f"(another sweep claimed it: its {SWEEP_FILE} is there)"
            ) from None
        if any(name != SWEEP_FILE for name in os.listdir(root)):
            folder.remove(SWEEP_FILE)
            raise SweepClaimError(f"{shorten_path(root)}: --out must be a new or empty folder")


def write_state(root: Path, state: Mapping[str, Any]) -> None:
    """Rewrite sweep.json atomically; its texts are cut to ``STATE_TEXT_BYTES`` (see
    ``MAX_STATE_BYTES``)."""
    atomic_write_text(root / SWEEP_FILE, _state_json(state))


def _state_json(state: Mapping[str, Any]) -> str:
    return json.dumps(_bounded(state), indent=2, allow_nan=False) + "\n"


STATE_TEXT_BYTES = 400
"""The most bytes of JSON a text in sweep.json takes (a longer error, path or grid value is cut
with an ellipsis; the run's own files keep the whole): what bounds each entry."""


def _bounded(value: Any) -> Any:
    """value with every text cut so that its JSON takes at most STATE_TEXT_BYTES."""
    if isinstance(value, str):
        if len(json.dumps(value)) <= STATE_TEXT_BYTES:
            return value
        keep = STATE_TEXT_BYTES // 6 - 2  # a character takes at most 6 bytes (\u001b)
        while keep < len(value) and len(json.dumps(value[: keep + 1] + "…")) <= STATE_TEXT_BYTES:
            keep += 1
        return value[:keep] + "…"
    if isinstance(value, dict):
        return {_bounded(k) if isinstance(k, str) else k: _bounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_bounded(v) for v in value]
    return value


def largest_state_entry() -> dict[str, Any]:
    """A sweep.json run entry with every field the sweep writes at its longest: a text of
    STATE_TEXT_BYTES in each (longer than any number; a result read from a run's history.json
    may be a text) and every run option on the grid."""
    text = "x" * (STATE_TEXT_BYTES - 2)  # its JSON takes STATE_TEXT_BYTES, as much as any
    fields = (
        "dir",
        "base",
        "status",
        "started",
        "exit_code",
        "epochs",
        "best_epoch",
        "best_val_acc",
        "max_val_acc",
        "best_val_loss",
        "trial",
        "pruned_at",
        "rerun_of",
    )
    return {
        **{key: text for key in fields},
        "values": {name: text for name in OPTION_SECTION},
        **{key: text for key in ("test_acc", "error", "seconds")},
    }


def _largest_state(runs: int, grid_values: int) -> dict[str, Any]:
    text = "x" * (STATE_TEXT_BYTES - 2)  # its JSON takes STATE_TEXT_BYTES, as much as any
    return {
        "schema": SWEEP_SCHEMA,
        "status": text,
        "grid": {name: [text] * grid_values for name in OPTION_SECTION},
        "backend": text,
        **{key: text for key in ("search", "prune", "study", "objective", "resumed")},
        "space": {name: text for name in OPTION_SECTION},
        "trials": 2**63 - 1,
        "seed": 2**63 - 1,
        "jobs": 2**63 - 1,
        "threads": 2**63 - 1,
        "runs": [largest_state_entry()] * runs,
    }


def _state_bytes(runs: int, grid_values: int) -> int:
    return len(_state_json(_largest_state(runs, grid_values)))


MAX_STATE_ENTRY_BYTES = _state_bytes(2, 1) - _state_bytes(1, 1)
"""The most bytes one run adds to sweep.json."""
MAX_GRID_VALUE_BYTES = _state_bytes(1, 2) - _state_bytes(1, 1)
"""The most bytes one grid value of every option adds to sweep.json."""
MAX_STATE_BYTES = (
    _state_bytes(1, 1)
    + (MAX_SWEEP_RUNS - 1) * MAX_STATE_ENTRY_BYTES
    + (MAX_SWEEP_RUNS - 1) * MAX_GRID_VALUE_BYTES
)
"""sweep.json larger than this is not read: derived from the most runs a sweep may make
(``MAX_SWEEP_RUNS``, each entry at its longest) and a grid of as many values (an axis holds at
most as many values as the sweep has runs), so every sweep.json a sweep writes reads back."""


@dataclass(frozen=True)
class Row:
    """One line of the comparison: the runs that differ only by seed, summarized."""

    base: str | None
    values: dict[str, str]
    runs: int
    statuses: dict[str, int]
    val: tuple[float, float | None] | None
    """Mean and spread (sample standard deviation; None for one run) of the best epoch's
    validation accuracy (lowest validation loss, the weights kept)."""
    test: tuple[float, float | None] | None
    members: tuple[str, ...] = ()
    """The run folders of the point's seeds that ran their course: its ensemble's members."""
    ensemble: float | None = None
    """Test accuracy of the members' averaged outputs (``with_ensembles``); None when the
    point has fewer than two members or they could not be evaluated."""


def _spread(values: Sequence[Any]) -> tuple[float, float | None] | None:
    numbers = [v for v in values if isinstance(v, int | float) and math.isfinite(v)]
    if not numbers:
        return None
    return statistics.fmean(numbers), statistics.stdev(numbers) if len(numbers) > 1 else None


def summarize(entries: Sequence[Mapping[str, Any]]) -> list[Row]:
    """sweep.json's runs grouped over the seed axis, the best epochs' highest mean validation
    accuracy first."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for entry in entries:
        values = {k: v for k, v in entry["values"].items() if k != SEED}
        groups.setdefault(json.dumps([entry.get("base"), values]), []).append(entry)
    rows = []
    for group in groups.values():
        statuses: dict[str, int] = {}
        for entry in group:
            statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
        rows.append(
            Row(
                group[0].get("base"),
                {k: v for k, v in group[0]["values"].items() if k != SEED},
                len(group),
                statuses,
                _spread([e.get("best_val_acc") for e in group]),
                _spread([e.get("test_acc") for e in group]),
                tuple(
                    e["dir"]
                    for e in group
                    if e["status"] in ENDED_WELL and isinstance(e.get("dir"), str)
                ),
            )
        )
    return sorted(rows, key=lambda row: -math.inf if row.val is None else row.val[0], reverse=True)


def with_ensembles(root: Path, rows: Sequence[Row]) -> list[Row]:
    """rows with the test accuracy of each point's seeds as one ensemble, where it has two
    or more members that can be evaluated together (restoring them loads torch and data)."""
    from dnn_tui.analysis.ensemble import evaluate_ensemble
    from dnn_tui.rundir.files import RunError

    out = []
    for row in rows:
        members = [Path(root) / name for name in row.members if _plain_name(name)]
        if len(members) >= 2:
            # A member without weights or on another split: no ensemble for the point.
            with contextlib.suppress(RunError):
                row = replace(row, ensemble=evaluate_ensemble(members).acc)
        out.append(row)
    return out


def _plain_name(name: str) -> bool:
    """A run folder's name as a sweep writes it: inside the sweep's folder."""
    return "/" not in name and name not in ("", ".", "..")


def read_state(root: Path) -> dict[str, Any] | None:
    """sweep.json of the sweep folder root, or None when it is missing or not a sweep's (a
    reader, such as the dashboard watching a sweep, then waits or says so)."""
    try:
        state = json.loads(read_small_file(Path(root) / SWEEP_FILE, MAX_STATE_BYTES))
    except (OSError, FileRefused, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("runs"), list):
        return None
    if not all(
        isinstance(entry, dict) and isinstance(entry.get("dir"), str) for entry in state["runs"]
    ):
        return None
    return state


def ended(state: Mapping[str, Any]) -> bool:
    """Whether the sweep is over (every run ended, or it was stopped)."""
    return state.get("status") != Status.RUNNING


def run_dirs(root: Path, state: Mapping[str, Any]) -> list[Path]:
    """The run directories of the sweep that exist (runs never started have none)."""
    names = [entry["dir"] for entry in state["runs"]]
    dirs = [Path(root) / name for name in names if "/" not in name and name not in ("", ".", "..")]
    return [path for path in dirs if path.is_dir()]
