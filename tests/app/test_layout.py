"""The lab adapts to the terminal: tabs at 80x24, everything at 200x60, a message when too small."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from textual.widgets import Static, Tabs

from dnn_tui.app.app import DnnApp
from tests.helpers import scripted
from tests.helpers.app import TINY, shown, wait_until

REGIONS = (
    "#config-form",
    "#run-status",
    "#epoch-table",
    "#loss-sparklines",
    "#accuracy-sparklines",
    "#gradient-panel",
)


async def test_everything_at_once_on_a_large_terminal(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(200, 60)) as pilot:
        scripted.feed(app, scripted.mid_run())
        await pilot.pause()
        assert app.lab.has_class("-xwide") and not app.lab.has_class("-compact")
        assert all(shown(app, selector) for selector in REGIONS)
        assert not app.lab.query_one(Tabs).display
        fields = app.lab.config_form.query(".form-field")
        assert all(field.region.bottom <= 60 for field in fields)


async def test_tabs_on_a_small_terminal(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        lab = app.lab
        assert lab.has_class("-compact") and lab.query_one(Tabs).display
        assert shown(app, "#config-form") and shown(app, "#run-status")
        for field in lab.config_form.query(".form-field"):  # the whole form fits
            assert field.region.bottom <= 23, field.id
        scripted.feed(app, scripted.mid_run())  # a run starting brings the curves forward
        await pilot.pause()
        assert shown(app, "#epoch-table") and shown(app, "#loss-sparklines")
        assert shown(app, "#accuracy-sparklines") and not shown(app, "#config-form")
        lab.show_page("gradients")
        await pilot.pause()
        assert shown(app, "#gradient-panel") and shown(app, "#run-status")
        assert lab.gradient_panel.region.height >= len(scripted.LAYERS) + 3


async def test_too_small_says_so(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(50, 15)) as pilot:
        message = app.lab.query_one("#too-small", Static)
        assert message.display and "too small: 50x15" in str(message.content)
        assert not app.lab.query_one("#lab-body").display
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert not message.display and shown(app, "#epoch-table")


async def test_resizing_during_a_run_is_safe(tmp_path: Path) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: app.lab.epoch_table.row_count >= 1)
        for size in ((80, 24), (200, 60), (50, 15), (120, 40)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.1)
        assert app.running and app.is_running
        app.controls.stop()
        await app.workers.wait_for_complete()


def test_the_dashboard_paints_before_torch_is_imported() -> None:
    code = """
import asyncio, sys
from dnn_tui.app.app import DnnApp

async def main():
    async with DnnApp().run_test() as pilot:
        await pilot.pause()
        assert pilot.app.lab.run_status.region.area > 0
        assert "torch" not in sys.modules, "torch was imported before the first paint"

asyncio.run(main())
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
