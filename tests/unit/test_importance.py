"""What mattered in a sweep: fANOVA shares over a search's space or a grid's axes, summing to
1 and naming every option; the parallel-coordinates figure, one line per run."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from dnn_tui.sweeps.importance import (
    ImportanceError,
    Point,
    WhatMattered,
    importance_bars,
    parallel_coordinates,
    what_mattered,
)
from dnn_tui.sweeps.space import Dimension
from tests.helpers.app import FIXTURES, PRESETS


def grid_state(entries: list[dict]) -> dict:
    return {
        "schema": 1,
        "status": "completed",
        "grid": {"lr": ["0.1", "0.01", "0.001"], "seed": ["0", "1"]},
        "runs": entries,
    }


def test_a_grids_axes_are_its_options_and_the_one_that_moves_the_loss_leads() -> None:
    entries = []
    for lr in ("0.1", "0.01", "0.001"):
        for seed in ("0", "1"):
            loss = {"0.1": 1.5, "0.01": 0.4, "0.001": 0.9}[lr] + 0.01 * int(seed)
            entries.append(
                {
                    "dir": f"lr={lr}-seed={seed}",
                    "values": {"lr": lr, "seed": seed},
                    "status": "completed",
                    "best_val_loss": loss,
                }
            )
    entries.append({"dir": "failed", "values": {"lr": "0.1", "seed": "0"}, "status": "failed"})
    result = what_mattered(Path("."), grid_state(entries))
    assert set(result.importance) == {"lr", "seed"}
    assert math.isclose(sum(result.importance.values()), 1.0)
    assert result.importance["lr"] > 0.9
    assert len(result.points) == 6 and result.runs == 7  # the failed run has no result
    assert result.dims[0].choices == ("0.001", "0.01", "0.1")  # numbers in order
    bars = importance_bars(result, 20).plain
    assert bars.splitlines()[0].startswith("lr") and "%" in bars
    figure = parallel_coordinates(result, 60, 10).plain.splitlines()
    assert figure[-1].split() == ["lr", "seed", "best", "val", "loss"]
    assert len(figure) == 13 and all(len(line) <= 60 for line in figure)


def test_a_sweep_made_before_the_field_is_read_from_its_runs_history(tmp_path: Path) -> None:
    entries = []
    for i, preset in enumerate(PRESETS):
        shutil.copytree(FIXTURES / preset, tmp_path / preset)
        entries.append(
            {
                "dir": preset,
                "values": {"lr": ["0.1", "0.01"][i % 2], "seed": "0"},
                "status": "completed",
            }
        )
    entries.append(
        {"dir": "../escape", "values": {"lr": "0.1", "seed": "0"}, "status": "completed"}
    )
    result = what_mattered(tmp_path, grid_state(entries))
    history = json.loads((tmp_path / PRESETS[0] / "history.json").read_text())
    best = next(e for e in history["epochs"] if e["epoch"] == history["best_epoch"])
    assert result.points[0].objective == pytest.approx(best["val_loss"])
    assert len(result.points) == len(PRESETS)  # a dir outside the sweep is never read


def test_too_few_results_say_so() -> None:
    one = [
        {
            "dir": "a",
            "values": {"lr": "0.1", "seed": "0"},
            "status": "completed",
            "best_val_loss": 1.0,
        }
    ]
    with pytest.raises(ImportanceError, match="at least 2 runs with a result; the sweep has 1"):
        what_mattered(Path("."), grid_state(one))


def choice_result(choices: tuple[str, ...] = ("relu", "tanh", "sigmoid", "gelu")) -> WhatMattered:
    """A choice axis (the first) and a learning rate, a run at each choice."""
    act = Dimension("activation", "choice", choices=choices)
    lr = Dimension("lr", "log", low=1e-4, high=1e-1)
    found = [
        Point(f"{i}", {"activation": a, "lr": "0.001"}, 0.2 + 0.1 * i)
        for i, a in enumerate(choices)
    ]
    return WhatMattered({"activation": 0.7, "lr": 0.3}, (act, lr), tuple(found), len(found))


def test_a_choice_axis_names_each_value_at_its_row() -> None:
    figure = parallel_coordinates(choice_result(), 60, 10).plain.splitlines()
    grid = figure[1:-2]  # between the top ends and the bottom ends and names
    assert figure[0].startswith("gelu") and figure[-2].startswith("relu")  # the ends
    # tanh a third of the way up, sigmoid two thirds: rows 9 - 3 and 9 - 6, on their points.
    assert grid[6].startswith("●tanh") and grid[3].startswith("●sigmoid")
    assert sum("tanh" in row for row in grid) == 1 and sum("sigmoid" in row for row in grid) == 1
    assert all(len(line) <= 60 for line in figure)
    assert not any("0.001" in row for row in grid)  # a range axis is named at its ends only


def test_a_choice_label_is_cut_to_its_room_or_left_out() -> None:
    long = choice_result(("relu", "a-rather-long-value", "gelu"))
    # 24 cells: axes at 0, 12 and 23, so 10 cells up to a cell before the next axis.
    narrow = parallel_coordinates(long, 24, 10).plain.splitlines()[1:-2]
    assert narrow[5][:12] == "●a-rather-… "
    # Six values in a figure 4 rows high: two rows between the ends, one value's label each.
    six = choice_result(("a", "b", "c", "d", "e", "f"))
    short = parallel_coordinates(six, 60, 4).plain.splitlines()[1:-2]
    assert [row[:2] for row in short] == ["●·", "●d", "●b", "●·"]
