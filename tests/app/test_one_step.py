"""``n``: one step of a paused run in the dashboard, and the model graph (``g``) of a paused
run, which draws one sample's pass through the network node by node."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from textual.message import Message
from textual.widgets import Static

from dnn_tui.app.app import DnnApp
from dnn_tui.app.screens.model_graph import ModelGraphScreen
from dnn_tui.training import engine
from dnn_tui.training.events import ControlApplied, PassTraced, StepMeasured
from tests.helpers import scripted
from tests.helpers.app import TINY, Notes, engine_events, wait_until
from tests.helpers.stepping import TINY_MOONS, paused_tiny_run

SIZES = [(80, 24), (120, 40)]


def adam_steps(optimizer: torch.optim.Optimizer) -> int:
    return {int(state["step"]) for state in optimizer.state.values()}.pop()


async def test_three_presses_of_n_take_three_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    optimizers: list[torch.optim.Optimizer] = []
    made = engine.make_optimizer
    monkeypatch.setattr(
        engine, "make_optimizer", lambda *a: optimizers.append(made(*a)) or optimizers[-1]
    )
    messages: list[Message] = []
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        lab = app.lab
        await pilot.press("r")
        await wait_until(pilot, lambda: lab.last_step is not None)
        await pilot.press("space")
        await wait_until(pilot, lambda: lab.last_pass is not None, what="the pass of the pause")
        (optimizer,) = optimizers
        before = adam_steps(optimizer)
        reports = len(engine_events(messages, StepMeasured))
        for pressed in range(1, 4):
            await pilot.press("n")
            await wait_until(
                pilot,
                lambda n=pressed: len(engine_events(messages, PassTraced)) == n + 1,
                what=f"the pass after step {pressed}",
            )
        assert adam_steps(optimizer) == before + 3
        assert lab.run_status.state == "paused"
        steps = engine_events(messages, StepMeasured)[reports:]
        assert len(steps) == 3  # every panel got each step's report
        assert lab.last_step is steps[-1]
        assert lab.last_pass is not None
        assert (lab.last_pass.epoch, lab.last_pass.step) >= (steps[-1].epoch, steps[-1].step)

        await pilot.press("g")
        assert isinstance(app.screen, ModelGraphScreen)
        await pilot.pause()
        shown = str(app.screen.query_one("#graph-pass", Static).render())
        assert "one sample's pass" in shown and "Paused at epoch" in shown
        assert "the chain rule for one weight" in shown
        await pilot.press("escape", "s")
        await app.workers.wait_for_complete()
    kinds = [e.kind for e in engine_events(messages, ControlApplied)]
    assert kinds.count("step") == 3
    history = json.loads(next(tmp_path.glob("*/history.json")).read_text())
    recorded = [e for r in history["epochs"] for e in r["events"]]
    recorded += history["partial_epoch"]["events"]
    assert [e["kind"] for e in recorded].count("step") == 3


async def test_n_says_why_it_does_nothing_without_a_paused_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        notes = Notes(app, monkeypatch)
        await pilot.press("n")
        assert "No run to step" in notes.seen[-1][1]
        await pilot.press("r")
        await wait_until(pilot, lambda: app.lab.last_step is not None)
        await pilot.press("n")
        assert "press space to pause it first" in notes.seen[-1][1]
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.press("n")
        assert "No run to step" in notes.seen[-1][1]


async def test_a_watched_paused_run_says_where_its_pass_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(DnnApp, "local", property(lambda _app: False))  # followed from files
    app = DnnApp(TINY_MOONS, run_root=Path("runs"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        controls = scripted.feed(app, paused_tiny_run()[:2])  # no pass: not sent over files
        controls.pause()
        app.lab.show_controls()
        await pilot.press("g")
        await pilot.pause()
        text = str(app.screen.query_one("#graph-pass", Static).render())
        assert "dnn-tui eval RUN_DIR --trace" in text


async def test_the_graph_of_a_run_that_goes_on_shows_no_pass(tmp_path: Path) -> None:
    app = DnnApp(TINY_MOONS, run_root=Path("runs"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        controls = scripted.feed(app, paused_tiny_run())
        await pilot.press("g")
        assert not app.screen.query_one("#graph-pass", Static).display  # running
        await pilot.press("escape")
        controls.pause()
        app.lab.show_controls()
        await pilot.press("g")
        await pilot.pause()
        body = app.screen.query_one("#graph-pass", Static)
        assert body.display
        text = str(body.render())
        # every number of the small network: fc2's 8x8 weight gradient, a row a line
        assert text.count("\n          [") >= 7
        assert "eval mode" in text and "∂L/∂W[1," in text


def show_paused_pass(size: tuple[int, int]):
    async def run_before(pilot) -> None:
        await pilot.pause()
        controls = scripted.feed(pilot.app, paused_tiny_run())
        controls.pause()
        pilot.app.lab.show_controls()
        await pilot.press("g")
        await pilot.pause()
        pilot.app.screen.query_one("#graph-pass").scroll_visible(animate=False, top=True)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_the_pass_of_a_paused_run(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(
        DnnApp(TINY_MOONS, run_root=Path("runs")),
        terminal_size=size,
        run_before=show_paused_pass(size),
    )
