"""The runs list's ``d`` checks again after its confirmation: a run folder swapped for a link
while the question was on screen, or a run started meanwhile, is not deleted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dnn_tui.app.app import DnnApp
from dnn_tui.app.screens.confirm import ConfirmScreen
from dnn_tui.app.widgets.run_list import RunList
from tests.helpers.app import TINY, Notes, make_suite, open_list, wait_until
from tests.helpers.run_files import a_run, make_running


async def test_changes_while_the_question_is_shown_are_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "runs"
    paths = make_suite(root)
    outside = a_run(tmp_path / "precious")
    app = DnnApp(TINY, run_root=root)
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_list(pilot, 4)
        run_list = screen.query_one(RunList)
        # Swapped for a link to a folder outside the runs folder after the question.
        run_list.move_cursor(row=0)
        target = run_list.current.path
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        shutil.rmtree(target)
        target.symlink_to(outside)
        await pilot.press("y")
        await wait_until(pilot, lambda: any(t == "Not deleted" for t, *_ in notes.seen))
        assert (outside / "history.json").is_file() and target.is_symlink()
        # Started running after the question.
        notes.seen.clear()
        run_list.move_cursor(row=1)
        running = run_list.current.path
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        make_running(running)
        await pilot.press("y")
        await wait_until(pilot, lambda: any(t == "Not deleted" for t, *_ in notes.seen))
        assert (running / "history.json").is_file()
        assert any("running: stop it first" in message for _, message, _ in notes.seen)
    assert all(path.exists() or path.is_symlink() for path in paths)
