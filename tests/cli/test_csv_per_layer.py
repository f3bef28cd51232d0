"""``compare --csv ... --per-layer``: a gradient-norm column per Linear layer after the tidy
CSV's columns, which stay as they are (and are all a CSV without it holds)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from dnn_tui.analysis.comparison import TIDY_COLUMNS, tidy_csv
from tests.helpers.cli import Cli
from tests.helpers.run_files import make_run, record


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_per_layer_columns_follow_the_tidy_columns(tmp_path: Path, cli: Cli) -> None:
    base = make_run(tmp_path / "baseline")
    narrow = make_run(tmp_path / "bottleneck", preset="bottleneck")
    history = json.loads((narrow / "history.json").read_text())
    plain = cli("compare", base, narrow, "--csv", "-", cwd=tmp_path)
    per_layer = cli("compare", base, narrow, "--csv", "-", "--per-layer", cwd=tmp_path)
    assert plain.returncode == per_layer.returncode == 0, per_layer.stderr
    header = next(csv.reader(io.StringIO(per_layer.stdout)))
    base_layers = json.loads((base / "history.json").read_text())["layers"]
    layers = list(dict.fromkeys([*base_layers, *history["layers"]]))
    assert header == [*TIDY_COLUMNS, *(f"grad_norm.{name}" for name in layers)]
    assert next(csv.reader(io.StringIO(plain.stdout))) == list(TIDY_COLUMNS)
    # the tidy columns hold what they held without the option
    assert [row[: len(TIDY_COLUMNS)] for row in csv.reader(io.StringIO(per_layer.stdout))] == [
        row for row in csv.reader(io.StringIO(plain.stdout))
    ]
    for path in (base, narrow):
        run = json.loads((path / "history.json").read_text())
        rows = [row for row in rows_of(per_layer.stdout) if row["run"] == str(path)]
        assert len(rows) == len(run["epochs"])
        for row, epoch in zip(rows, run["epochs"], strict=True):
            norms = dict(zip(run["layers"], epoch["grad_norm"], strict=True))
            for name in layers:
                cell = row[f"grad_norm.{name}"]
                assert cell == ("" if norms.get(name) is None else repr(norms[name]))


def test_per_layer_needs_the_csv(tmp_path: Path, cli: Cli) -> None:
    done = cli("compare", make_run(tmp_path / "run"), "--per-layer", cwd=tmp_path)
    assert done.returncode == 2
    assert "--per-layer adds columns to the tidy CSV: give --csv FILE|- too" in done.stderr


def test_layer_names_and_norms_from_a_file_stay_cells() -> None:
    """Layers of runs of other depths each get their column, in the order the runs name them;
    a norm that was not finite and a layer the run does not have are empty cells; a layer
    named like a formula or ``total`` makes no formula and no clash."""
    first = record(1)  # grad_norm: [1e-9, 0.5, inf]
    history = {"layers": ["=cmd", "total", "fc3"], "epochs": [first], "best_epoch": 1}
    other = {"layers": ["fc1"], "epochs": [{**record(1), "grad_norm": [0.25]}], "best_epoch": 1}
    text = tidy_csv([("a", "p", history), ("b", None, other)], per_layer=True)
    rows = list(csv.reader(io.StringIO(text)))
    extra = ["grad_norm.=cmd", "grad_norm.total", "grad_norm.fc3", "grad_norm.fc1"]
    assert rows[0] == [*TIDY_COLUMNS, *extra]
    assert rows[1][len(TIDY_COLUMNS) :] == ["1e-09", "0.5", "", ""]
    assert rows[2][len(TIDY_COLUMNS) :] == ["", "", "", "0.25"]
    assert rows[1][TIDY_COLUMNS.index("grad_norm_total")] == "0.7"
