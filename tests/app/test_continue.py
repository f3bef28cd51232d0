"""``o``: an ended run continued from its checkpoint, asked for its epochs in a small dialog,
from the lab or the runs list; and a continued run shown by ``watch`` as one run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input

from dnn_tui.app.app import DnnApp
from dnn_tui.app.screens.continuation import ContinueScreen
from dnn_tui.config import RunConfig
from tests.helpers.app import open_list, wait_until
from tests.helpers.cli import run_in_process

RUN = ("--dataset", "digits", "--limit", 300, "--hidden", "16,8", "--threads", 1)


@pytest.fixture
def ended_run(tmp_path: Path) -> Path:
    """A finished run of 2 epochs with its checkpoint, alone in its runs folder."""
    root = tmp_path / "runs"
    out = root / "20250106-090000-custom"
    root.mkdir()
    done = run_in_process("train", *RUN, "--epochs", 2, "--out", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return out


def history(run_dir: Path) -> dict:
    return json.loads((run_dir / "history.json").read_text())


async def test_o_without_a_run_shown_says_there_is_nothing_to_continue(tmp_path: Path) -> None:
    app = DnnApp(RunConfig(), run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        assert app.screen is app.lab
        notice = app.lab.run_status.notice
        assert notice is not None and notice[0].startswith("Nothing to continue")


async def test_o_in_the_runs_list_asks_the_epochs_and_escape_changes_nothing(
    ended_run: Path,
) -> None:
    before = (ended_run / "history.json").read_bytes()
    app = DnnApp(RunConfig(), run_root=ended_run.parent)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_list(pilot, 1)
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, ContinueScreen))
        dialog = app.screen
        assert dialog.checkpoint_epoch == 2
        field = dialog.query_one("#continue-epochs", Input)
        assert field.value == "4"  # the run ended at its last epoch: twice as many offered
        field.value = "2"
        await pilot.press("enter")  # not more than the checkpoint's epoch: said, and asked on
        assert app.screen is dialog
        await pilot.press("escape")
        assert app.screen is app.lab
    assert (ended_run / "history.json").read_bytes() == before


async def test_watch_shows_a_continued_run_as_one_run(ended_run: Path, tmp_path: Path) -> None:
    done = run_in_process("train", "--resume", ended_run, "--epochs", 4, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    app = DnnApp(RunConfig(), run_root=ended_run.parent, watch=ended_run)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        await wait_until(pilot, lambda: lab.run_status.state == "completed")
        assert list(lab.epoch_table.records) == [1, 2, 3, 4]
        assert "epoch 4/4" in str(lab.run_status.query_one("#run-epoch").content)


@pytest.mark.e2e
async def test_o_continues_an_ended_run_in_its_own_process_and_follows_it(
    ended_run: Path,
) -> None:
    app = DnnApp(RunConfig(), run_root=ended_run.parent, watch=ended_run)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        await wait_until(pilot, lambda: lab.run_status.state == "completed")
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, ContinueScreen))
        app.screen.query_one("#continue-epochs", Input).value = "3"
        await pilot.press("enter")
        await wait_until(pilot, lambda: history(ended_run)["status"] == "completed", 120)
        await wait_until(pilot, lambda: len(lab.epoch_table.records) == 3, 60)
        await wait_until(pilot, lambda: lab.run_status.state == "completed")
    assert [r["epoch"] for r in history(ended_run)["epochs"]] == [1, 2, 3]
    assert "continued after epoch 2" in (ended_run / "output.log").read_text()
