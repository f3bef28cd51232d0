"""The runs list keeps its place: selection, filter, cursor and scroll survive opening a run
and coming back and the live rescans; a delete leaves the cursor on the neighbouring row (and
``f`` then loads that row); export and an empty selection say what happened, on screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from dnn_tui.app.app import DnnApp
from dnn_tui.app.screens.compare import CompareScreen
from dnn_tui.app.screens.confirm import ConfirmScreen
from dnn_tui.app.screens.export import ExportScreen
from dnn_tui.app.screens.lab import LabScreen
from dnn_tui.app.widgets.run_list import RunList
from tests.helpers.app import TINY, Notes, make_suite, open_list, wait_until
from tests.helpers.run_files import make_run


def many_runs(root: Path, count: int) -> list[Path]:
    """count finished runs, more than the list shows at 80x24."""
    return [make_run(root / f"run-{i:02d}", "baseline") for i in range(count)]


async def test_selection_filter_cursor_and_scroll_survive_opening_a_run(tmp_path: Path) -> None:
    paths = many_runs(tmp_path, 14)
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_list(pilot, 14)
        run_list = screen.query_one(RunList)
        await pilot.press("space", "down", "space")
        for _ in range(10):
            await pilot.press("down")
        await pilot.pause()
        assert run_list.scroll_y > 0, "the list scrolled to its cursor"
        before = run_list.state()
        assert before.cursor == paths[11] and len(before.picked) == 2

        await pilot.press("enter")  # open the run, then come back
        await wait_until(pilot, lambda: isinstance(app.screen, LabScreen), what="the lab")
        await wait_until(pilot, lambda: not app.running, what="the ended run to load")
        await pilot.press("v")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        run_list = screen.query_one(RunList)
        await wait_until(pilot, lambda: screen.scanned, what="the first scan")
        await pilot.pause()
        assert run_list.selected == paths[:2]
        assert run_list.current is not None and run_list.current.path == paths[11]
        assert run_list.scroll_y == before.scroll_y

        # A filter is kept too, shown in its field; the selected runs stay listed with it.
        await pilot.press("slash", *"run-05", "enter")
        assert run_list.row_count == 3
        await pilot.press("escape")
        await pilot.press("v")
        screen = app.screen
        await wait_until(pilot, lambda: screen.scanned, what="the first scan")
        assert screen.query_one("#run-filter", Input).value == "run-05"
        assert screen.query_one(RunList).row_count == 3


async def test_a_rescan_keeps_the_cursor_and_the_scroll(tmp_path: Path) -> None:
    many_runs(tmp_path, 14)
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_list(pilot, 14)
        run_list = screen.query_one(RunList)
        for _ in range(12):
            await pilot.press("down")
        await pilot.pause()
        current, scroll_y = run_list.current, run_list.scroll_y
        make_run(tmp_path / "run-00a", "l2")  # a new run, listed among the others
        screen.rescan()
        await wait_until(pilot, lambda: run_list.row_count == 15, what="the new run")
        await pilot.pause()
        assert run_list.current == current
        assert run_list.scroll_y == pytest.approx(scroll_y, abs=1)


async def test_a_delete_leaves_the_cursor_on_the_next_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = make_suite(tmp_path)
    app = DnnApp(TINY, run_root=tmp_path)
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_list(pilot, 4)
        run_list = screen.query_one(RunList)
        await pilot.press("down", "down", "d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y", "f")  # f at once: it loads the row now under the cursor
        assert not paths[2].exists()
        loaded = [m for t, m, _ in notes.seen if t == "Config loaded"]
        assert len(loaded) == 1 and "/bottleneck'" in loaded[0], notes.seen
        await pilot.press("v")
        screen = app.screen
        await wait_until(pilot, lambda: screen.scanned, what="the first scan")
        run_list = screen.query_one(RunList)
        assert run_list.row_count == 3
        assert run_list.current is not None and run_list.current.path == paths[3]
        # The last row deleted: the cursor goes up one, not to the top.
        await pilot.press("d", "y")
        await wait_until(pilot, lambda: run_list.row_count == 2, what="the row to go")
        assert run_list.current is not None and run_list.current.path == paths[1]


async def test_export_says_what_it_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_suite(tmp_path / "runs")
    target = tmp_path / "runs.csv"
    app = DnnApp(TINY, run_root=tmp_path / "runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_list(pilot, 4)
        await pilot.press("e")
        assert isinstance(app.screen, CompareScreen)
        # On the runs list, where the lab's notice line is hidden, the message is a toast.
        assert [n.title for n in app._notifications] == ["Nothing to export"]
        notes = Notes(app, monkeypatch)
        await pilot.press("space", "e")
        assert isinstance(app.screen, ExportScreen)
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, target.exists, what="the CSV")
        assert any(t == "Exported" and str(target) in m for t, m, _ in notes.seen)


async def test_notices_go_where_they_are_seen(tmp_path: Path) -> None:
    from dnn_tui.app.screens.confirm import ConfirmScreen

    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ConfirmScreen("Sure?"))  # a dialog over the lab: its line shows
        await pilot.pause()
        app.notify("under the dialog")
        await pilot.pause()  # a toast would be posted as a message
        assert app.lab.run_status.notice == ("under the dialog", "information")
        assert not app._notifications
        await pilot.press("n", "v")  # the runs list hides the line: a toast
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen), what="the list")
        app.notify("over the list")
        await pilot.pause()
        assert [n.message for n in app._notifications] == ["over the list"]


async def test_the_figures_keys_act_at_80_columns_without_a_footer_label(tmp_path: Path) -> None:
    make_suite(tmp_path)
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_list(pilot, 4)
        zoom, log, x_axis = screen.zoom, screen.log_loss, screen.x_axis
        await pilot.press("z", "l", "a", "h")
        assert screen.zoom != zoom and screen.log_loss != log and screen.x_axis != x_axis
        assert screen.query_one(RunList).row_count == 3  # h hid one
