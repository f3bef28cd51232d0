"""``dnn-tui watch DIR`` where no run has started yet waits for it, saying so, then follows
the run that starts there (a ``watch`` typed right after ``train --out DIR &``)."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from dnn_tui.commands.watch import wait_for_run
from tests.helpers.cli import cli_command, cli_env
from tests.helpers.terminal import PtyProcess


def test_a_folder_holding_a_run_is_not_waited_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "history.json").write_text("{}")
    wait_for_run(tmp_path)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("made", [False, True])
def test_the_wait_ends_when_the_run_writes_its_first_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], made: bool
) -> None:
    """The folder may not exist yet, or be claimed and still loading its data."""
    run_dir = tmp_path / "later"
    if made:
        run_dir.mkdir()
        (run_dir / "liveness.json").write_text("{}")  # claimed: not started yet
    timer = threading.Timer(
        0.3, lambda: (run_dir.mkdir(exist_ok=True), (run_dir / "events.jsonl").touch())
    )
    timer.start()
    try:
        wait_for_run(run_dir, poll=0.02)
    finally:
        timer.cancel()
    assert (run_dir / "events.jsonl").is_file()
    assert capsys.readouterr().err == (
        f"dnn-tui: waiting for a run to start in {run_dir} (Ctrl-C leaves)\n"
    )


@pytest.mark.e2e
def test_watch_started_before_its_run_shows_it_when_it_starts(tmp_path: Path) -> None:
    term = PtyProcess(["watch", "later"], tmp_path)
    train = None
    try:
        term.wait_for_text("waiting for a run to start in later")
        args = ["train", "--dataset", "digits", "--limit", 300, "--epochs", 3, "--out", "later"]
        train = subprocess.Popen(
            cli_command(*args), cwd=tmp_path, env=cli_env(), stdout=subprocess.DEVNULL
        )
        term.wait_for_text("epoch 3/3")  # the dashboard followed the run to its end
        assert train.wait(timeout=120) == 0
        term.send(b"\x11")  # ctrl+q
        assert term.wait(timeout=20) == 0
    finally:
        term.close()
        if train is not None and train.poll() is None:
            train.kill()
            train.wait()
