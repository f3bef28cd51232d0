"""The dashboard driving the real engine on tiny data: start, watch, steer, stop, quit."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from textual.message import Message
from textual.widgets import Input

from dnn_tui.app.app import DnnApp
from dnn_tui.app.screens.compare import CompareScreen
from dnn_tui.app.screens.confirm import ConfirmScreen
from dnn_tui.app.screens.model_graph import ModelGraphScreen
from dnn_tui.training.events import ControlApplied, EpochEnded, RunFinished, RunStarted
from tests.helpers.app import (
    TINY,
    engine_events,
    label_text,
    training_threads,
    wait_until,
    wait_until_threads_end,
)


async def test_start_watch_clip_stop_quit(tmp_path: Path) -> None:
    messages: list[Message] = []
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        lab = app.lab
        await pilot.press("r")
        await wait_until(pilot, lambda: lab.epoch_table.row_count >= 2)

        # The curves and the gradient panel carry data for every layer.
        assert lab.loss_sparklines.train.series.values
        assert len(lab.loss_sparklines.val.series) >= 2
        assert len(lab.accuracy_sparklines.val.series) >= 2
        panel = lab.gradient_panel
        assert panel.layer_names == ("fc1", "fc2", "fc3")
        assert all(len(history) > 0 for history in panel.histories)
        assert all(norm > 0 for norm in panel.latest)
        assert "fc3" in str(panel.render())

        # c flips clipping on the running job: on screen at once, then applied by the engine.
        await pilot.press("c")
        assert "clip ON" in label_text(pilot, "#run-controls")
        assert "clipping ON" in str(panel.render())
        await wait_until(pilot, lambda: engine_events(messages, ControlApplied))
        applied = engine_events(messages, ControlApplied)[0]
        assert (applied.kind, applied.value) == ("clipping", True)
        await wait_until(pilot, lambda: lab.epoch_table.row_count > applied.epoch)

        # s stops within a step; the run directory says so and holds the clipping event.
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: lab.run_status.state == "stopped")
        (finished,) = engine_events(messages, RunFinished)
        assert finished.status == "stopped"
        run_dir = lab.run_dir
        assert run_dir is not None and run_dir.parent == tmp_path
        history = json.loads((run_dir / "history.json").read_text())
        assert history["status"] == "stopped"
        events = [e for record in history["epochs"] for e in record["events"]]
        assert {"step": applied.step, "kind": "clipping", "value": True} in events
        assert len(history["epochs"]) == lab.epoch_table.row_count

        # The model graph agrees with the engine's own summary (torch's parameter counts).
        (started,) = engine_events(messages, RunStarted)
        await pilot.press("g")
        graph = app.screen
        assert isinstance(graph, ModelGraphScreen)
        summary = str(graph.query_one("#graph-summary").render())
        assert summary.strip() == started.summary.strip()
        nodes = str(graph.query_one("#graph-nodes").render())
        assert all(f"{symbol} " in nodes for symbol in ("W", "b", "γ", "β"))
        await pilot.press("escape")

        # The compare screen lists the saved run.
        await pilot.press("v")
        assert isinstance(app.screen, CompareScreen)
        run_list = app.screen.query_one("#run-list")
        await wait_until(pilot, lambda: run_list.row_count == 1)
        await pilot.press("escape")

        await pilot.press("ctrl+q")
    assert training_threads() == []


async def test_quit_during_a_run_leaves_no_training_thread(tmp_path: Path) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test() as pilot:
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: app.lab.last_step is not None)
        assert training_threads()
        await pilot.press("ctrl+q")
    await wait_until_threads_end(2.0)


async def test_a_quit_question_about_a_run_is_answered_by_the_run_ending(tmp_path: Path) -> None:
    """ctrl+q just before the run's end asks whether to stop it; once it has ended, there is
    nothing left to ask, and the quit goes ahead (the question used to stay, stale)."""
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test() as pilot:
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: app.lab.last_step is not None)
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, ConfirmScreen) and not app._exit
        assert app.controls is not None
        app.controls.stop()  # the run ends without an answer to the question
        await wait_until(pilot, lambda: app._exit)
    history = json.loads((app.lab.run_dir / "history.json").read_text())
    assert history["status"] == "stopped"


async def test_ctrl_q_after_the_run_ended_quits_at_once(tmp_path: Path) -> None:
    app = DnnApp(replace(TINY, train=replace(TINY.train, epochs=1)), run_root=tmp_path)
    async with app.run_test() as pilot:
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: app.lab.run_ended)
        await pilot.press("ctrl+q")  # the worker may still be winding up: no question
        assert not isinstance(app.screen, ConfirmScreen)
        await wait_until(pilot, lambda: app._exit)


async def test_pause_lr_and_restart_asks_first(tmp_path: Path) -> None:
    # Keys are pressed while the run is paused where possible: Pilot waits for the process
    # to go idle after each key, which a training thread never does.
    messages: list[Message] = []
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        lab = app.lab
        await pilot.press("r")
        await wait_until(pilot, lambda: lab.last_step is not None)

        await pilot.press("space")
        assert lab.run_status.state == "paused"
        await wait_until(pilot, lambda: engine_events(messages, ControlApplied))
        ended = len(engine_events(messages, EpochEnded))
        await pilot.pause(0.5)
        assert len(engine_events(messages, EpochEnded)) == ended  # paused: no epoch ends

        # A learning rate confirmed in the form reaches the running job at its next step.
        field = lab.query_one("#field-lr", Input)
        field.focus()
        field.clear()
        await pilot.press(*"0.005", "enter", "escape")

        # Starting again while a run goes asks first; "n" keeps the run.
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert app.running and lab.run_id == 1

        await pilot.press("space")
        assert lab.run_status.state == "running"
        await wait_until(
            pilot, lambda: any(e.kind == "lr" for e in engine_events(messages, ControlApplied))
        )
        lr_changes = [e.value for e in engine_events(messages, ControlApplied) if e.kind == "lr"]
        assert lr_changes == [0.005]

        # "y" stops the old run and starts a new one in a new run directory.
        await pilot.press("r", "y")
        assert lab.run_id == 2
        await wait_until(pilot, lambda: lab.last_step is not None)
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: lab.run_status.state == "stopped")
    await wait_until_threads_end(2.0)
    assert len(list(tmp_path.iterdir())) == 2
