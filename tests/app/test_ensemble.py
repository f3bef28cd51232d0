"""Ensembles in the dashboard: the suite of seeds (``u``, ``ensemble``) ends on the compare
screen with its runs evaluated as one ensemble, and ``m`` evaluates the selected runs so."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Label, OptionList

from dnn_tui.analysis.ensemble import evaluate_ensemble
from dnn_tui.app.app import DnnApp
from dnn_tui.app.screens.compare import CompareScreen
from dnn_tui.app.widgets.run_list import RunList
from dnn_tui.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from dnn_tui.rundir.files import load_run
from dnn_tui.training.numbers import fmt_acc
from tests.helpers.app import Notes, make_suite, wait_until

SEEDS = RunConfig(
    model=ModelConfig(hidden=(8,)),
    data=DataConfig("digits", limit=100),
    train=TrainConfig(epochs=2, batch_size=50, lr=0.01),
)


def result_text(screen: CompareScreen) -> str:
    label = screen.query_one("#ensemble-result", Label)
    return str(label.render()) if label.display else ""


async def test_a_suite_of_seeds_ends_as_an_ensemble_and_a_evaluates_a_selection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = DnnApp(SEEDS, run_root=tmp_path)
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("u")
        options = app.screen.query_one(OptionList)
        options.highlighted = [o.id for o in options.options].index("ensemble")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen), timeout=120)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_until(pilot, lambda: "acc" in result_text(screen), timeout=60)

        (suite,) = tmp_path.iterdir()
        runs = [suite / f"baseline-seed{seed}" for seed in range(3)]
        assert screen.query_one(RunList).selected == runs
        for seed, run in enumerate(runs):
            config = load_run(run).config
            assert (config.train.seed, config.data.split_seed) == (seed, 0)
        expected = evaluate_ensemble(runs)
        assert result_text(screen) == expected.summary()
        assert f"acc {fmt_acc(expected.acc)}" in result_text(screen)

        # Two of them, by hand: `a` evaluates the selection again.
        await pilot.press("space")  # the cursor is on the first run: unselect it
        assert screen.query_one(RunList).selected == runs[1:]
        await pilot.press("m")
        await wait_until(pilot, lambda: "ensemble of 2 runs" in result_text(screen))
        assert result_text(screen) == evaluate_ensemble(runs[1:]).summary()

        # One run is no ensemble.
        await pilot.press("down", "space")
        await pilot.press("m")
        assert notes.seen[-1][:2] == ("No ensemble", "Select two runs or more with space first.")


async def test_runs_without_weights_say_why_they_are_no_ensemble(tmp_path: Path) -> None:
    make_suite(tmp_path)  # the fixture runs keep no weights
    app = DnnApp(SEEDS, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("v")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_until(pilot, lambda: screen.query_one(RunList).row_count == 4)
        await pilot.press("space", "down", "space", "m")
        await wait_until(pilot, lambda: "no ensemble" in result_text(screen))
        assert "model.safetensors: missing; the run saved no weights" in result_text(screen)
