"""Runs outlive the terminal: every ending of a process, sent to real processes.

``train`` and the dashboard run in subprocesses (the dashboard in a pseudo-terminal, as over
SSH); the tests send SIGTERM, SIGHUP and SIGKILL (SIGINT, SIGTERM and SIGHUP to a headless run:
``test_train.py``), or close the reading end of stdout, and then
read the run directory: nothing may be left ``running`` with its process gone, and what a
run finished must be on disk.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dnn_tui.rundir.files import load_run
from dnn_tui.rundir.follow import RunFollower, RunGone
from dnn_tui.rundir.liveness import is_alive
from tests.helpers.cli import (
    LONG_RUN,
    epochs_done,
    read_history,
    run_cli,
    start_cli,
)
from tests.helpers.terminal import PtyProcess
from tests.helpers.waiting import wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and terminals"),
]

LONG = LONG_RUN
"""A run of a few hundredths of a second an epoch (tests/helpers/cli.py)."""


def the_run(root: Path) -> Path:
    """The one run directory the dashboard made under root/runs."""
    wait_for(lambda: len(list((root / "runs").glob("*/history.json"))) == 1, "the run's files")
    return next((root / "runs").glob("*/history.json")).parent


# --- headless -----------------------------------------------------------------------------------


def test_a_closed_stdout_stops_the_printing_not_the_run(tmp_path: Path) -> None:
    """``dnn-tui train ... | head -3``."""
    out = tmp_path / "run"
    process = start_cli("train", *LONG, "--epochs", 20, "--out", out, cwd=tmp_path)
    try:
        assert process.stdout is not None
        for _ in range(3):
            process.stdout.readline()
        process.stdout.close()  # head has read its three lines and gone
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    history = read_history(out)
    assert history["status"] == "completed"
    assert len(history["epochs"]) == 20
    assert (out / "model.safetensors").is_file()


def test_a_killed_run_is_interrupted_and_keeps_its_best_epoch(tmp_path: Path) -> None:
    out = tmp_path / "run"
    train = ("train", *LONG, "--epochs", 1000, "--out", out)
    process = start_cli(*train, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: (out / "model.safetensors").is_file() and epochs_done(out) >= 2, "weights")
        assert is_alive(out)
        process.kill()  # SIGKILL: no handler runs
        process.wait(timeout=30)
    finally:
        process.kill()
    history = read_history(out)
    assert history["status"] == "running"  # what the file says; its readers know better:
    assert not is_alive(out)
    # Every epoch the run finished reads back (history.json joined with the epoch log).
    logged = [
        json.loads(line)["record"]["epoch"]
        for line in (out / "events.jsonl").read_text().splitlines()
        if line.startswith('{"event":"EpochEnded"')
    ]
    joined = load_run(out).history
    epochs = [r["epoch"] for r in joined["epochs"]]
    # (killed between its two appends, the last epoch is in events.jsonl only)
    assert epochs == logged[: len(epochs)] and len(logged) - len(epochs) <= 1
    assert len(epochs) > len(read_history(out)["epochs"])  # more than history.json holds
    assert joined["best_epoch"] in epochs
    with pytest.raises(RunGone, match=f"pid {process.pid}"):
        RunFollower(out).follow(lambda _event: None, lambda: False, poll_s=0.01)
    done = run_cli("eval", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "test accuracy" in done.stdout


# --- the dashboard in a terminal ----------------------------------------------------------------

RESTORED = (b"\x1b[?1049l", b"\x1b[?25h", b"\x1b[?1000l")
"""Leave the alternate screen, show the cursor, stop mouse tracking: a terminal given back."""


def test_sigterm_stops_the_dashboards_run_saves_it_and_restores_the_terminal(
    tmp_path: Path,
) -> None:
    app = PtyProcess(["tui", *LONG, "--epochs", 1000, "--start"], cwd=tmp_path)
    try:
        run = the_run(tmp_path)
        wait_for(lambda: epochs_done(run) >= 1, "an epoch")
        app.signal(signal.SIGTERM)
        code = app.wait(timeout=30)
    finally:
        app.close()
    assert code == 0
    history = read_history(run)
    assert history["status"] == "stopped"
    assert (run / "model.safetensors").is_file()
    tail = app.text()[-4000:]
    for sequence in RESTORED:
        assert sequence in tail, sequence


def test_sighup_lets_the_dashboards_run_finish_unseen(tmp_path: Path) -> None:
    epochs = 60
    app = PtyProcess(["tui", *LONG, "--epochs", epochs, "--start"], cwd=tmp_path)
    try:
        run = the_run(tmp_path)
        wait_for(lambda: epochs_done(run) >= 1, "an epoch")
        app.hang_up()
        hung_up_at = epochs_done(run)
        code = app.wait(timeout=240)
    finally:
        app.close()
    assert code == 0
    history = read_history(run)
    assert hung_up_at < epochs, "the run ended before the hang-up: make it longer"
    assert history["status"] == "completed"
    assert len(history["epochs"]) == epochs
    assert (run / "model.safetensors").is_file()


def threads(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc")
def test_a_stopped_and_continued_dashboard_goes_on_as_it_was(tmp_path: Path) -> None:
    """``kill -STOP`` / ``kill -CONT`` (a scheduler suspending a job): Textual restarted its
    terminal mode on each SIGCONT, four more threads a time, two more keyboard readers."""
    app = PtyProcess(["tui", *LONG, "--epochs", 1000, "--start"], cwd=tmp_path)
    try:
        run = the_run(tmp_path)
        wait_for(lambda: epochs_done(run) >= 2, "two epochs")
        before = threads(app.pid)
        for _ in range(3):
            app.signal(signal.SIGSTOP)
            time.sleep(0.2)
            app.signal(signal.SIGCONT)
            time.sleep(0.3)
        after = threads(app.pid)
        done = epochs_done(run)
        wait_for(lambda: epochs_done(run) > done, "an epoch after the last SIGCONT")
        app.send(b"c")  # clipping on: the keyboard still reaches the app, once
        wait_for(lambda: b"clip ON" in app.text()[-20000:], "the key's effect on screen")
        app.signal(signal.SIGTERM)
        code = app.wait(timeout=30)
    finally:
        app.close()
    assert after <= before, (before, after)
    assert code == 0
    history = read_history(run)
    events = [e for r in history["epochs"] for e in r["events"]]
    events += history["partial_epoch"]["events"] if history.get("partial_epoch") else []
    assert [e["kind"] for e in events if e["kind"] == "clipping"] == ["clipping"]


def test_a_sweep_shown_in_the_dashboard_outlives_its_terminal(tmp_path: Path) -> None:
    """``sweep --dashboard``: the sweep runs in a session of its own, so the terminal hanging up
    (an SSH drop) ends the dashboard but not the sweep, whose runs all complete."""
    out = tmp_path / "sweep"
    args = ["sweep", *LONG, "--epochs", 30, "--grid", "lr=0.01,0.001", "--dashboard", "--out", out]
    app = PtyProcess(args, cwd=tmp_path)
    try:
        wait_for(lambda: b"space selects" in app.text(), "the dashboard on the sweep")
        app.hang_up()
        assert app.wait(timeout=30) == 0
    finally:
        app.close()
    state_file = out / "sweep.json"
    wait_for(lambda: json.loads(state_file.read_text())["status"] != "running", "the sweep's end")
    state = json.loads(state_file.read_text())
    assert state["status"] == "completed", (out / "sweep.log").read_text()
    for entry in state["runs"]:
        history = read_history(out / entry["dir"])
        assert history["status"] == "completed" and len(history["epochs"]) == 30
    assert "comparison" in (out / "sweep.log").read_text()
