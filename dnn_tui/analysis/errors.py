"""What a saved run gets wrong: its evaluation (stored or computed), pictures of its worst
mistakes, and the confusion matrix as text for a terminal of 80 columns.

Runs without any UI; torch loads only when an evaluation is computed from saved weights.
A run that ended with a test split keeps its evaluation in evaluation.json; an older run
(or one evaluated on other data) is evaluated again from model.safetensors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from dnn_tui.fileio import visible
from dnn_tui.rundir.files import (
    EVALUATION_FILE,
    WEIGHTS_FILE,
    RunError,
    load_evaluation,
    load_run,
)
from dnn_tui.training.evaluation import Evaluation
from dnn_tui.training.numbers import fmt_acc

if TYPE_CHECKING:
    from dnn_tui.config import RunConfig
    from dnn_tui.data import Dataset

PAIRS_SHOWN = 10
"""Most confused pairs a report lists."""
TABLE_WIDTH = 80
"""The columns the confusion table fits in."""
STORED = "evaluation.json"
COMPUTED = "computed from the saved weights"


@dataclass(frozen=True)
class Pictures:
    """The inputs of a run's worst mistakes, in a form a terminal can draw."""

    kind: Literal["image", "plane", "none"]
    shape: tuple[int, int] = (0, 0)
    """An image's (rows, columns)."""
    inputs: Mapping[int, tuple[float, ...]] = field(default_factory=dict)
    """Each worst mistake's input by its index in the split (pixels in [0, 1], or a point)."""
    plane: tuple[tuple[float, float, int], ...] = ()
    """Every point of the split with its class, for a 2-D dataset: where a mistake lies
    among them."""
    note: str | None = None
    """Why there are no pictures, when there are none."""


@dataclass(frozen=True)
class RunErrors:
    """A run's evaluation with where it came from, and the pictures of its worst mistakes."""

    path: Path
    evaluation: Evaluation
    source: str
    """``STORED`` or ``COMPUTED``."""
    pictures: Pictures


def evaluation_of(
    path: str | Path,
    options: Mapping[str, Any] | None = None,
    check: Callable[[RunConfig], None] | None = None,
) -> tuple[Evaluation, str]:
    """The run's evaluation: evaluation.json when the run has one and no options ask for other
    data, else computed from its saved weights; RunError says why neither can be had."""
    if not options:
        stored = load_evaluation(path)
        if stored is not None:
            return stored, STORED
    return _computed(path, options, check)[0], COMPUTED


def _computed(
    path: str | Path,
    options: Mapping[str, Any] | None,
    check: Callable[[RunConfig], None] | None = None,
) -> tuple[Evaluation, Dataset]:
    """The run evaluated again from its saved weights, with the data it was evaluated on."""
    from dnn_tui.analysis.restore import restore_run
    from dnn_tui.training.evaluation import assess

    saved = load_run(path)
    if saved.weights is None:
        raise RunError(
            f"{saved.path}: no {EVALUATION_FILE} and no {WEIGHTS_FILE} (the run kept no "
            "weights): nothing to evaluate",
            file=saved.path,
            rule="no weights kept",
        )
    run = restore_run(path, options, check)
    data, device = run.data, run.device
    evaluation = assess(
        run.model,
        data.x_test.to(device),
        data.y_test.to(device),
        data.classes,
        epoch=saved.history.get("best_epoch"),
    )
    return evaluation, data


def run_errors(path: str | Path) -> RunErrors:
    """The run's evaluation and its worst mistakes' pictures (the errors screen's content);
    RunError when the run cannot be evaluated (no evaluation.json, no weights)."""
    stored = load_evaluation(path)
    if stored is None:
        evaluation, data = _computed(path, None)
        return RunErrors(Path(path), evaluation, COMPUTED, pictures_of(evaluation, data))
    if load_run(path).weights is None:
        note = "no pictures: the run kept no weights, and its data is loaded with them"
        return RunErrors(Path(path), stored, STORED, Pictures("none", note=note))
    from dnn_tui.analysis.restore import restore_run

    try:
        data = restore_run(path).data
    except (RunError, OSError, ValueError) as error:
        note = f"no pictures: {visible(error)}"
        return RunErrors(Path(path), stored, STORED, Pictures("none", note=note))
    return RunErrors(Path(path), stored, STORED, pictures_of(stored, data))


def image_shape(features: int) -> tuple[int, int] | None:
    """The (rows, columns) of a flattened square image of that many pixels, if it is one."""
    side = math.isqrt(features)
    return (side, side) if side * side == features and side > 1 else None


def pictures_of(evaluation: Evaluation, data: Dataset) -> Pictures:
    """The inputs of evaluation's worst mistakes from data's test split (a Dataset), checked
    against what evaluation recorded (the same split, the same labels)."""
    x, y = data.x_test, data.y_test
    if len(y) != evaluation.count or any(
        int(y[m.index]) != m.true for m in evaluation.worst if m.index < len(y)
    ):
        return Pictures("none", note="no pictures: the test split differs from the evaluated one")
    inputs = {m.index: tuple(x[m.index].tolist()) for m in evaluation.worst}
    features = x.shape[1]
    if features == 2:
        points = tuple((a, b, c) for (a, b), c in zip(x.tolist(), y.tolist(), strict=True))
        return Pictures("plane", inputs=inputs, plane=points)
    shape = image_shape(features)
    if shape is None:
        return Pictures("none", note=f"no pictures: {features} inputs are not a square image")
    return Pictures("image", shape=shape, inputs=inputs)


# --- the report as text ---------------------------------------------------------------------


def _cell(count: int, total: int, counts: bool) -> str:
    """A matrix cell: the count, or the row's percentage ("." for none, "<1" for a few)."""
    if not count:
        return "."
    if counts:
        return str(count)
    share = round(100 * count / total)
    return str(share) if share else "<1"


def confusion_lines(
    evaluation: Evaluation, *, counts: bool = False, width: int = TABLE_WIDTH
) -> list[str]:
    """The confusion matrix as text of at most width columns: a row per true class, its cells
    as percentages of the row (or counts), the diagonal in brackets, then each class's accuracy
    and examples. Classes that do not fit are left out, and a last line says so."""
    names = [visible(name)[:4] for name in evaluation.classes]
    rows = evaluation.confusion
    totals = [sum(row) for row in rows]
    cells = [[_cell(c, totals[r], counts) for c in row] for r, row in enumerate(rows)]
    inner = max([len(cell) for row in cells for cell in row] + [len(n) for n in names])
    column = inner + 2  # the diagonal's brackets, spaces elsewhere
    label = max(len("true"), *(len(n) for n in names))
    n_width = max(len("n"), len(str(max(totals, default=0))))
    tail = f"  {'acc':>6}  {'n':>{n_width}}"
    fit = max(1, (width - label - 1 - len(tail)) // column)
    shown = min(len(names), fit)

    def cell_text(r: int, c: int) -> str:
        text = cells[r][c]
        return f"[{text:>{inner}}]" if r == c else f" {text:>{inner}} "

    head = f"{'true':>{label}} " + "".join(f" {names[c]:>{inner}} " for c in range(shown)) + tail
    lines = [head]
    for r in range(len(names)):
        acc = evaluation.per_class_acc[r]
        acc_text = fmt_acc(acc)
        row = "".join(cell_text(r, c) for c in range(shown))
        lines.append(f"{names[r]:>{label}} {row}  {acc_text:>6}  {totals[r]:>{n_width}}")
    if shown < len(names):
        lines.append(
            f"(predicted classes {shown} to {len(names) - 1} left out to fit {width} columns; "
            "--json has them all)"
        )
    return lines


def pair_lines(evaluation: Evaluation, limit: int = PAIRS_SHOWN) -> list[str]:
    """The most confused pairs, ``4 -> 9  x37``, largest first."""
    names = [visible(name) for name in evaluation.classes]
    return [
        f"{names[pair.true]} -> {names[pair.pred]}  x{pair.count}"
        for pair in evaluation.most_confused[:limit]
    ]


def report_lines(
    evaluation: Evaluation, source: str, *, counts: bool = False, width: int = TABLE_WIDTH
) -> list[str]:
    """What ``eval --confusion`` prints: a title, the matrix, the most confused pairs."""
    unit = "counts" if counts else "% of the row"
    epoch = "" if evaluation.epoch is None else f", weights of epoch {evaluation.epoch}"
    lines = [
        f"{visible(evaluation.split)} split: {evaluation.count} examples, accuracy "
        f"{fmt_acc(evaluation.acc)}{epoch} ({source})",
        f"rows: true class; columns: predicted ({unit}); [diagonal]: right",
        "",
        *confusion_lines(evaluation, counts=counts, width=min(width, TABLE_WIDTH)),
        "",
    ]
    pairs = pair_lines(evaluation)
    lines += ["most confused (true -> predicted):", *(f"  {p}" for p in pairs)] if pairs else []
    return lines if pairs else [*lines, "no example misclassified"]


def per_class_table(
    runs: Sequence[tuple[str, Evaluation | None]],
) -> tuple[list[str], list[list[str]]]:
    """Per-class accuracy of runs side by side: the header (class, then each run's label) and
    a row per class ("-" where a run has no evaluation or no example of the class)."""
    classes: list[str] = []
    for _, evaluation in runs:
        if evaluation is not None and len(evaluation.classes) > len(classes):
            classes = [visible(name) for name in evaluation.classes]
    rows = []
    for i, name in enumerate(classes):
        row = [name]
        for _, evaluation in runs:
            acc = None
            if evaluation is not None and i < len(evaluation.per_class_acc):
                acc = evaluation.per_class_acc[i]
            row.append(fmt_acc(acc))
        rows.append(row)
    if rows:
        row = ["all"]
        for _, evaluation in runs:
            row.append("-" if evaluation is None else fmt_acc(evaluation.acc))
        rows.append(row)
    return ["class", *(visible(label) for label, _ in runs)], rows
