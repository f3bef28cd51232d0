"""Pictures at 80x24, a terminal over SSH: the runs list keeps the run folder (the one unique
name) and leaves other columns out first, each compare tab and every dialog fit whole, and a
legend keeps every marker.

Regenerate after an intended change with ``pytest tests/app --snapshot-update`` and look at
the SVGs in ``tests/app/__snapshots__/`` before committing them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from textual.pilot import Pilot

from dnn_tui.app.app import DnnApp
from dnn_tui.app.screens import compare
from dnn_tui.app.widgets.run_list import RunList
from tests.helpers import scripted
from tests.helpers.app import PRESETS, make_suite, wait_until
from tests.helpers.run_files import make_run

SIZE = (80, 24)
Compare = Callable[..., bool]


def app() -> DnnApp:
    return DnnApp(scripted.CONFIG, run_root=Path("runs"))


def the_suite_selected(*keys: str) -> Callable[[Pilot], object]:
    """The runs list on the four regularization runs, all selected, then keys."""

    async def run_before(pilot: Pilot) -> None:
        await pilot.press("v")
        run_list = pilot.app.screen.query_one(RunList)
        await wait_until(pilot, lambda: run_list.row_count == len(PRESETS))
        for _ in PRESETS:
            await pilot.press("space", "down")
        await pilot.press("up", *keys)
        await pilot.pause()

    return run_before


@pytest.fixture
def suite_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the runs folder shows on screen as ./runs
    make_suite(Path("runs"))


@pytest.mark.parametrize("tab", ["1", "2", "3", "4", "5", "6"])
def test_compare_tab(snap_compare: Compare, suite_runs: None, tab: str) -> None:
    assert snap_compare(app(), terminal_size=SIZE, run_before=the_suite_selected(tab))


def test_delete_confirmation(snap_compare: Compare, suite_runs: None) -> None:
    assert snap_compare(app(), terminal_size=SIZE, run_before=the_suite_selected("d"))


def test_export_dialog(
    snap_compare: Compare, suite_runs: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The file name offered holds the time: a fixed one keeps the picture.
    monkeypatch.setattr(compare, "time", SimpleNamespace(strftime=lambda _f: "20250102-120000"))
    assert snap_compare(app(), terminal_size=SIZE, run_before=the_suite_selected("e"))


def test_suite_picker(snap_compare: Compare) -> None:
    assert snap_compare(app(), terminal_size=SIZE, press=["u"])


def test_legend_of_long_run_names(
    snap_compare: Compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs of one preset, told apart by their long folder names (a sweep's): the legend
    takes two lines and keeps every marker."""
    monkeypatch.chdir(tmp_path)
    for i, (lr, batch) in enumerate([(0.001, 32), (0.001, 128), (0.01, 32), (0.01, 128)]):
        path = make_run(Path(f"runs/sweep-lr-batch/lr{lr}-batch{batch}-seed3"), "baseline")
        stamp = 1735810000 + 60 * i  # listed in this order
        os.utime(path / "history.json", (stamp, stamp))
    assert snap_compare(app(), terminal_size=SIZE, run_before=the_suite_selected("1"))
