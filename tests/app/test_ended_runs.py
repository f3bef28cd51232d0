"""An ended run opened in the lab (``watch``, the runs list's enter): its status line shows the
last finished epoch, whole, as the table's last row does, whatever progress report came last;
a long one opens from its summary."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dnn_tui.app.app import DnnApp
from dnn_tui.app.widgets.epoch_table import KEPT_ROWS
from dnn_tui.config import RunConfig
from dnn_tui.rundir.recorder import RunRecorder
from tests.helpers.app import label_text, wait_until
from tests.helpers.run_files import finished
from tests.helpers.scripted import CONFIG, STEPS, epoch_ended, started, step


def write_run(path: Path, epochs: int, planned: int) -> None:
    """A run that ended after ``epochs`` of ``planned`` epochs; its one progress report
    logged is from the middle of epoch 1 (the log keeps at most four a second)."""
    config = dataclasses.replace(CONFIG, train=dataclasses.replace(CONFIG.train, epochs=planned))
    recorder = RunRecorder(path)
    recorder(started(config))
    recorder(step(1, 8))
    for epoch in range(1, epochs + 1):
        ended = epoch_ended(epoch)
        recorder(dataclasses.replace(ended, epochs=planned))
    recorder(dataclasses.replace(finished("stopped", best=epochs), weights=None))


@pytest.mark.parametrize(("epochs", "planned"), [(3, 10), (3000, 5000)])
async def test_an_ended_runs_status_line_shows_its_last_finished_epoch(
    tmp_path: Path, epochs: int, planned: int
) -> None:
    run_dir = tmp_path / "run"
    write_run(run_dir, epochs, planned)
    app = DnnApp(RunConfig(), run_root=tmp_path, watch=run_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        await wait_until(pilot, lambda: lab.run_ended)
        await pilot.pause()
        assert label_text(pilot, "#run-epoch") == f"epoch {epochs}/{planned}"
        assert label_text(pilot, "#run-step") == f"step {STEPS}/{STEPS}"
        table = lab.epoch_table  # the last epochs (KEPT_ROWS of a long run), the last one under
        assert table.row_count == min(epochs, KEPT_ROWS) and table.highlighted_epoch == epochs
        assert lab.run_status.state == "stopped"


@pytest.mark.parametrize("state", ["running", "paused"])
async def test_a_fast_runs_line_shows_the_epoch_after_the_last_that_ended(
    tmp_path: Path, state: str
) -> None:
    """Epochs shorter than the drawing pace: every report is already past when it is drawn.
    The line still moves on (paused between two epochs, it waits at the next one's start)."""
    from dnn_tui.app.widgets.run_status import RunStatus

    app = DnnApp(RunConfig(), run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        status = app.lab.query_one(RunStatus)
        status.show_starting(CONFIG, tmp_path / "run")
        status.show_started(started(), tmp_path / "run")
        for epoch in (1, 2, 3):
            status.show_step(step(epoch, STEPS))
            status.show_epoch(epoch_ended(epoch).record)
        status.show_state(state)
        status.flush()
        await pilot.pause()
        assert label_text(pilot, "#run-epoch") == f"epoch 4/{CONFIG.train.epochs}"
        assert label_text(pilot, "#run-step") == f"step 0/{STEPS}"
