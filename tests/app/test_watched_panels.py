"""The model graph's choice of sample (``[`` and ``]``) for a paused run, and a run of another
process that a watcher asks for its decision regions and for its paused pass (trace.json)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from textual.widgets import Static

from dnn_tui.app.app import DnnApp
from dnn_tui.app.screens.model_graph import ModelGraphScreen
from dnn_tui.config import RunConfig
from tests.helpers.app import TINY, wait_until
from tests.helpers.cli import start_cli, wait_for_run_files


def pass_text(app: DnnApp) -> str:
    return str(app.screen.query_one("#graph-pass", Static).render())


async def test_brackets_trace_the_previous_and_next_sample(tmp_path: Path) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        await pilot.press("r")
        await wait_until(pilot, lambda: lab.last_step is not None)
        await pilot.press("space")
        await wait_until(pilot, lambda: lab.last_pass is not None, what="the pass of the pause")
        await pilot.press("g")
        assert isinstance(app.screen, ModelGraphScreen)
        await wait_until(pilot, lambda: "sample 0 of the" in pass_text(app))
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: "sample 1 of the" in pass_text(app), what="sample 1")
        assert lab.last_pass is not None and lab.last_pass.traced.sample == 1
        label = lab.last_pass.traced.label
        assert f"sample 1 of the {lab.last_pass.traced.split} split: label {label}," in (
            pass_text(app)
        )
        await pilot.press("left_square_bracket", "left_square_bracket")
        await wait_until(
            pilot,
            lambda: "sample 1 of" not in pass_text(app) and "sample 0 of" not in pass_text(app),
            what="the last sample (wrapped)",
        )
        last = lab.last_pass.traced.sample
        assert last > 1 and f"sample {last} of the" in pass_text(app)
        assert app.lab.run_status.state == "paused"
        await pilot.press("escape", "s")
        await app.workers.wait_for_complete()


@pytest.fixture
def moons_run(tmp_path: Path):
    out = tmp_path / "moons"
    process = start_cli(
        *("train", "--dataset", "moons", "--hidden", "8,8", "--activation", "tanh"),
        *("--batch-size", 32, "--epochs", 100_000, "--out", out),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    wait_for_run_files(out, process)
    yield out, process
    process.kill()
    process.wait()


@pytest.mark.e2e
async def test_a_watched_moons_run_shows_its_regions_and_its_paused_pass(moons_run) -> None:
    run_dir, process = moons_run
    app = DnnApp(RunConfig(), run_root=run_dir.parent, watch=run_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        await wait_until(pilot, lambda: lab.run_started is not None and lab.last_step is not None)
        assert not app.local and lab.offered_panels[-1] == "boundary"
        await pilot.press("a", "a", "a")
        assert lab.panel == "boundary"
        panel = lab.boundary_panel
        await wait_until(pilot, lambda: panel.latest is not None, 30, what="regions logged")
        assert panel.latest is not None and panel.latest.epoch >= 1
        await wait_until(pilot, lambda: "decision regions · epoch" in panel.render().plain)

        await pilot.press("space")
        await wait_until(pilot, lambda: lab.run_status.state == "paused")
        await pilot.press("g")
        await wait_until(pilot, lambda: "sample 0 of the test split" in pass_text(app), 30)
        assert "the chain rule for one weight" in pass_text(app)
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: "sample 1 of the test split" in pass_text(app), 30)
        await pilot.press("escape", "a")  # the gradients again: the run measures no more
        await pilot.press("s")
        await app.workers.wait_for_complete()
    assert process.wait(timeout=60) == 130
    requests = [json.loads(line) for line in (run_dir / "control.jsonl").read_text().splitlines()]
    asked = [(r["kind"], r["value"]) for r in requests if r["kind"] in ("boundary", "trace")]
    assert asked == [("boundary", True), ("trace", 1), ("boundary", False)]
