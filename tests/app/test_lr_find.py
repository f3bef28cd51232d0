"""The lab's ``l``: the learning-rate range test of the form's settings, its figure, and its
suggestion taken into the form's lr field."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from dnn_tui.app.app import DnnApp
from dnn_tui.app.screens.lr_find import LrFindScreen
from dnn_tui.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from dnn_tui.data import load_data
from dnn_tui.training import lr_range
from dnn_tui.training.lr_range import LrSweep, RangeTest, range_test
from tests.helpers.app import Notes, label_text, wait_until

SMALL = RunConfig(
    model=ModelConfig(hidden=(16,)),
    data=DataConfig("digits", limit=300),
    train=TrainConfig(epochs=3, batch_size=50, lr=0.01, device="cpu"),
)
Compare = Callable[..., bool]


async def open_lr_find(pilot: Pilot) -> LrFindScreen:
    await pilot.pause()
    pilot.app.set_focus(None)  # the one-letter keys act outside the form's fields
    await pilot.press("l")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, LrFindScreen))
    screen = pilot.app.screen
    assert isinstance(screen, LrFindScreen)
    await wait_until(pilot, lambda: screen.test is not None, timeout=60, what="the test ends")
    return screen


async def test_l_runs_the_test_and_enter_puts_the_suggestion_in_the_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = DnnApp(SMALL, run_root=tmp_path)
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_lr_find(pilot)
        test = screen.test
        assert test is not None and test.suggestion is not None
        # The same numbers as the range test run on its own (a throwaway model, same seed).
        alone = range_test(SMALL, load_data(SMALL), LrSweep())
        assert test.losses == pytest.approx(alone.losses, rel=1e-5)
        assert test.suggestion == alone.suggestion
        figure = str(screen.query_one("#lr-find-figure", Static).render())
        assert "★" in figure and "1e-07" in figure
        assert label_text(pilot, "#lr-find-result").startswith(
            f"suggested lr {test.suggestion:.3g}"
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is app.lab)
        field = app.lab.config_form.query_one("#field-lr", Input)
        assert field.value == f"{test.suggestion:.3g}"
        assert app.lab.config_form.validated_config().train.lr == float(f"{test.suggestion:.3g}")
        assert notes.seen[-1][1].startswith(f"learning rate {test.suggestion:.3g} in the form")
        assert list(tmp_path.iterdir()) == []  # no run was started or written


async def test_escape_leaves_the_form_as_it_was(tmp_path: Path) -> None:
    app = DnnApp(SMALL, run_root=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_lr_find(pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.lab)
        assert app.lab.config_form.validated_config().train.lr == 0.01


async def test_an_invalid_form_is_said_and_nothing_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = DnnApp(SMALL, run_root=tmp_path)
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.lab.config_form.query_one("#field-epochs", Input).value = "0"
        await pilot.pause()
        app.set_focus(None)
        await pilot.press("l")
        await pilot.pause()
        assert app.screen is app.lab
        assert notes.seen[-1][1].startswith("epochs:")


async def test_a_test_that_fails_says_why_on_its_screen(tmp_path: Path) -> None:
    # Batch norm cannot take batches of one sample: the engine's rule, met in the worker.
    config = RunConfig(
        model=ModelConfig(hidden=(8,), batchnorm=True),
        data=SMALL.data,
        train=replace(SMALL.train, batch_size=1),
    )
    app = DnnApp(config, run_root=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.set_focus(None)
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LrFindScreen))
        await wait_until(pilot, lambda: "batch norm needs" in label_text(pilot, "#lr-find-title"))
        assert label_text(pilot, "#lr-find-title").startswith("Learning-rate range test: ")
        await pilot.press("enter")  # no suggestion to take: the screen stays
        assert isinstance(app.screen, LrFindScreen)


def made_up_test() -> RangeTest:
    """A range test with a known shape: flat, falling fastest at 3e-3, climbing past 0.1."""
    sweep = LrSweep(1e-7, 10.0, 120)
    lrs = tuple(np.geomspace(1e-7, 10.0, 96).tolist())
    smoothed = tuple(
        2.3 - 1.5 * (1 + math.tanh(1.5 * (math.log10(lr) + 2.5))) / 2 + 4 * max(0, lr - 0.1)
        for lr in lrs
    )
    suggestion = lr_range.suggest(lrs, smoothed)
    stopped = "the smoothed loss passed 4x its best at lr 2.41"
    return RangeTest(lrs, smoothed, smoothed, suggestion, stopped, sweep)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_lr_find_screen(
    snap_compare: Compare, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    monkeypatch.setattr(lr_range, "range_test", lambda *args: made_up_test())

    async def run_before(pilot: Pilot) -> None:
        await open_lr_find(pilot)
        await pilot.pause()

    app = DnnApp(SMALL, run_root=Path("runs"))
    assert snap_compare(app, terminal_size=size, run_before=run_before)
