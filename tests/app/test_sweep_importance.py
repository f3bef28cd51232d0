"""What mattered in a sweep, in the dashboard: the importance bars and the parallel
coordinates over the sweep's comparison, opened when the sweep ends (a snapshot too)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from textual.pilot import Pilot

from dnn_tui.app import sweep_watch
from dnn_tui.app.app import DnnApp
from dnn_tui.app.screens.sweep_importance import SweepImportanceScreen
from dnn_tui.sweeps.planning import SWEEP_FILE
from tests.helpers import scripted
from tests.helpers.app import FIXTURES, PRESETS, wait_until

LRS = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.05, 0.1]
HIDDEN = ["32", "16,16", "none", "32", "16,16", "none", "32", "none"]


def search_state(status: str, dirs: list[str]) -> dict:
    """A search of lr (which matters: the loss falls with it) and hidden (which matters
    less: no hidden layer costs a little)."""
    runs = []
    for i, (name, lr, hidden) in enumerate(zip(dirs, LRS, HIDDEN, strict=False)):
        loss = 2.0 - 0.4 * math.log10(lr / 1e-4) + (0.1 if hidden == "none" else 0.0)
        runs.append(
            {
                "dir": name,
                "values": {"lr": repr(lr), "hidden": hidden},
                "status": "pruned" if i == 0 else "completed",
                "trial": i,
                "best_val_loss": loss,
            }
        )
    return {
        "schema": 1,
        "status": status,
        "grid": {},
        "search": "tpe",
        "space": {"lr": "log:0.0001..0.1", "hidden": "choice:32/16,16/none"},
        "trials": len(runs),
        "runs": runs,
    }


def write(root: Path, state: dict) -> None:
    (root / SWEEP_FILE).write_text(json.dumps(state))


async def test_the_importance_opens_over_the_comparison_when_a_search_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweep_watch, "POLL_S", 0.05)
    root = tmp_path / "sweep"
    root.mkdir()
    dirs = [f"{i}-preset={p}" for i, p in enumerate(PRESETS, 1)]
    for name, preset in zip(dirs, PRESETS, strict=True):
        shutil.copytree(FIXTURES / preset, root / name)
    write(root, search_state("running", dirs))
    app = DnnApp(run_root=root, sweep=root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        assert not isinstance(app.screen, SweepImportanceScreen)  # not while it goes on
        write(root, search_state("completed", dirs))
        await wait_until(pilot, lambda: isinstance(app.screen, SweepImportanceScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.result is not None, timeout=30)
        assert set(screen.result.importance) == {"lr", "hidden"}
        assert math.isclose(sum(screen.result.importance.values()), 1.0)
        assert max(screen.result.importance, key=screen.result.importance.get) == "lr"
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, SweepImportanceScreen))


def test_importance_snapshot(snap_compare, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    root = Path("sweep")
    root.mkdir()
    write(root, search_state("completed", [f"{i}-trial" for i in range(1, 9)]))

    async def run_before(pilot: Pilot) -> None:
        await pilot.pause()
        screen = SweepImportanceScreen(root)
        pilot.app.push_screen(screen)
        await wait_until(pilot, lambda: screen.result is not None, timeout=30)
        await pilot.pause()

    app = DnnApp(scripted.CONFIG, run_root=Path("runs"))
    assert snap_compare(app, terminal_size=(100, 34), run_before=run_before)
