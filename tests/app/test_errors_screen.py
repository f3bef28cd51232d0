"""The errors screen (``x``): from the lab and the runs list, enter on a cell, old runs, and
its pictures at 80x24 and 120x40."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from dnn_tui.app.app import DnnApp
from dnn_tui.app.screens.errors import ErrorsScreen
from dnn_tui.app.widgets.confusion_heatmap import ConfusionHeatmap
from dnn_tui.app.widgets.mistake_gallery import MistakeGallery, image_lines, plane_lines
from dnn_tui.training.numbers import fmt_acc
from tests.helpers import scripted
from tests.helpers.app import Notes, label_text, open_list, wait_until

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "errors-digits"
SIZES = [(80, 24), (120, 40)]
Compare = Callable[..., bool]


def a_run(root: Path) -> Path:
    path = root / "digits-run"
    shutil.copytree(FIXTURE, path)
    return path


async def loaded(pilot: Pilot) -> ErrorsScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ErrorsScreen)
    await wait_until(
        pilot,
        lambda: "loading" not in label_text(pilot, "#errors-title"),
        what="the evaluation shown",
    )
    await pilot.pause()
    return screen


def test_half_blocks_draw_two_pixel_rows_a_character() -> None:
    pixels = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0]  # 4 rows of 2 columns
    assert image_lines(pixels, (4, 2)) == ["█▄", " ▀"]
    assert len(image_lines([0.5] * 784, (28, 28))) == 7  # halved: 14 columns, 7 rows
    assert image_lines([0.5] * 784, (28, 28))[0] == "█" * 14


def test_a_point_is_drawn_on_its_plane() -> None:
    lines = plane_lines((1.0, 1.0), [(0.0, 0.0, 0), (1.0, 0.0, 1)])
    assert lines[0].endswith("●") and lines[-1].startswith("·") and lines[-1].endswith("+")


async def test_x_in_the_runs_list_shows_the_run_under_the_cursor(tmp_path: Path) -> None:
    run = a_run(tmp_path / "runs")
    stored = json.loads((run / "evaluation.json").read_text())
    app = DnnApp(scripted.CONFIG, run_root=tmp_path / "runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_list(pilot, 1)
        await pilot.press("x")
        screen = await loaded(pilot)
        assert screen.errors is not None and screen.errors.source == "evaluation.json"
        heatmap = screen.query_one(ConfusionHeatmap)
        assert heatmap.row_count == 10
        top = stored["most_confused"][0]
        # the cursor starts on the most confused pair; enter narrows the gallery to it
        assert (heatmap.cursor_coordinate.row, heatmap.cursor_coordinate.column) == (
            top["true"],
            top["pred"],
        )
        await pilot.press("enter")
        await pilot.pause()
        gallery = screen.query_one(MistakeGallery)
        expected = [
            m for m in stored["worst"] if (m["true"], m["pred"]) == (top["true"], top["pred"])
        ]
        assert [m.index for m in gallery.mistakes] == [m["index"] for m in expected]
        assert f"{top['count']} in the test split" in label_text(pilot, "#gallery-title")
        await pilot.press("a")
        await pilot.pause()
        assert len(gallery.mistakes) == len(stored["worst"])
        await pilot.press("escape")
        assert not isinstance(app.screen, ErrorsScreen)


async def test_an_old_run_is_evaluated_from_its_weights(tmp_path: Path) -> None:
    run = a_run(tmp_path)
    stored = json.loads((run / "evaluation.json").read_text())
    (run / "evaluation.json").unlink()
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.push_screen(ErrorsScreen(run))
        screen = await loaded(pilot)
        assert screen.errors is not None
        assert screen.errors.source == "computed from the saved weights"
        assert [list(r) for r in screen.errors.evaluation.confusion] == stored["confusion"]


async def test_a_run_without_weights_or_evaluation_says_why(tmp_path: Path) -> None:
    run = a_run(tmp_path)
    (run / "evaluation.json").unlink()
    (run / "model.safetensors").unlink()
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.push_screen(ErrorsScreen(run))
        await wait_until(pilot, lambda: "no weights" in label_text(pilot, "#errors-title"))


async def test_x_in_the_lab_without_a_run_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert not isinstance(app.screen, ErrorsScreen)
        assert any("No run shown" in message for _, message, _ in notes.seen)


@pytest.mark.parametrize("size", SIZES)
def test_errors_screen(snap_compare: Compare, tmp_path: Path, size: tuple[int, int]) -> None:
    run = a_run(tmp_path)

    async def run_before(pilot: Pilot) -> None:
        await pilot.pause()
        await pilot.app.push_screen(ErrorsScreen(run))
        await loaded(pilot)

    app = DnnApp(scripted.CONFIG, run_root=Path("runs"))
    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_the_per_class_tab_shows_the_selected_runs_accuracy_class_by_class(
    tmp_path: Path,
) -> None:
    from dnn_tui.app.widgets.class_accuracy_table import ClassAccuracyTable

    run = a_run(tmp_path / "runs")
    stored = json.loads((run / "evaluation.json").read_text())
    app = DnnApp(scripted.CONFIG, run_root=tmp_path / "runs")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_list(pilot, 1)
        await pilot.press("space", "5")
        table = screen.query_one(ClassAccuracyTable)
        await wait_until(pilot, lambda: table.row_count == 11)
        assert str(table.get_cell_at((3, 1))) == fmt_acc(stored["per_class_acc"][3])
        assert str(table.get_cell_at((10, 1))) == fmt_acc(stored["acc"])


async def test_x_in_the_lab_shows_the_run_it_shows(tmp_path: Path) -> None:
    run = a_run(tmp_path / "runs")
    app = DnnApp(scripted.CONFIG, run_root=tmp_path / "runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_list(pilot, 1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is app.lab and app.lab.run_dir == run)
        await pilot.press("x")
        screen = await loaded(pilot)
        assert screen.path == run and screen.errors is not None
