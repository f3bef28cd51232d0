"""The dashboard on a sweep (``dnn-tui sweep --dashboard``): the sweep's runs listed live, then,
when sweep.json says the sweep is over, the comparison of its runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dnn_tui.app import sweep_watch
from dnn_tui.app.app import DnnApp
from dnn_tui.app.screens.compare import CompareScreen
from dnn_tui.app.widgets.run_list import RunList
from dnn_tui.sweeps.planning import SWEEP_FILE
from tests.helpers.app import FIXTURES, PRESETS, wait_until


def write_sweep(root: Path, status: str, statuses: list[str]) -> None:
    runs = [
        {"dir": f"{i}-preset={p}", "base": p, "values": {}, "status": s}
        for i, (p, s) in enumerate(zip(PRESETS, statuses, strict=True), 1)
    ]
    (root / SWEEP_FILE).write_text(json.dumps({"schema": 1, "status": status, "runs": runs}))


@pytest.fixture
def sweep_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(sweep_watch, "POLL_S", 0.05)
    root = tmp_path / "sweep"
    root.mkdir()
    for i, preset in enumerate(PRESETS[:3], 1):  # the fourth run never started
        shutil.copytree(FIXTURES / preset, root / f"{i}-preset={preset}")
    write_sweep(root, "running", ["completed", "completed", "running", "pending"])
    return root


async def test_the_sweeps_runs_are_listed_then_compared_when_it_ends(sweep_root: Path) -> None:
    app = DnnApp(run_root=sweep_root, sweep=sweep_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        run_list = app.screen.query_one(RunList)
        await wait_until(pilot, lambda: run_list.row_count == 3)
        await pilot.pause(0.2)
        assert run_list.selected == []  # nothing is compared while the sweep goes on

        write_sweep(sweep_root, "completed", ["completed"] * 3 + ["skipped"])
        await wait_until(pilot, lambda: len(run_list.selected) == 3)
        assert sorted(p.name for p in run_list.selected) == sorted(
            f"{i}-preset={p}" for i, p in enumerate(PRESETS[:3], 1)
        )
        assert len(app.screen_stack) == 2  # the same compare screen, not a second one
        assert app.sweep_watch.done


async def test_a_sweep_that_ended_while_another_screen_was_up_selects_on_the_open_list(
    sweep_root: Path,
) -> None:
    app = DnnApp(run_root=sweep_root, sweep=sweep_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        compare = app.screen
        await pilot.press("escape")  # back to the lab
        await wait_until(pilot, lambda: not isinstance(app.screen, CompareScreen))
        write_sweep(sweep_root, "stopped", ["completed", "completed", "stopped", "skipped"])
        await wait_until(pilot, lambda: app.sweep_watch.done)
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        assert app.screen is not compare
        run_list = app.screen.query_one(RunList)
        await wait_until(pilot, lambda: len(run_list.selected) == 3)
