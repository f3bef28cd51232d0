"""``dnn-tui eval RUN --boundary [--json]``: a 2-D run's predicted class over the plane, checked
against a plain PyTorch forward pass of the restored model; data of more than 2 features is
refused by name."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from dnn_tui.analysis.regions import HALF, POINT, REGION_GLYPHS
from dnn_tui.analysis.restore import restore_run
from tests.helpers.cli import Cli
from tests.helpers.idx_files import write_idx

MoonsRun = tuple[Path, subprocess.CompletedProcess[str]]


def _centres(regions: dict) -> torch.Tensor:
    """The grid cells' centres (rows from high y, columns from low x), as the contract says."""
    (x_lo, x_hi), (y_lo, y_hi) = regions["x_range"], regions["y_range"]
    rows, columns = len(regions["grid"]), len(regions["grid"][0])
    points = [
        (x_lo + (j + 0.5) * (x_hi - x_lo) / columns, y_hi - (i + 0.5) * (y_hi - y_lo) / rows)
        for i in range(rows)
        for j in range(columns)
    ]
    return torch.tensor(points, dtype=torch.float32)


def test_json_holds_both_classes_and_the_model_s_own_predictions(
    cli: Cli, moons_run: MoonsRun
) -> None:
    run, _ = moons_run
    done = cli("eval", run, "--boundary", "--json", cwd=run.parent)
    assert done.returncode == 0, done.stderr
    regions = json.loads(done.stdout)
    assert regions["classes"] == ["0", "1"]
    grid = np.array(regions["grid"])
    assert set(np.unique(grid)) == {0, 1}
    restored = restore_run(run)
    with torch.no_grad():
        oracle = restored.model(_centres(regions)).argmax(1).reshape(grid.shape).numpy()
    assert (grid == oracle).all()
    # The training points lie in the plane, and where a point falls the grid says what the
    # model says at the point (but where the boundary crosses its cell).
    x, _ = restored.data.x_train, restored.data.y_train
    (x_lo, x_hi), (y_lo, y_hi) = regions["x_range"], regions["y_range"]
    assert x_lo < x[:, 0].min() and x[:, 0].max() < x_hi
    assert y_lo < x[:, 1].min() and x[:, 1].max() < y_hi
    rows, columns = grid.shape
    col = ((x[:, 0] - x_lo) / (x_hi - x_lo) * columns).long()
    row = ((y_hi - x[:, 1]) / (y_hi - y_lo) * rows).long()
    with torch.no_grad():
        at_points = restored.model(x).argmax(1)
    agree = (torch.from_numpy(grid)[row, col] == at_points).float().mean().item()
    assert agree > 0.95


def test_without_colour_each_class_has_its_glyph(
    cli: Cli, moons_run: MoonsRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, _ = moons_run
    monkeypatch.setenv("NO_COLOR", "1")
    done = cli("eval", run, "--boundary", cwd=run.parent)
    assert done.returncode == 0, done.stderr
    regions = json.loads(cli("eval", run, "--boundary", "--json", cwd=run.parent).stdout)
    lines = done.stdout.splitlines()
    picture = lines[1 : 1 + len(regions["grid"]) // 2]
    assert all(len(line) == len(regions["grid"][0]) for line in picture)
    assert HALF not in done.stdout and POINT not in done.stdout
    # a cell without a point shows the glyph of its upper half's class
    for line, row in zip(picture, regions["grid"][::2], strict=True):
        for glyph, label in zip(line, row, strict=True):
            assert glyph == REGION_GLYPHS[label] or glyph in "01"
    assert ".0 class 0  +1 class 1" in done.stdout
    assert all(len(line) <= 80 for line in lines[1:])  # the first names the run


def test_data_of_more_than_two_features_is_refused_by_name(cli: Cli, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "images", rng.integers(0, 256, (40, 3), dtype=np.uint8))
    write_idx(tmp_path / "labels", rng.integers(0, 2, 40, dtype=np.uint8))
    idx = ["--dataset", "idx", "--idx-images", "images", "--idx-labels", "labels"]
    trained = cli("train", *idx, "--epochs", 1, "--out", "run", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    done = cli("eval", "run", "--boundary", "--json", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip() == (
        "dnn-tui: error: boundary: idx has 3 features per sample; decision regions are drawn "
        "for 2-D data only (moons, circles, spiral)"
    )


def test_boundary_is_for_one_run(cli: Cli, moons_run: MoonsRun) -> None:
    run, _ = moons_run
    done = cli("eval", run, "--boundary", "--confusion", cwd=run.parent)
    assert done.returncode == 2
    assert "--boundary: one run" in done.stderr
