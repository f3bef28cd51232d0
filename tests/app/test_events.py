"""Engine events on their way in: coalesced progress, stale runs dropped, divergence remedies."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from textual.message import Message
from textual.widgets import Input

from dnn_tui.app import messages
from dnn_tui.app.app import DnnApp
from dnn_tui.app.messages import EngineReported, EventInbox, RunLost
from dnn_tui.app.screens.divergence import DivergenceScreen
from dnn_tui.app.screens.model_graph import ModelGraphScreen
from dnn_tui.training.events import EpochEnded, Notice, StepMeasured
from tests.helpers import scripted
from tests.helpers.app import wait_until


async def test_a_burst_of_events_comes_in_one_message_with_progress_coalesced(
    tmp_path: Path,
) -> None:
    messages: list[Message] = []
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(message_hook=messages.append) as pilot:
        scripted.feed(app, [scripted.started()])
        steps = [scripted.step(1, n) for n in range(1, 15)]
        burst = [*steps[:7], scripted.epoch_ended(1), *steps[7:]]
        inbox = EventInbox(app.lab, 1)
        for event in burst:  # as fast as a thread can post: nothing is processed meanwhile
            inbox(event)
        EventInbox(app.lab, 0)(scripted.step(1, 15))  # an older run's: dropped
        await pilot.pause()
        ours = [m for m in messages if isinstance(m, EngineReported) and m.run_id == 1]
        assert len(ours) == 1
        seen = ours[0].events
        assert [type(e) for e in seen] == [StepMeasured, EpochEnded, StepMeasured]
        assert seen[0] is steps[6] and seen[-1] is steps[-1]  # the newest report wins
        assert app.lab.last_step is steps[-1]
        later = scripted.step(2, 1)
        inbox(later)  # within GAP_S of the last message: it waits, at most until a redraw
        await wait_until(pilot, lambda: app.lab.last_step is later)
        assert len([m for m in messages if isinstance(m, EngineReported)]) == 3
        notice = Notice("a notice is not routine: it is posted at once", "information")
        inbox(scripted.step(2, 2))
        inbox(notice)
        await pilot.pause()
        reported = [m for m in messages if isinstance(m, EngineReported)]
        assert reported[-1].events[-1] is notice


async def test_events_from_a_thread_arrive_in_order_in_few_messages(tmp_path: Path) -> None:
    messages: list[Message] = []
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(message_hook=messages.append) as pilot:
        scripted.feed(app, [scripted.started()])
        inbox = EventInbox(app.lab, 1)
        epochs = [scripted.epoch_ended(epoch) for epoch in range(1, 301)]

        def worker() -> None:  # a toy dataset: hundreds of epochs a second
            for event in epochs:
                inbox(event)
                time.sleep(0.0005)

        thread = threading.Thread(target=worker)
        thread.start()
        await wait_until(pilot, lambda: not thread.is_alive(), what="the worker", interval=0.01)
        thread.join()

        def ours() -> list[EngineReported]:
            return [m for m in messages if isinstance(m, EngineReported)]

        await wait_until(pilot, lambda: sum(len(m.events) for m in ours()) == len(epochs))
        assert [e for m in ours() for e in m.events] == epochs
        assert len(ours()) < len(epochs) / 3
        app.lab.epoch_table.flush(force=True)
        assert app.lab.epoch_table.row_count == 300


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


async def test_a_lost_run_ends_after_every_event_it_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Routine events wait in the inbox up to a status redraw; RunLost comes as a message of
    its own, and must not overtake them (the table holds every epoch the run logged)."""
    monkeypatch.setattr(messages, "GAP_S", 60.0)  # routine events only ever wait
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        scripted.feed(app, [scripted.started()])
        inbox = EventInbox(app.lab, 1)
        inbox(scripted.started())  # not routine: posted at once, the lab knows the inbox
        await pilot.pause()
        for epoch in range(1, 6):  # routine: they wait
            inbox(scripted.epoch_ended(epoch))
        app.lab.post_message(RunLost("its process is gone", 1))
        await pilot.pause()
        assert app.lab.run_status.state == "interrupted"
        assert app.lab.epoch_table.row_count == 5
