"""Engine events on their way in: coalesced progress, stale runs dropped, divergence remedies."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message
from textual.widgets import Input

from dnn_tui.app.app import DnnApp
from dnn_tui.app.messages import EngineReported
from dnn_tui.app.screens.divergence import DivergenceScreen
from dnn_tui.app.screens.model_graph import ModelGraphScreen
from dnn_tui.training.events import EpochEnded, StepMeasured

from . import scripted
from .support import wait_until


async def test_a_burst_of_progress_reports_coalesces(tmp_path: Path) -> None:
    messages: list[Message] = []
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(message_hook=messages.append) as pilot:
        scripted.feed(app, [scripted.started()])
        steps = [scripted.step(1, n) for n in range(1, 15)]
        burst = [*steps[:7], scripted.epoch_ended(1), *steps[7:]]
        for event in burst:  # as fast as a thread can post: nothing is processed meanwhile
            app.lab.post_message(EngineReported(event, 1))
        app.lab.post_message(EngineReported(scripted.step(1, 15), 0))  # an older run's: dropped
        await pilot.pause()
        seen = [m.event for m in messages if isinstance(m, EngineReported) and m.run_id == 1]
        assert [type(e) for e in seen] == [StepMeasured, EpochEnded, StepMeasured]
        assert seen[0] is steps[6] and seen[-1] is steps[-1]  # the newest report wins
        assert app.lab.last_step is steps[-1]


async def test_divergence_offers_remedies_that_rerun(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        scripted.feed(app, scripted.diverged(), clipping=False)
        await pilot.pause()
        assert isinstance(app.screen, DivergenceScreen)
        text = str(app.screen.query_one("#divergence-text").render())
        assert "epoch 3, step 11" in text and "fc1" in text
        await pilot.press("d")
        assert app.screen is app.lab and app.lab.run_id == 1

        scripted.feed(app, scripted.diverged(), clipping=False)
        await pilot.pause()
        await pilot.press("l")  # re-run with the learning rate halved: a real run starts
        assert app.lab.query_one("#field-lr", Input).value == "0.0005"
        assert app.lab.run_dir is not None and app.lab.run_dir.parent == tmp_path  # launched
        await wait_until(pilot, lambda: app.lab.run_started is not None)
        assert app.lab.run_started.config.train.lr == 0.0005
        await app.workers.wait_for_complete()


async def test_the_graph_shows_the_form_before_any_run(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("g")
        assert isinstance(app.screen, ModelGraphScreen)
        title = str(app.screen.query_one("#graph-title").render())
        assert title.startswith("Model in the form, on digits")
        summary = str(app.screen.query_one("#graph-summary").render())
        assert "Total params: 12,780" in summary  # 64-100-50-20-10
        await pilot.press("escape")
        app.lab.query_one("#field-hidden", Input).value = "0"
        await pilot.pause()
        await pilot.press("g")
        assert "invalid" in str(app.screen.query_one("#graph-title").render())
