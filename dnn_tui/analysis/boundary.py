"""Decision regions: a saved run's predicted class over the plane.

Runs without any UI. ``regions_of`` restores a run's kept weights (``restore.restore_run``)
and predicts the class over a grid covering its training points (the computation is the
engine's, ``dnn_tui.training.boundary``, so ``eval --boundary`` and the lab's panel draw
the same regions for the same weights); ``dnn_tui.analysis.regions`` draws them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dnn_tui.analysis.restore import restore_run
from dnn_tui.config import RunConfig
from dnn_tui.training.boundary import (
    GRID,
    check_plane,
    grid_inputs,
    marked_points,
    plane_of,
    predict_grid,
)
from dnn_tui.training.evaluation import class_names


@dataclass(frozen=True)
class Regions:
    """The predicted class over the plane of a run's training points."""

    x_range: tuple[float, float]
    y_range: tuple[float, float]
    classes: tuple[str, ...]
    grid: tuple[tuple[int, ...], ...]
    """The predicted class per cell: rows from high y to low y, columns from low x."""
    points: tuple[tuple[int, int, int], ...]
    """(row, column, class) of the training points drawn over the regions."""
    dataset: str

    def to_json(self) -> dict[str, Any]:
        """The contract of ``eval --boundary --json``."""
        return {
            "x_range": list(self.x_range),
            "y_range": list(self.y_range),
            "classes": list(self.classes),
            "grid": [list(row) for row in self.grid],
        }


def regions_of(
    path: str | Path,
    options: Mapping[str, Any] | None = None,
    check: Callable[[RunConfig], None] | None = None,
) -> Regions:
    """The decision regions of the run at path with its kept weights; PlaneError (a
    ValueError) names the dataset when its samples are not points of a plane."""
    run = restore_run(path, options, check)
    data = run.data
    check_plane(data.name, data.input_dim)
    x_range, y_range = plane_of(data.x_train)
    inputs = grid_inputs(x_range, y_range, GRID, run.device)
    grid = predict_grid(run.model, inputs, GRID[0])
    return Regions(
        x_range=x_range,
        y_range=y_range,
        classes=class_names(data.classes),
        grid=tuple(tuple(row) for row in grid),
        points=marked_points(data.x_train, data.y_train, x_range, y_range),
        dataset=data.name,
    )
