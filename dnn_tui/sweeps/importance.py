"""What mattered in a sweep: each searched option's share of the objective's variance
(Optuna's fANOVA evaluator) and a parallel-coordinates figure, one line per run.

Runs without any UI; Optuna is imported when importance is computed. Both read the sweep's
``sweep.json`` only (and, for a run whose entry predates the field, its history.json): the
runs that ended with a result (completed, early-stopped, diverged after an epoch, pruned)
and their best validation loss, the objective a search minimizes. A search's options are
taken with its space's ranges (a log range on a log scale); a grid's with its values, as
categories (numbers in order). The shares sum to 1; an option the evaluator leaves out (one
value in every run) has 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text

from dnn_tui.config import OPTION_SECTION
from dnn_tui.fileio import visible
from dnn_tui.sweeps.space import Dimension, dimension
from dnn_tui.training.status import ENDED_ON_ITS_OWN

OBJECTIVE = "best val loss"
EVALUATOR = "fanova"
MIN_RUNS = 2


class ImportanceError(ValueError):
    """A sweep whose importance cannot be told (too few runs with a result)."""


@dataclass(frozen=True)
class Point:
    """One run with a result: its folder, its option texts and its objective."""

    dir: str
    values: dict[str, str]
    objective: float


@dataclass(frozen=True)
class WhatMattered:
    importance: dict[str, float]
    """Option -> share of the objective's variance (sums to 1), largest first."""
    dims: tuple[Dimension, ...]
    points: tuple[Point, ...]
    runs: int
    """Runs in sweep.json (the points are those with a result)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "importance": self.importance,
            "evaluator": EVALUATOR,
            "objective": "best validation loss",
            "runs": self.runs,
            "runs_with_result": len(self.points),
            "points": [
                {"dir": p.dir, "values": p.values, "objective": p.objective} for p in self.points
            ],
        }


def sweep_dims(state: Mapping[str, Any]) -> list[Dimension]:
    """The searched options: a search's space, or a grid's axes as choices."""
    space = state.get("space")
    if isinstance(space, dict) and space:
        return [dimension(k, str(v)) for k, v in space.items() if k in OPTION_SECTION]
    grid = state.get("grid")
    dims = []
    for key, values in (grid if isinstance(grid, dict) else {}).items():
        if key in OPTION_SECTION and isinstance(values, list) and values:
            texts = tuple(dict.fromkeys(visible(v) for v in values))
            dims.append(Dimension(key, "choice", choices=_ordered(texts)))
    return dims


def _ordered(texts: tuple[str, ...]) -> tuple[str, ...]:
    """Numbers in increasing order (a figure's axis reads up), other values as given."""
    try:
        return tuple(sorted(texts, key=float))
    except ValueError:
        return texts


def points(root: Path, state: Mapping[str, Any], dims: Sequence[Dimension]) -> list[Point]:
    out = []
    for entry in state.get("runs") or []:
        if not isinstance(entry, dict) or entry.get("status") not in ENDED_ON_ITS_OWN:
            continue
        values = entry.get("values") or {}
        texts = {d.name: visible(values.get(d.name)) for d in dims}
        if not all(d.contains(texts[d.name]) for d in dims):
            continue
        loss = entry.get("best_val_loss")
        name = entry.get("dir")
        if not _finite(loss) and isinstance(name, str) and _plain_name(name):
            loss = _history_loss(Path(root) / name)
        if _finite(loss):
            out.append(Point(visible(entry.get("dir")), texts, float(loss)))
    return out


def _plain_name(name: str) -> bool:
    """A run folder's name as a sweep writes it: inside the sweep's folder."""
    return "/" not in name and name not in ("", ".", "..")


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _history_loss(run_dir: Path) -> float | None:
    from dnn_tui.rundir.files import HISTORY_FILE, RunError, read_history
    from dnn_tui.rundir.readings import best_record

    try:
        history = read_history(run_dir / HISTORY_FILE)
    except (RunError, OSError):
        return None
    record = best_record(history)
    value = None if record is None else record.get("val_loss")
    return float(value) if _finite(value) else None


def what_mattered(root: Path, state: Mapping[str, Any]) -> WhatMattered:
    """The importance of each option of the sweep in root; ImportanceError when fewer than
    two runs have a result."""
    import optuna

    dims = sweep_dims(state)
    if not dims:
        raise ImportanceError("the sweep searched no option (no space, no grid)")
    found = points(root, state, dims)
    if len(found) < MIN_RUNS:
        raise ImportanceError(
            f"importance needs at least {MIN_RUNS} runs with a result; the sweep has "
            f"{len(found)} of {len(state.get('runs') or [])}"
        )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize")
    dists = {d.name: d.distribution() for d in dims}
    study.add_trials(
        [
            optuna.trial.create_trial(
                params={d.name: d.param(p.values[d.name]) for d in dims},
                distributions=dists,
                value=p.objective,
            )
            for p in found
        ]
    )
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
    shares = optuna.importance.get_param_importances(study, evaluator=evaluator)
    total = float(sum(shares.values()))
    if not total > 0:  # every run alike: nothing to tell apart, every option the same share
        shares, total = {d.name: 1.0 for d in dims}, float(len(dims))
    full = {d.name: float(shares.get(d.name, 0.0)) / total for d in dims}
    ordered = dict(sorted(full.items(), key=lambda item: -item[1]))
    return WhatMattered(ordered, tuple(dims), tuple(found), len(state.get("runs") or []))


# --- figures ----------------------------------------------------------------------------------


def importance_bars(result: WhatMattered, width: int = 40) -> Text:
    """One line per option: its name, a bar and its share."""
    text = Text(no_wrap=True, overflow="crop")
    name_width = max(len(name) for name in result.importance)
    for name, share in result.importance.items():
        cells = round(share * width)
        text.append(f"{name:<{name_width}} ")
        text.append("█" * cells, style="bold cyan")
        text.append("·" * (width - cells), style="dim")
        text.append(f" {share:6.1%}\n")
    return text


def _position(dim: Dimension, text: str) -> float:
    """Where a value sits on its axis: 0 at the bottom, 1 at the top."""
    if dim.kind == "choice":
        index = dim.choices.index(text) if text in dim.choices else 0
        return index / (len(dim.choices) - 1) if len(dim.choices) > 1 else 0.5
    value, low, high = float(text), dim.low, dim.high
    if dim.kind == "log":
        value, low, high = math.log10(value), math.log10(low), math.log10(high)
    return (value - low) / (high - low) if high > low else 0.5


def _ends(dim: Dimension) -> tuple[str, str]:
    if dim.kind == "choice":
        return dim.choices[-1], dim.choices[0]
    return f"{dim.high:g}", f"{dim.low:g}"


def parallel_coordinates(result: WhatMattered, width: int = 78, height: int = 12) -> Text:
    """One line per run across the options (in order of importance) and the objective
    (lower is better, at the bottom), coloured from the best run (green) to the worst (red);
    the best runs are drawn last, on top."""
    order = {name: i for i, name in enumerate(result.importance)}
    dims = sorted(result.dims, key=lambda d: order.get(d.name, 0))
    losses = [p.objective for p in result.points]
    low, high = min(losses), max(losses)
    axes = len(dims) + 1
    width, height = max(width, 8 * axes), max(height, 4)
    columns = [round(i * (width - 1) / (axes - 1)) for i in range(axes)]
    grid: list[list[tuple[str, str]]] = [[(" ", "")] * width for _ in range(height)]
    for column in columns:
        for row in range(height):
            grid[row][column] = ("│", "dim")
    ranked = sorted(result.points, key=lambda p: -p.objective)  # the worst first
    for rank, point in enumerate(ranked):
        share = rank / (len(ranked) - 1) if len(ranked) > 1 else 1.0
        style = f"rgb({round(220 * (1 - share))},{round(60 + 160 * share)},80)"
        ys = [_position(d, point.values[d.name]) for d in dims]
        ys.append((point.objective - low) / (high - low) if high > low else 0.5)
        for i in range(axes - 1):
            left, right = columns[i], columns[i + 1]
            for x in range(left, right + 1):
                t = (x - left) / (right - left) if right > left else 0.0
                y = ys[i] + (ys[i + 1] - ys[i]) * t
                row = height - 1 - round(y * (height - 1))
                mark = "●" if x in (left, right) else "·"
                grid[row][x] = (mark, style)
    for dim, column, next_column in zip(dims, columns, columns[1:], strict=False):
        _label_choices(grid, dim, column, next_column - column - 2)
    text = Text(no_wrap=True, overflow="crop")
    names = [d.name for d in dims] + [OBJECTIVE]
    tops = [_ends(d)[0] for d in dims] + [f"{high:.3g}"]
    bottoms = [_ends(d)[1] for d in dims] + [f"{low:.3g}"]
    text.append(_labels(tops, columns, width) + "\n", style="dim")
    for row in grid:
        for char, style in row:
            text.append(char, style=style or None)
        text.append("\n")
    text.append(_labels(bottoms, columns, width) + "\n", style="dim")
    text.append(_labels(names, columns, width), style="bold")
    return text


def _label_choices(
    grid: list[list[tuple[str, str]]], dim: Dimension, column: int, room: int
) -> None:
    """Each value of a choice axis between its ends, right of the axis in its row (the ends
    are named above and below the figure): cut to the room before the next axis, left out
    where it has less than 3 cells or another value's label holds the row."""
    if dim.kind != "choice" or room < 3:
        return
    height, taken = len(grid), {0, len(grid) - 1}
    for choice in dim.choices[1:-1]:
        row = height - 1 - round(_position(dim, choice) * (height - 1))
        if row in taken:
            continue
        taken.add(row)
        label = choice if len(choice) <= room else choice[: room - 1] + "…"
        for i, char in enumerate(label):
            grid[row][column + 1 + i] = (char, "dim italic")


def _labels(labels: Sequence[str], columns: Sequence[int], width: int) -> str:
    """Each label under its axis (the first left-aligned, the last right-aligned)."""
    line = [" "] * width
    for i, (label, column) in enumerate(zip(labels, columns, strict=True)):
        room = (columns[1] - columns[0]) - 1 if len(columns) > 1 else width
        label = label[: max(1, room)]
        if i == 0:
            start = column
        elif i == len(columns) - 1:
            start = column - len(label) + 1
        else:
            start = column - len(label) // 2
        start = max(0, min(start, width - len(label)))
        line[start : start + len(label)] = list(label)
    return "".join(line).rstrip()
