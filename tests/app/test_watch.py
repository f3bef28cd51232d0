"""``dnn-tui watch``: the lab on a run of another process, its keys steering that run.

The run is a real headless ``dnn-tui train`` in a subprocess; the dashboard follows it
under ``run_test`` and its keys must arrive in the run's own history.json.
"""

from __future__ import annotations

import gc
import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input

from dnn_tui.app.app import DnnApp
from dnn_tui.app.screens.lab import FOLLOWED_SLOWER, REFRESH_S
from dnn_tui.config import RunConfig
from dnn_tui.rundir.files import load_run
from tests.helpers.app import wait_until
from tests.helpers.cli import start_train, wait_for_run_files

pytestmark = pytest.mark.e2e
"""Every test here follows a run of another process (a real ``train``)."""


def history(run_dir: Path) -> dict:
    return json.loads((run_dir / "history.json").read_text())


def logged_epochs(run_dir: Path) -> int:
    """EpochEnded lines in events.jsonl, which is written before history.json catches up."""
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    return sum(json.loads(line)["event"] == "EpochEnded" for line in lines if line.strip())


@pytest.fixture
def live_run(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen]]:
    out = tmp_path / "live"
    process = start_train(out, 100_000)
    wait_for_run_files(out, process)
    yield out, process
    process.kill()
    process.wait()


async def test_watch_steers_a_run_in_another_process(live_run) -> None:
    run_dir, process = live_run
    app = DnnApp(RunConfig(), run_root=run_dir.parent, watch=run_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        await wait_until(pilot, lambda: lab.run_started is not None and lab.last_step is not None)
        assert not app.local and lab.run_status.state == "running"
        # Drawn at a slower pace than a run of its own, and with the heap out of the full
        # collections' reach while it follows: the watcher's CPU is taken from the run.
        assert lab.status_period == REFRESH_S * FOLLOWED_SLOWER > REFRESH_S
        assert gc.get_freeze_count() > 0

        await pilot.press("c")  # clipping on (the run has none configured)
        assert "clip ON ≤1" in str(lab.run_status.query_one("#run-controls").content)
        await pilot.press("minus")  # threshold 1 -> 0.5
        await pilot.press("space")
        await wait_until(pilot, lambda: lab.run_status.state == "paused")
        field = lab.query_one("#field-lr", Input)
        field.focus()
        field.clear()
        await pilot.press(*"0.003", "enter", "escape")
        await pilot.press("space")  # resume
        await pilot.pause(0.3)
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: lab.run_status.state == "stopped")
        assert app.controls is None  # ended: the steering keys are greyed out
        assert app.check_action("toggle_clipping", ()) is None
        assert gc.get_freeze_count() == 0  # given back when the follow ended
        await pilot.press("ctrl+r")  # a run of its own is drawn at the dashboard's pace
        await wait_until(pilot, lambda: app.local)
        assert lab.status_period == REFRESH_S
        await pilot.press("s")
        await app.workers.wait_for_complete()
    assert process.wait(timeout=60) == 130

    recorded = history(run_dir)
    assert recorded["status"] == "stopped"
    events = [e for r in recorded["epochs"] for e in r["events"]]
    events += recorded["partial_epoch"]["events"]
    kinds = [(e["kind"], e["value"]) for e in events]
    assert kinds == [
        ("clipping", True),
        ("clip_norm", 0.5),
        ("pause", True),
        ("lr", 0.003),
        ("pause", False),
        ("stop", True),
    ]


async def test_a_finished_and_an_interrupted_run_open_as_ended(tmp_path: Path) -> None:
    finished = tmp_path / "finished"
    done = start_train(finished, 3)
    assert done.wait(timeout=120) == 0
    killed = tmp_path / "killed"
    process = start_train(killed, 100_000)
    wait_for_run_files(killed, process, epochs=1)
    process.send_signal(signal.SIGKILL)
    process.wait()

    app = DnnApp(RunConfig(), run_root=tmp_path, watch=finished)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        await wait_until(pilot, lambda: lab.run_status.state == "completed")
        assert lab.epoch_table.row_count == 3
        assert app.controls is None
        app.watch_run(killed)
        await wait_until(pilot, lambda: lab.run_status.state == "interrupted")
        assert f"pid {process.pid}" in str(lab.run_status.query_one("#run-speed").content)
        # A kill between the appends leaves the last epoch in events.jsonl only.
        assert lab.epoch_table.row_count == logged_epochs(killed)
        joined = load_run(killed).history["epochs"]  # history.json and the epoch log
        assert 1 <= len(joined) <= logged_epochs(killed)
        assert app.controls is None


def test_the_summary_of_a_run_that_goes_on_says_how_to_watch_it(live_run) -> None:
    """What the terminal keeps on quitting, for a run of another process: still running (and
    how to open it again), or interrupted once its process is gone."""
    from dnn_tui.app.session_summary import run_lines

    run_dir, process = live_run
    status = run_lines(run_dir)[1].plain
    assert status.startswith(f"status: running in its own process (dnn-tui watch {run_dir})")
    process.kill()
    process.wait()
    assert run_lines(run_dir)[1].plain.startswith("status: interrupted after")
