"""Decision regions: the grid's geometry, the engine's probe against a plain PyTorch forward
pass, the event in events.jsonl, and the lessons of the 2-D presets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch import nn

from dnn_tui.analysis.regions import HALF, POINT, REGION_GLYPHS, legend_text, regions_text
from dnn_tui.app.suite_runner import suite_configs
from dnn_tui.config import DataConfig, ModelConfig, RunConfig, TrainConfig, validate
from dnn_tui.data import Dataset, load_dataset
from dnn_tui.presets import load_preset
from dnn_tui.rundir import recorder
from dnn_tui.rundir.eventlog import parse_event_line
from dnn_tui.rundir.recorder import RunRecorder, log_line
from dnn_tui.training import engine
from dnn_tui.training.boundary import (
    GRID,
    PlaneError,
    cells_of,
    check_plane,
    grid_inputs,
    plane_of,
    predict_grid,
)
from dnn_tui.training.controls import RunControls
from dnn_tui.training.engine import train
from dnn_tui.training.events import BoundaryMeasured, Event
from tests.helpers.run_files import started


@pytest.fixture(scope="module")
def moons() -> Dataset:
    return load_dataset(DataConfig(dataset="moons", limit=400))


def moons_config(epochs: int = 2) -> RunConfig:
    return validate(
        RunConfig(
            model=ModelConfig(hidden=(8, 8), activation="tanh", init="xavier"),
            data=DataConfig(dataset="moons", limit=400),
            train=TrainConfig(epochs=epochs, batch_size=50, lr=0.01, device="cpu"),
        )
    )


class RightHalf(nn.Module):
    """Class 1 right of x = 0.3 and above y = -0.2 (a rule whose grid is known)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        one = ((x[:, 0] > 0.3) & (x[:, 1] > -0.2)).float()
        return torch.stack([1 - one, one], dim=1)


def test_rows_run_from_high_y_and_columns_from_low_x() -> None:
    inputs = grid_inputs((-1.0, 1.0), (-2.0, 2.0), (4, 8))
    assert inputs.shape == (32, 2)
    assert inputs[0].tolist() == pytest.approx([-0.75, 1.75])  # top left cell's centre
    assert inputs[3].tolist() == pytest.approx([0.75, 1.75])
    assert inputs[-1].tolist() == pytest.approx([0.75, -1.75])  # bottom right
    grid = predict_grid(RightHalf(), inputs, 4)
    expected = [
        [int(x > 0.3 and y > -0.2) for x in (-0.75, -0.25, 0.25, 0.75)]
        for y in (1.75, 1.25, 0.75, 0.25, -0.25, -0.75, -1.25, -1.75)
    ]
    assert grid == expected
    # A point falls in the cell whose centre is nearest it.
    cells = cells_of(inputs, (-1.0, 1.0), (-2.0, 2.0), (4, 8))
    assert cells == [(row, col) for row in range(8) for col in range(4)]


def test_the_plane_covers_the_points_with_a_margin(moons: Dataset) -> None:
    (x_lo, x_hi), (y_lo, y_hi) = plane_of(moons.x_train)
    x, y = moons.x_train[:, 0], moons.x_train[:, 1]
    assert x_lo < x.min() < x.max() < x_hi and y_lo < y.min() < y.max() < y_hi
    assert x.min() - x_lo == pytest.approx(0.1 * (x.max() - x.min()), rel=1e-4)


def test_only_two_features_make_a_plane() -> None:
    check_plane("moons", 2)
    with pytest.raises(PlaneError, match=r"^boundary: digits has 64 features per sample; "):
        check_plane("digits", 64)


def test_the_engine_measures_the_regions_only_while_asked(
    moons: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "BOUNDARY_INTERVAL", 0.0)  # every report and epoch end
    events: list[Event] = []
    train(moons_config(), moons, emit=events.append)
    assert not [e for e in events if isinstance(e, BoundaryMeasured)]

    controls = RunControls()
    controls.boundary_wanted = True
    events = []
    result = train(moons_config(), moons, controls, events.append)
    measured = [e for e in events if isinstance(e, BoundaryMeasured)]
    assert measured[0].epoch == 0 and measured[-1].epoch == 2
    last = measured[-1]
    assert (len(last.grid), len(last.grid[0])) == (GRID[1], GRID[0])
    # The oracle: the trained model (best epoch is the last: the same weights) in plain
    # PyTorch at the cells' centres.
    assert result.best_epoch == 2
    inputs = grid_inputs(last.x_range, last.y_range)
    model = result.model.eval()
    with torch.no_grad():
        oracle = model(inputs).argmax(1).reshape(GRID[1], GRID[0]).tolist()
    assert [list(row) for row in last.grid] == oracle
    assert {0, 1} <= {value for row in last.grid for value in row}
    # the points are training points, in their cells, with their labels
    first = cells_of(moons.x_train[: len(last.points)], last.x_range, last.y_range)
    assert [(r, c) for r, c, _ in last.points] == first
    assert [label for *_, label in last.points] == moons.y_train[: len(last.points)].tolist()


def test_the_regions_keep_their_pace(moons: Dataset) -> None:
    controls = RunControls()
    controls.boundary_wanted = True
    events: list[Event] = []
    train(moons_config(epochs=3), moons, controls, events.append)
    # three epochs of 400 samples take well under BOUNDARY_INTERVAL: only the start's
    assert [e.epoch for e in events if isinstance(e, BoundaryMeasured)] == [0]


def test_data_without_a_plane_has_no_regions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "BOUNDARY_INTERVAL", 0.0)
    digits = load_dataset(DataConfig(dataset="digits", limit=200))
    config = replace(moons_config(epochs=1), data=DataConfig(dataset="digits", limit=200))
    controls = RunControls()
    controls.boundary_wanted = True
    events: list[Event] = []
    train(config, digits, controls, events.append)
    assert not [e for e in events if isinstance(e, BoundaryMeasured)]


def boundary_event(**changes: object) -> BoundaryMeasured:
    event = BoundaryMeasured(
        epoch=1,
        step=4,
        x_range=(-2.0, 2.0),
        y_range=(-1.5, 1.5),
        classes=2,
        grid=((0, 0, 1), (0, 1, 1)),
        points=((0, 2, 1), (1, 0, 0)),
    )
    return replace(event, **changes)


def test_the_event_reads_back_from_events_jsonl() -> None:
    event = boundary_event()
    assert parse_event_line(log_line(event)) == event


def test_the_regions_are_logged_at_most_every_few_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [100.0]
    monkeypatch.setattr(recorder.time, "monotonic", lambda: clock[0])
    sink = RunRecorder(tmp_path)
    sink(started())
    for epoch in range(1, 21):  # 0.5 s apart: 10 s in all
        sink(boundary_event(epoch=epoch))
        sink.flush()
        clock[0] += 0.5
    sink.close()
    lines = (tmp_path / "events.jsonl").read_bytes().splitlines()
    logged = [parse_event_line(line) for line in lines if b"BoundaryMeasured" in line]
    assert [e.epoch for e in logged] == [1, 5, 9, 13, 17]  # LOG_BOUNDARY_INTERVAL (2 s) apart


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"grid": ((0, 0, 1), (0, 1))}, "BoundaryMeasured.grid: every row"),
        ({"grid": ((0, 0, 2), (0, 1, 1))}, "BoundaryMeasured.grid: every row"),
        ({"points": ((2, 0, 1),)}, "BoundaryMeasured.points: must lie in the grid"),
        ({"grid": ()}, "BoundaryMeasured.grid: must have 1 to 256"),
        ({"x_range": (None, 2.0)}, "BoundaryMeasured.x_range, y_range: must be numbers"),
    ],
)
def test_a_damaged_event_is_refused_naming_the_field(changes: dict, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        parse_event_line(log_line(boundary_event(**changes)))


def test_the_picture_in_colour_and_without() -> None:
    grid = ((0, 0, 1), (0, 1, 1), (1, 1, 1), (1, 1, 1))
    points = ((0, 2, 0),)
    plain = regions_text(grid, points, colour=False).plain.splitlines()
    assert plain == [f"{REGION_GLYPHS[0]}{REGION_GLYPHS[0]}0", REGION_GLYPHS[1] * 3]
    coloured = regions_text(grid, points, colour=True)
    assert coloured.plain.splitlines() == [f"{HALF}{HALF}{POINT}", HALF * 3]
    # the second cell of the first line: class 0 above (foreground), class 1 below
    spans = [s for s in coloured.spans if s.start == 1]
    assert spans[0].style.color.name != spans[0].style.bgcolor.name
    assert legend_text(["0", "1"], colour=False).plain == ".0 class 0  +1 class 1"


def test_the_circles_presets_teach_what_a_hidden_layer_adds() -> None:
    results = {}
    for name in ("circles-linear", "circles-hidden"):
        config = load_preset(name)
        config = replace(config, train=replace(config.train, device="cpu"))  # its own epochs
        results[name] = train(config, load_dataset(config.data)).test["acc"]
    assert results["circles-linear"] < 0.7 < 0.9 < results["circles-hidden"]


def test_a_suite_of_2d_presets_keeps_their_data() -> None:
    form = RunConfig(data=DataConfig("digits", limit=500, split_seed=3))
    configs = dict(suite_configs("circles", form))
    assert list(configs) == ["circles-linear", "circles-hidden"]
    for config in configs.values():
        assert config.data == DataConfig("circles", limit=500, split_seed=3)
    assert dict(suite_configs("batching", form))["baseline"].data.dataset == "digits"
