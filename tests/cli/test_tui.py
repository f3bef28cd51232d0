"""``dnn-tui tui`` in a real pseudo-terminal: what the terminal keeps after the dashboard quits.

The program runs in a pty whose screen is kept by a terminal emulator (pyte), as a user's
terminal keeps it: the dashboard draws on the alternate screen and, once it quits, the
summary of the session's runs must be left on the normal screen (the scrollback). pyte
has no alternate screen, so there the summary is written over the dashboard's last frame:
the tests look for its lines, not for a clean screen.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dnn_tui.training.numbers import fmt_acc, fmt_loss
from tests.helpers.cli import read_history
from tests.helpers.terminal import PtyProcess

pytestmark = pytest.mark.e2e


def only_run(root: Path) -> Path:
    (run_dir,) = root.glob("*/history.json")
    return run_dir.parent


def test_quitting_leaves_the_runs_summary_in_the_terminal(tmp_path: Path) -> None:
    args = ["tui", "--dataset", "digits", "--limit", 300, "--hidden", "16", "--epochs", 2]
    term = PtyProcess([*args, "--start"], tmp_path)
    try:
        term.wait_for_text("finished")
        term.send(b"\x11")  # ctrl+q
        assert term.wait(timeout=20) == 0
    finally:
        term.close()
    run_dir = only_run(tmp_path / "runs")
    history = read_history(run_dir)
    best = history["epochs"][history["best_epoch"] - 1]
    screen = term.screen_text()
    assert f"run custom: runs/{run_dir.name}" in screen  # no preset holds a 16-unit layer
    assert "status: completed after 2 epochs" in screen
    assert (
        f"best epoch: {history['best_epoch']} (val loss {fmt_loss(best['val_loss'])}, "
        f"val acc {fmt_acc(best['val_acc'])})" in screen
    )
    assert f"test accuracy: {fmt_acc(history['test']['acc'])}" in screen


def test_quitting_during_a_run_stops_it_and_says_so(tmp_path: Path) -> None:
    args = ["tui", "--dataset", "digits", "--hidden", "16", "--epochs", 100000]
    term = PtyProcess([*args, "--start"], tmp_path, cols=80, rows=24)
    try:
        term.wait_for_text("step ")
        term.wait_for_text("best epoch")  # the line under the table: an epoch has ended
        term.send(b"\x11")
        term.wait_for_text("Quit?")  # during a run it asks first; ctrl+q again quits
        term.send(b"\x11")
        assert term.wait(timeout=20) == 0
    finally:
        term.close()
    run_dir = only_run(tmp_path / "runs")
    history = read_history(run_dir)
    assert history["status"] == "stopped"
    screen = term.screen_text()
    assert f"runs/{run_dir.name}" in screen
    assert f"status: stopped after {len(history['epochs'])} epoch" in screen
    assert "test accuracy:" in screen
