"""A run opened from its files shows what it did so far at once: its epoch table is filled
from the epochs it replays, not at the panels' slower pace for a followed run."""

from __future__ import annotations

from pathlib import Path

import pytest

from dnn_tui.app.app import DnnApp
from tests.helpers.app import TINY, wait_until
from tests.helpers.run_files import make_run, make_running


async def test_an_opened_running_run_shows_its_epochs_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dnn_tui.app.screens import lab

    run = make_run(tmp_path / "live", "baseline")
    make_running(run)  # running, its process this one: followed live
    monkeypatch.setattr(lab, "PANELS_EVERY", 10_000)  # no timed redraw of the panels
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        app.watch_run(run)
        await wait_until(pilot, lambda: app.lab.run_started is not None, what="the replay")
        await wait_until(pilot, lambda: app.lab.epoch_table.row_count == 20, what="the epochs")
        assert app.running and not app.lab.run_ended
