"""The boundary panel: `a` reaches it after the weights for 2-D data only, the engine measures
the regions only while it shows, a real moons run draws them live, and without colour each
class has its glyph."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Select, Tab

from dnn_tui.analysis.regions import HALF, POINT, REGION_GLYPHS
from dnn_tui.app.app import DnnApp
from dnn_tui.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from dnn_tui.training import engine
from dnn_tui.training.controls import RunControls
from tests.helpers import scripted
from tests.helpers.app import shown, wait_until

MOONS_RUN = RunConfig(
    model=ModelConfig(hidden=(8, 8), activation="tanh", init="xavier"),
    data=DataConfig("moons", limit=600),
    train=TrainConfig(epochs=500, batch_size=20, lr=0.01),
)
"""600 points in batches of 20: 30 steps an epoch; far more epochs than the test waits for."""


def tab_label(app: DnnApp) -> str:
    return str(app.lab.query_one("#tab-gradients", Tab).label)


async def test_a_reaches_the_regions_of_2d_data_and_asks_the_engine_for_them(
    tmp_path: Path,
) -> None:
    app = DnnApp(scripted.MOONS, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        controls = scripted.feed(app, scripted.moons_mid_run())
        await pilot.press("a", "a")
        assert lab.panel == "weights" and tab_label(app) == "Weights · a: boundary"
        assert not controls.boundary_wanted
        await pilot.press("a")
        await pilot.pause()
        assert lab.panel == "boundary" and tab_label(app) == "Boundary · a: gradients"
        assert shown(app, "#boundary-panel") and not shown(app, "#gradient-panel")
        assert controls.boundary_wanted
        lines = lab.boundary_panel.render().plain.splitlines()
        assert lines[0] == "decision regions · epoch 6, step 15"
        assert len(lines[1:13]) == 12 and all(len(line) == 48 for line in lines[1:13])
        assert POINT in lines[1] + lines[2]
        await pilot.press("a")
        await pilot.pause()
        assert lab.panel == "gradients" and not shown(app, "#boundary-panel")
        assert not controls.boundary_wanted


async def test_the_cycle_skips_the_regions_of_other_data(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        scripted.feed(app, scripted.mid_run())
        await pilot.press("a", "a")
        assert tab_label(app) == "Weights · a: gradients"
        await pilot.press("a")
        assert app.lab.panel == "gradients"


async def test_regions_of_data_that_is_no_plane_say_why(tmp_path: Path) -> None:
    app = DnnApp(scripted.MOONS, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a", "a", "a")  # the form's moons offer the regions before a run
        assert app.lab.panel == "boundary"
        scripted.feed(app, scripted.mid_run())  # then a digits run starts
        await pilot.pause()
        text = app.lab.boundary_panel.render().plain
        assert text == (
            "Decision regions are drawn for 2-D data (moons, circles, spiral); digits has 64 "
            "features per sample."
        )
        await pilot.press("a")
        assert app.lab.panel == "gradients"


async def test_without_colour_each_class_has_its_glyph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = DnnApp(scripted.MOONS, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        scripted.feed(app, scripted.moons_mid_run())
        await pilot.press("a", "a", "a")
        text = app.lab.boundary_panel.render().plain
        assert HALF not in text and POINT not in text
        picture = text.splitlines()[1:13]
        event = scripted.boundary(6)
        marked = {(row // 2, col) for row, col, _ in event.points}
        for line, (index, row) in zip(picture, enumerate(event.grid[::2]), strict=True):
            for col, (glyph, label) in enumerate(zip(line, row, strict=True)):
                if (index, col) not in marked:
                    assert glyph == REGION_GLYPHS[label]
        assert ".0 class 0  +1 class 1" in text


async def test_a_real_moons_run_draws_its_regions_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "BOUNDARY_INTERVAL", 0.2)
    app = DnnApp(MOONS_RUN, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        await pilot.press("a", "a", "a", "r")
        panel = lab.boundary_panel
        await wait_until(pilot, lambda: panel.latest is not None and panel.latest.epoch >= 1)
        first = panel.latest
        assert {value for row in first.grid for value in row} == {0, 1}
        await wait_until(pilot, lambda: panel.latest is not first, what="the next regions")
        assert "decision regions · epoch" in panel.render().plain
        app.controls.stop()
        await app.workers.wait_for_complete()
    # The run's events.jsonl keeps them (a watcher shows them as they come).
    log = next(tmp_path.glob("*/events.jsonl")).read_text()
    assert '"event":"BoundaryMeasured"' in log


async def test_a_run_that_never_shows_the_regions_measures_none(tmp_path: Path) -> None:
    config = replace(MOONS_RUN, train=replace(MOONS_RUN.train, epochs=3))
    app = DnnApp(config, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.lab.boundary_panel.latest is None
    log = next(tmp_path.glob("*/events.jsonl")).read_text()
    assert "BoundaryMeasured" not in log


async def test_the_widest_layout_keeps_the_gradients_beside_the_regions(tmp_path: Path) -> None:
    app = DnnApp(scripted.MOONS, run_root=tmp_path)
    async with app.run_test(size=(200, 60)) as pilot:
        scripted.feed(app, scripted.moons_mid_run())
        await pilot.press("a", "a", "a")
        await pilot.pause()
        assert shown(app, "#gradient-panel") and shown(app, "#boundary-panel")
        assert not shown(app, "#signal-panel") and not shown(app, "#weight-panel")


async def test_a_2d_preset_brings_its_data_and_the_regions(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)  # digits
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.lab.config_form
        dataset = form.query_one("#field-dataset", Select)
        form.query_one("#field-preset", Select).value = "circles-linear"
        await pilot.pause()
        assert dataset.value == "circles"
        assert form.validated_config().model.hidden == ()
        assert app.lab.offered_panels[-1] == "boundary"
        form.query_one("#field-preset", Select).value = "baseline"
        await pilot.pause()
        assert dataset.value == "auto"  # the baseline's own, not the circles
        assert "boundary" not in app.lab.offered_panels


async def test_a_run_of_another_process_says_where_its_regions_come_from(tmp_path: Path) -> None:
    app = DnnApp(scripted.MOONS, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a", "a", "a")
        controls = RunControls()
        app.lab.begin_run(scripted.MOONS, scripted.RUN_DIR, 1, controls, followed=True)
        await pilot.pause()
        assert controls.boundary_wanted  # asked of the run
        text = app.lab.boundary_panel.render().plain
        assert text == (
            "Decision regions: asked of the run, shown as it logs them (every few seconds "
            "while it trains); for a saved run: dnn-tui eval RUN_DIR --boundary"
        )
