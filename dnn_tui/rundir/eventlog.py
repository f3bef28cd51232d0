"""events.jsonl's lines read back as engine events, each checked field by field.

Runs without any UI. The log is untrusted input (anyone who can write to a shared runs
folder may have appended to it), and a watcher hands what it reads to widgets that index
lists and format numbers: a line is an event only when every field has its documented type
(``dnn_tui.training.events``), an ``EpochEnded`` record holds what history.json's epoch
records hold (``dnn_tui.rundir.files``), and the per-layer figures agree in length.
``parse_event_line`` never raises anything but ValueError, whose message names the field
and the rule; the follower skips such a line, naming its number, and goes on.
"""

from __future__ import annotations

import json
import math
import types
import typing
from dataclasses import fields
from typing import Any

from dnn_tui.fileio import shorten
from dnn_tui.rundir.files import EPOCH_KEYS, SCALAR_COLUMNS
from dnn_tui.training.events import (
    ActivationsMeasured,
    BoundaryMeasured,
    ControlApplied,
    EpochEnded,
    Event,
    RunFinished,
    StepMeasured,
    WeightsMeasured,
    from_record,
)
from dnn_tui.training.status import RECORDED

BOOLEAN_CONTROLS = frozenset({"stop", "pause", "clipping", "step"})
"""ControlApplied kinds whose value is true or false."""
NUMBER_CONTROLS = frozenset({"clip_norm", "lr"})
"""ControlApplied kinds whose value is a number."""


def parse_event_line(line: bytes) -> Event:
    """The event one events.jsonl line holds; ValueError naming the field and rule if none."""
    try:
        record = json.loads(line)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except ValueError as error:
        raise ValueError(f"not JSON ({str(error)[:80]})") from None
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    try:
        event = from_record(record)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    check_event(event)
    return event


def check_event(event: Event) -> None:
    """ValueError naming the first field of event that does not have its documented type."""
    name = type(event).__name__
    hints = _hints(type(event))
    for spec in fields(event):
        if spec.name in hints and spec.name != "config":
            value = getattr(event, spec.name)
            if not _fits(value, hints[spec.name]):
                raise ValueError(
                    f"{name}.{spec.name}: must be {_said(hints[spec.name])}, got {shorten(value)}"
                )
    if isinstance(event, EpochEnded):
        _check_epoch_record(event.record)
    elif isinstance(event, ControlApplied):
        if event.kind in BOOLEAN_CONTROLS and not isinstance(event.value, bool):
            raise ValueError(f"ControlApplied.value: {event.kind} must be true or false")
        if event.kind in NUMBER_CONTROLS and not _is_number(event.value):
            raise ValueError(f"ControlApplied.value: {event.kind} must be a number")
    elif isinstance(event, StepMeasured):
        if not (_is_number(event.clip_norm) and _is_number(event.lr)):
            raise ValueError("StepMeasured.clip_norm, lr: must be numbers (the knobs in force)")
        if event.update_ratio and len(event.update_ratio) != len(event.weight_norm):
            raise ValueError("StepMeasured.update_ratio: must hold one entry per weight norm")
    elif isinstance(event, RunFinished) and event.status not in RECORDED:
        raise ValueError(f"RunFinished.status: must be one of {', '.join(RECORDED)}")
    elif isinstance(event, ActivationsMeasured):
        count = len(event.layers)
        for key in ("mean", "std", "share", "hist"):
            if len(getattr(event, key)) != count:
                raise ValueError(f"ActivationsMeasured.{key}: must hold one entry per layer")
    elif isinstance(event, WeightsMeasured):
        count = len(event.layers)
        for key in ("norm", "update_ratio", "hist", "hist_max"):
            if len(getattr(event, key)) != count:
                raise ValueError(f"WeightsMeasured.{key}: must hold one entry per layer")
    elif isinstance(event, BoundaryMeasured):
        _check_boundary(event)


MAX_GRID = 256
"""Most rows or columns a logged boundary grid may have (the engine's is 48 x 24)."""


def _check_boundary(event: BoundaryMeasured) -> None:
    """A grid of whole rows of class indices, and points inside it."""
    rows = len(event.grid)
    columns = len(event.grid[0]) if rows else 0
    if not (0 < rows <= MAX_GRID and 0 < columns <= MAX_GRID):
        raise ValueError(f"BoundaryMeasured.grid: must have 1 to {MAX_GRID} rows and columns")
    if not 0 < event.classes <= MAX_GRID:
        raise ValueError(f"BoundaryMeasured.classes: must be 1 to {MAX_GRID}")
    for row in event.grid:
        if len(row) != columns or not all(0 <= value < event.classes for value in row):
            raise ValueError(
                "BoundaryMeasured.grid: every row must hold as many class indices as the first"
            )
    for row, column, label in event.points:
        if not (0 <= row < rows and 0 <= column < columns and 0 <= label < event.classes):
            raise ValueError("BoundaryMeasured.points: must lie in the grid, of a known class")
    if not all(_is_number(v) for v in (*event.x_range, *event.y_range)):
        raise ValueError("BoundaryMeasured.x_range, y_range: must be numbers")


def _check_epoch_record(record: dict[str, Any]) -> None:
    """An epoch record as history.json holds it: its keys, a whole epoch number, numbers."""
    for key in EPOCH_KEYS:
        if key not in record:
            raise ValueError(f"EpochEnded.record.{key}: missing")
    epoch = record["epoch"]
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 1:
        raise ValueError(
            f"EpochEnded.record.epoch: must be an integer of at least 1, got {shorten(epoch)}"
        )
    for key in SCALAR_COLUMNS[1:]:
        value = record[key]
        if value is not None and not (_is_number(value) and value >= 0):
            raise ValueError(f"EpochEnded.record.{key}: must be a number of at least 0 or null")
    norms = record["grad_norm"]
    if not isinstance(norms, list) or not all(v is None or _is_number(v) for v in norms):
        raise ValueError("EpochEnded.record.grad_norm: must be a list of numbers")
    marks = record["events"]
    if not isinstance(marks, list) or not all(isinstance(mark, dict) for mark in marks):
        raise ValueError("EpochEnded.record.events: must be a list of objects")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The resolved annotations of an event class (``config`` is checked by the config
    parser, so RunConfig need not be resolved)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls, localns={"RunConfig": object})
    return _HINTS[cls]


def _fits(value: Any, hint: Any) -> bool:
    """Whether a value read from JSON has the type ``hint`` (a float field may be null: a
    non-finite number in the run)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or hint is object:
        return True
    if origin in (types.UnionType, typing.Union):
        return any(_fits(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return value is None or (isinstance(value, int | float) and not isinstance(value, bool))
    if hint is str:
        return isinstance(value, str)
    if origin is dict:
        return isinstance(value, dict) and (
            not args or all(_fits(v, args[1]) for v in value.values())
        )
    if origin is tuple:
        if not isinstance(value, tuple | list):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_fits(item, args[0]) for item in value)
        return len(value) == len(args) and all(map(_fits, value, args))
    return isinstance(value, hint) if isinstance(hint, type) else True


def _said(hint: Any) -> str:
    """A type in words, for messages."""
    text = str(hint).replace("typing.", "")
    return {
        "<class 'int'>": "an integer",
        "<class 'float'>": "a number or null",
        "<class 'str'>": "a string",
        "<class 'bool'>": "true or false",
    }.get(text, text)
