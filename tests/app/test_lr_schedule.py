"""A scheduled run in the dashboard: the lr row under the curves shows the schedule, the
epoch table's lr column its value per epoch, and a run without one shows no lr row."""

from __future__ import annotations

from pathlib import Path

from dnn_tui.app.app import DnnApp
from dnn_tui.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from tests.helpers.app import label_text, wait_until

STEPPED = RunConfig(
    model=ModelConfig(hidden=(16,)),
    data=DataConfig("digits", limit=200),
    train=TrainConfig(
        epochs=4, batch_size=50, lr=0.01, device="cpu", schedule="step", step_size=1, gamma=0.5
    ),
)


async def test_the_lr_row_shows_the_schedule_step_by_step(tmp_path: Path) -> None:
    app = DnnApp(STEPPED, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        await pilot.press("r")
        await wait_until(pilot, lambda: lab.run_ended, timeout=60, what="the run ends")
        lab.lr_sparkline.flush()
        row = lab.lr_sparkline
        assert row.display
        assert [r["lr"] for r in lab.epoch_table.records.values()] == [0.01, 0.005, 0.0025, 0.00125]
        assert row.label_text().split()[:5] == ["lr", "now", "1.3e-3", "min", "1.3e-3"]
        assert "lr 0.00125" in label_text(pilot, "#run-controls")  # the lr in force now
        heights = [h for h in row.heights if h is not None]
        assert heights[0] > heights[-1]
        assert heights == sorted(heights, reverse=True)  # each cut a step down, never up
        assert len(set(heights)) >= 3


async def test_a_run_whose_lr_stays_has_no_lr_row(tmp_path: Path) -> None:
    config = RunConfig(model=STEPPED.model, data=STEPPED.data, train=TrainConfig(epochs=2))
    app = DnnApp(config, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: app.lab.run_ended, timeout=60, what="the run ends")
        assert len(app.lab.epoch_table.records) == 2
        assert not app.lab.lr_sparkline.display
