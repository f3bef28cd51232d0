"""Facts about runs kept in one place: the statuses, what a view shows for a run whose process
is gone, the history.json skeleton and the closing summary's words."""

from __future__ import annotations

import json
from pathlib import Path

from dnn_tui import config as cfg
from dnn_tui.rundir.files import dumps_history, new_history
from dnn_tui.rundir.liveness import LIVENESS_FILE, current, shown_status
from dnn_tui.training.report import DIVERGED_ADVICE, summary_lines
from dnn_tui.training.status import ENDED_ON_ITS_OWN, ENDED_WELL, RECORDED, Status


def test_the_status_sets_say_what_they_hold() -> None:
    assert Status.INTERRUPTED not in RECORDED and len(RECORDED) == len(Status) - 1
    assert {"completed", "early_stopped"} == ENDED_WELL
    assert {"completed", "early_stopped", "diverged", "pruned"} == ENDED_ON_ITS_OWN
    assert json.dumps({"status": Status.EARLY_STOPPED}) == '{"status": "early_stopped"}'


def test_a_running_run_whose_process_is_gone_shows_as_interrupted(tmp_path: Path) -> None:
    assert shown_status(Status.RUNNING, tmp_path) == Status.INTERRUPTED  # no liveness record
    (tmp_path / LIVENESS_FILE).write_text(current().to_json())  # this process: alive
    assert shown_status("running", tmp_path) == Status.RUNNING
    for status in ("completed", "failed", "damaged"):
        assert shown_status(status, tmp_path / "elsewhere") == status  # never looked up


def test_one_history_skeleton_for_a_starting_and_an_unstarted_run() -> None:
    config = cfg.RunConfig()
    starting = new_history(config, dataset={"name": "moons"}, layers=("fc1", "fc2"))
    assert starting["status"] == "running" and starting["layers"] == ["fc1", "fc2"]
    unstarted = new_history(config, status=Status.FAILED, error="exit code 1")
    assert list(unstarted) == list(starting)
    assert unstarted["error"] == "exit code 1" and unstarted["dataset"] is None
    assert json.loads(dumps_history(unstarted))["status"] == "failed"


def test_the_summary_lines() -> None:
    epochs = [{"epoch": 1, "val_loss": 0.5, "val_acc": 0.8}, {"epoch": 2, "val_loss": 0.4}]
    lines = summary_lines(
        "diverged",
        epochs,
        "in 1.5 s",
        best_epoch=1,
        test={"acc": 0.75, "loss": 0.6},
        diverged={"epoch": 2, "step": 3, "layer": "fc1"},
        failure="boom",
        advice=DIVERGED_ADVICE,
    )
    assert [line.plain for line in lines] == [
        "status: diverged after 2 epochs in 1.5 s",
        "failed: boom",
        "diverged: a non-finite value at epoch 2, step 3, first in fc1; " + DIVERGED_ADVICE,
        "best epoch: 1 (val loss 0.5000, val acc 80.0%)",
        "test accuracy: 75.0% (test loss 0.6000)",
    ]
    ended_well = summary_lines(
        "completed", [], "(0.0 s of epochs)", best_epoch=None, test=None, diverged=None
    )
    assert [line.plain for line in ended_well] == [
        "status: completed after 0 epochs (0.0 s of epochs)"
    ]
    assert "green" in str(ended_well[0].spans[-1].style) and "red" in str(lines[0].spans[-1].style)
