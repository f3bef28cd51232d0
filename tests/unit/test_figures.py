"""The comparison figures (plotext) and numbers: markers, legend, y-range, log axis, heat-strips,
settings that differ, gaps and the tidy CSV, on the fixed MNIST runs of the regularization suite."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from rich.console import Console

from dnn_tui import config as cfg
from dnn_tui.analysis import figures
from dnn_tui.analysis.comparison import TIDY_COLUMNS, config_differences, run_labels, tidy_csv
from dnn_tui.rundir.files import CSV_COLUMNS, csv_value, load_run
from dnn_tui.rundir.readings import Gaps, acc_on_test, best_val_acc, gaps, max_val_acc

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "regularization-mnist"
PRESETS = ("baseline", "l2", "dropout", "bottleneck")


@pytest.fixture(scope="module")
def histories() -> list[tuple[str, dict]]:
    return [(name, json.loads((FIXTURES / name / "history.json").read_text())) for name in PRESETS]


def plain(text) -> str:
    """What a terminal without colour shows (NO_COLOR): the characters alone."""
    console = Console(width=200, no_color=True, record=True, file=io.StringIO())
    console.print(text)
    return console.export_text(styles=False)


def test_accuracy_figure_tells_runs_apart_without_colour(histories) -> None:
    figure = figures.metric_figure(histories, "acc")
    shown = plain(figures.render(figure, 100, 30))
    lines = shown.splitlines()
    assert lines[0].startswith("accuracy per epoch")
    legend = lines[1]
    for style, name in zip(figures.STYLES, PRESETS, strict=False):
        assert f"{style.marker}{style.hollow} {name}" in legend
    plot = "\n".join(lines[2:])
    for style in figures.STYLES[: len(PRESETS)]:
        assert style.marker in plot and style.hollow in plot  # validation and training
    assert figures.BEST_MARKER in plot
    assert "\x1b" not in shown


def test_every_run_has_its_own_marker_and_colour() -> None:
    markers = [s.marker for s in figures.STYLES] + [s.hollow for s in figures.STYLES]
    assert len(set(markers)) == len(markers)
    assert len({s.colour for s in figures.STYLES}) == len(figures.STYLES)
    assert figures.BEST_MARKER not in markers


def test_the_y_range_keeps_close_runs_apart(histories) -> None:
    last_half = figures.y_range(figures.metric_figure(histories, "acc"))
    everything = figures.y_range(figures.metric_figure(histories, "acc", zoom="all"))
    assert last_half is not None and everything is not None
    values = [
        record[key]
        for _, history in histories
        for record in history["epochs"]
        for key in ("train_acc", "val_acc")
    ]
    late = [
        record[key]
        for _, history in histories
        for record in history["epochs"][len(history["epochs"]) // 2 :]
        for key in ("train_acc", "val_acc")
    ]
    assert everything[0] <= min(values) and everything[1] >= max(values)
    assert last_half[0] <= min(late) and last_half[1] >= max(late) - 1e-9
    # The bottleneck's first epochs (far below) no longer squeeze the others together.
    assert last_half[0] > min(values) + 0.5
    assert last_half[1] - last_half[0] < (everything[1] - everything[0]) / 5


def test_loss_on_a_log_axis_has_plain_number_ticks(histories) -> None:
    figure = figures.metric_figure(histories, "loss", log=True, zoom="all")
    low, high = figures.y_range(figure) or (0, 0)
    losses = [r[k] for _, h in histories for r in h["epochs"] for k in ("train_loss", "val_loss")]
    assert low <= min(losses) and high >= max(losses)
    shown = plain(figures.render(figure, 90, 24))
    assert "loss (log)" in shown
    ticks = figures._log_ticks(low, high)
    assert ticks and all(low <= t <= high for t in ticks)
    assert any(f"{t:g}" in shown for t in ticks if math.log10(t).is_integer())


def test_a_figure_without_epochs_says_so() -> None:
    empty = {"epochs": [], "best_epoch": None}
    shown = plain(figures.render(figures.metric_figure([("new", empty)], "acc"), 80, 20))
    assert "Nothing to draw yet" in shown


def test_heat_strips_show_a_vanishing_first_layer() -> None:
    """deep-sigmoid-like norms (first layer 1e-7, last 1e-1) against even ones."""
    vanishing = {
        "layers": ["fc1", "fc2", "fc3"],
        "epochs": [{"grad_norm": [1e-7, 1e-4, 1e-1]} for _ in range(5)],
    }
    even = {"layers": ["fc1", "fc2", "fc3"], "epochs": [{"grad_norm": [0.1, 0.1, 0.1]}] * 5}
    shown = plain(
        figures.render_strips(figures.strips_of([("sigmoid", vanishing), ("relu", even)]), 80)
    )
    rows = {
        (run, line.split()[0]): line.split()[1]
        for run, block in zip(("sigmoid", "relu"), shown.strip().split("\n\n")[1:], strict=True)
        for line in block.splitlines()[1:]
    }
    assert set(rows[("sigmoid", "fc1")]) == {figures.SHADES[0]}
    assert set(rows[("sigmoid", "fc3")]) == {figures.SHADES[figures.heat_level(-1.0)]}
    assert figures.heat_level(-7.0) < figures.heat_level(-4.0) < figures.heat_level(-1.0)
    assert rows[("relu", "fc1")] == rows[("relu", "fc3")] == rows[("sigmoid", "fc3")]
    assert len(rows[("relu", "fc1")]) == 10  # two cells an epoch when there is room


def strip_rows(shown: str, runs: tuple[str, ...]) -> dict[tuple[str, str], str]:
    blocks = shown.strip().split("\n\n")[1:]
    return {
        (run, line.split()[0]): line.split()[1]
        for run, block in zip(runs, blocks, strict=True)
        for line in block.splitlines()[1:]
    }


def test_heat_strips_have_one_scale_whatever_else_is_shown() -> None:
    """A run's shades do not change when a run with far larger norms joins the figure."""
    quiet = {"layers": ["fc1"], "epochs": [{"grad_norm": [1e-3]}] * 4}
    loud = {"layers": ["fc1"], "epochs": [{"grad_norm": [1e3]}] * 4}
    alone = plain(figures.render_strips(figures.strips_of([("quiet", quiet)]), 80))
    beside = plain(figures.render_strips(figures.strips_of([("quiet", quiet), ("loud", loud)]), 80))
    assert (
        strip_rows(alone, ("quiet",))[("quiet", "fc1")]
        == strip_rows(beside, ("quiet", "loud"))[("quiet", "fc1")]
    )
    assert figures.heat_level(99.0) == len(figures.SHADES) - 1 and figures.heat_level(-99.0) == 0


def test_heat_strips_give_an_epoch_the_same_width_in_every_strip() -> None:
    """A 10-epoch run beside a 100-epoch one: a column covers the same epochs in both."""
    short = {"layers": ["fc1"], "epochs": [{"grad_norm": [0.1]}] * 10}
    long = {"layers": ["fc1"], "epochs": [{"grad_norm": [0.1]}] * 100}
    shown = plain(figures.render_strips(figures.strips_of([("short", short), ("long", long)]), 60))
    rows = strip_rows(shown, ("short", "long"))
    columns = len(rows[("long", "fc1")])
    assert columns < 100 and "a column:" in shown
    assert len(rows[("short", "fc1")]) == pytest.approx(columns * 10 / 100, abs=1)


def test_differences_are_the_settings_that_differ() -> None:
    configs = [load_run(FIXTURES / name).config for name in PRESETS]
    differences = dict(config_differences(configs))
    assert differences == {
        "preset": ["baseline", "l2", "dropout", "bottleneck"],
        "model.dropout": ["0.0", "0.0", "0.2,0.2,0.0", "0.0"],
        "model.hidden": ["100,50,20", "100,50,20", "100,50,20", "100,50,3"],
        "train.l2": ["0.0", "0.001", "0.0", "0.0"],
    }
    assert config_differences(configs[:1] * 2) == []
    seeded = cfg.with_options(configs[0], {"seed": 7})
    assert config_differences([configs[0], seeded]) == [("train.seed", ["0", "7"])]


def test_gaps_and_accuracies(histories) -> None:
    for _, history in histories:
        epochs = history["epochs"]
        best = next(r for r in epochs if r["epoch"] == history["best_epoch"])
        found = gaps(history)
        assert found.last == pytest.approx(epochs[-1]["train_acc"] - epochs[-1]["val_acc"])
        assert found.best == pytest.approx(best["train_acc"] - best["val_acc"])
        assert best_val_acc(history) == best["val_acc"]
        assert max_val_acc(history) == max(r["val_acc"] for r in epochs)
        assert acc_on_test(history) == history["test"]["acc"]
    assert gaps({"epochs": [], "best_epoch": None}) == Gaps(None, None)
    # A test figure in a history without a best epoch measured no kept weights.
    assert acc_on_test({"epochs": [], "best_epoch": None, "test": {"acc": 0.1}}) is None


def test_tidy_csv_has_a_row_per_run_and_epoch(histories) -> None:
    text = tidy_csv([(f"runs/{name}", name, history) for name, history in histories])
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == TIDY_COLUMNS == ("run", "preset", *CSV_COLUMNS, "best")
    assert len(rows) == 1 + 80
    by_key = {(row[0], int(row[2])): row for row in rows[1:]}
    for name, history in histories:
        for record in history["epochs"]:
            row = by_key[(f"runs/{name}", record["epoch"])]
            assert row[1] == name
            assert row[-1] == ("1" if record["epoch"] == history["best_epoch"] else "0")
            for column, cell in zip(CSV_COLUMNS, row[2:-1], strict=True):
                value = csv_value(record, column)  # act_*: empty in these schema 1 files
                assert (cell == "") if value is None else float(cell) == pytest.approx(value)


def test_labels_tell_same_presets_apart() -> None:
    runs = [
        (Path("runs/s1/baseline"), "baseline"),
        (Path("runs/s2/baseline"), "baseline"),
        (Path("runs/20250101-custom"), None),
        (Path("runs/x/l2"), "l2"),
    ]
    assert run_labels(runs) == ["baseline (s1)", "baseline (s2)", "20250101-custom", "l2"]
    twice = [(Path("a/baseline"), "baseline"), (Path("a/baseline"), "baseline")]
    assert run_labels(twice) == ["baseline (a) #1", "baseline (a) #2"]
    here = [(Path("r1"), None), (Path("a/r1"), None)]
    assert run_labels(here) == [f"r1 ({Path.cwd().name})", "r1 (a)"]  # never "r1 ()"


def test_tidy_csv_takes_the_activation_columns_from_the_records_lists() -> None:
    record = {"epoch": 1, "act_std": [0.5, 0.25, 0.125], "act_saturated": [0.1, 0.3, None]}
    text = tidy_csv([("runs/a", "deep-tanh", {"epochs": [record]})])
    row = dict(zip(*csv.reader(io.StringIO(text)), strict=True))
    assert float(row["act_std_first"]) == 0.5 and float(row["act_std_last"]) == 0.125
    assert row["act_saturated_max"] == ""  # a layer without the figure: no maximum to give
    assert row["act_dead_max"] == ""


def test_weight_norms_draw_the_smaller_l2_weights_on_one_scale() -> None:
    def history(norms: list[float]) -> dict:
        record = {"epoch": 1, "weight_norm": norms}
        return {"layers": ["fc1", "fc2"], "epochs": [record], "initial": {"weight_norm": [8, 5]}}

    old = {"layers": ["fc1", "fc2"], "epochs": [{"epoch": 1}]}
    runs = [("baseline", history([10.0, 6.0])), ("l2", history([5.0, 3.0])), ("old", old)]
    text = figures.render_weight_norms(runs, 80).plain
    rows = [line for line in text.splitlines() if line.strip().startswith("fc")]
    bars = [row.count("█") for row in rows]
    assert bars[0] > bars[2] and bars[1] > bars[3]  # l2's bars shorter, layer by layer
    assert bars[2] == pytest.approx(bars[0] / 2, abs=1)  # one scale: half the norm, half the bar
    assert "10 (start 8)" in rows[0] and "all layers 11.7" in text
    assert "no weight norms" in text.splitlines()[-1]


def test_heat_strip_rows_end_in_their_band_by_the_lesson_rule() -> None:
    def history(norms: list[float], updates: list[float] | None = None) -> dict:
        record = {"epoch": 1, "grad_norm": norms, "update_ratio": updates}
        return {"layers": ["fc1", "fc2", "fc3"], "epochs": [record]}

    runs = [
        ("sigmoid", history([1e-9, 1e-5, 0.4], [1e-3] * 3)),
        ("trained", history([2e-6, 1e-6, 3e-6], [1e-4] * 3)),
        ("old", history([500.0, 0.4, 0.3])),  # no update ratios: the gradient stands in
    ]
    strips = figures.strips_of(runs)
    assert [s.bands for s in strips] == [
        ("vanishing", "vanishing", "healthy"),
        ("converged",) * 3,
        ("exploding", "healthy", "healthy"),
    ]
    text = figures.render_strips(strips, 80).plain
    rows = [line.split()[-1] for line in text.splitlines() if line.strip()]
    assert rows.count("vanishing") == 2 and rows.count("converged") == 3
