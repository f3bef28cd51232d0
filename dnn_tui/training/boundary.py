"""Decision regions of a model on 2-D data: the class it predicts over a grid of the plane.

Runs without any UI. The plane is the one the model sees: the toy sets' points standardised
with the training split's mean and standard deviation (``dnn_tui.data``), so a grid point
goes through the model exactly as a training point does, with no preprocessing of its own.
The grid covers the training points with a margin of ``MARGIN`` of their extent on every
side. Cell (row, column) stands for the point at its centre; rows run from high y to low y
(the way a picture is drawn), columns from low x:

    x = x_lo + (column + 0.5) * (x_hi - x_lo) / columns
    y = y_hi - (row + 0.5) * (y_hi - y_lo) / rows

``BoundaryProbe`` is the engine's observer of it: the grid's inputs are built once per run
(the plane stays fixed, so frames compare), and one ``measure`` is a forward pass of the
grid under ``torch.no_grad`` in eval mode (dropout off, batch norm with its running
statistics, as evaluation does) and one transfer of the classes to the host.
"""

from __future__ import annotations

import torch
from torch import nn

from dnn_tui.training.events import BoundaryMeasured

GRID = (48, 24)
"""Columns and rows of the grid: 48 characters wide, 12 lines of half-block cells."""
MARGIN = 0.1
"""Share of the points' extent added on each side of the plane."""
POINTS_SHOWN = 80
"""Training points drawn over the regions: enough to see the classes' shapes, few enough
that the regions show between them."""


class PlaneError(ValueError):
    """Data that has no plane to draw: more (or fewer) than 2 features."""


def check_plane(dataset: str, input_dim: int) -> None:
    """PlaneError naming the dataset and the rule unless its samples have 2 features."""
    if input_dim != 2:
        raise PlaneError(
            f"boundary: {dataset} has {input_dim} features per sample; decision regions are "
            "drawn for 2-D data only (moons, circles, spiral)"
        )


Range = tuple[float, float]


def plane_of(x: torch.Tensor, margin: float = MARGIN) -> tuple[Range, Range]:
    """(x_range, y_range) covering the points x (N, 2) with margin of their extent each side."""
    low = x.min(dim=0).values.tolist()
    high = x.max(dim=0).values.tolist()
    ranges = []
    for lo, hi in zip(low, high, strict=True):
        pad = margin * (hi - lo) if hi > lo else 1.0
        ranges.append((lo - pad, hi + pad))
    return ranges[0], ranges[1]


def grid_inputs(
    x_range: Range, y_range: Range, grid: tuple[int, int] = GRID, device: str = "cpu"
) -> torch.Tensor:
    """The cells' centres as model inputs (rows x columns, 2), row by row from high y."""
    columns, rows = grid
    (x_lo, x_hi), (y_lo, y_hi) = x_range, y_range
    xs = x_lo + (torch.arange(columns, dtype=torch.float32) + 0.5) * (x_hi - x_lo) / columns
    ys = y_hi - (torch.arange(rows, dtype=torch.float32) + 0.5) * (y_hi - y_lo) / rows
    mesh_y, mesh_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([mesh_x.reshape(-1), mesh_y.reshape(-1)], dim=1).to(device)


@torch.no_grad()
def predict_grid(model: nn.Module, inputs: torch.Tensor, columns: int) -> list[list[int]]:
    """The class the model predicts at each input, as rows of ``columns`` (eval mode; the
    model's mode is given back)."""
    was_training = model.training
    model.eval()
    classes = model(inputs).argmax(dim=1)
    model.train(was_training)
    flat = classes.tolist()
    return [flat[start : start + columns] for start in range(0, len(flat), columns)]


def cells_of(
    x: torch.Tensor, x_range: Range, y_range: Range, grid: tuple[int, int] = GRID
) -> list[tuple[int, int]]:
    """The (row, column) of the cell each point (N, 2) falls in, clamped to the grid."""
    columns, rows = grid
    (x_lo, x_hi), (y_lo, y_hi) = x_range, y_range
    col = ((x[:, 0] - x_lo) / (x_hi - x_lo) * columns).floor().clamp(0, columns - 1)
    row = ((y_hi - x[:, 1]) / (y_hi - y_lo) * rows).floor().clamp(0, rows - 1)
    return list(zip(row.long().tolist(), col.long().tolist(), strict=True))


def marked_points(
    x: torch.Tensor, y: torch.Tensor, x_range: Range, y_range: Range, count: int = POINTS_SHOWN
) -> tuple[tuple[int, int, int], ...]:
    """(row, column, class) of the first ``count`` points: the training split is shuffled
    already, so the first points are a fair sample of every class."""
    cells = cells_of(x[:count].cpu(), x_range, y_range)
    labels = y[:count].tolist()
    return tuple((row, col, label) for (row, col), label in zip(cells, labels, strict=True))


class BoundaryProbe:
    """The predicted class over the plane of the training points, measured on demand."""

    def __init__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, classes: int) -> None:
        self.model = model
        self.classes = classes
        self.x_range, self.y_range = plane_of(x)
        self.inputs = grid_inputs(self.x_range, self.y_range, GRID, str(x.device))
        self.points = marked_points(x, y, self.x_range, self.y_range)

    def measure(self, epoch: int, step: int) -> BoundaryMeasured:
        """One forward pass of the grid: the regions now."""
        return BoundaryMeasured(
            epoch=epoch,
            step=step,
            x_range=self.x_range,
            y_range=self.y_range,
            classes=self.classes,
            grid=tuple(tuple(row) for row in predict_grid(self.model, self.inputs, GRID[0])),
            points=self.points,
        )
