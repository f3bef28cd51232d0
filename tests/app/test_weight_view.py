"""The weight view: `a` cycles gradients, signal and weights; `i` shows the start beside the
current figures; a real run feeds it; the gradient panel reads the stack by the lesson's rule."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static, Tab

from dnn_tui.app.app import DnnApp
from dnn_tui.training.events import StepMeasured
from tests.helpers import scripted
from tests.helpers.app import TINY, shown, wait_until


def weight_lines(app: DnnApp) -> list[str]:
    return app.lab.weight_panel.render().plain.splitlines()


async def test_a_cycles_to_the_weights_and_i_shows_the_start_beside(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        scripted.feed(app, scripted.mid_run())
        await pilot.pause()
        await pilot.press("a", "a")
        await pilot.pause()
        assert lab.panel == "weights"
        assert shown(app, "#weight-panel") and not shown(app, "#gradient-panel")
        assert str(lab.query_one("#tab-gradients", Tab).label).startswith("Weights")
        lines = weight_lines(app)
        rows = [line for line in lines if line.startswith("fc")]
        assert len(rows) == 4
        last = scripted.step(7, 9)  # the latest report: its norms and update ratios
        assert rows[0].split()[2] == f"{last.weight_norm[0]:.3g}"
        assert all(row.split()[-1] == "healthy" for row in rows)
        assert "at the start" not in lines[0]
        await pilot.press("i")
        await pilot.pause()
        lines = weight_lines(app)
        assert "at the start" in lines[0]
        start = scripted.weights(0)
        assert [line.split()[2] for line in lines[1:5]] == [f"{v:.3g}" for v in start.norm]
        await pilot.press("i")
        await pilot.pause()
        assert "at the start" not in weight_lines(app)[0]


async def test_i_from_the_gradients_shows_the_signal_at_the_start(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        scripted.feed(app, scripted.mid_run())
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        assert lab.panel == "signal" and shown(app, "#signal-panel")
        lines = lab.signal_panel.render().plain.splitlines()
        assert "at the start" in lines[0]
        assert "at the start and epoch 6" in lines[-1]


async def test_small_even_gradients_read_as_converged(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        events = scripted.mid_run()
        late = scripted.step(7, 10, scale=1e-6)
        even = StepMeasured(**{**late.__dict__, "grad_norm": (2e-6, 1e-6, 3e-6, 2e-6)})
        scripted.feed(app, [*events, even])
        await pilot.pause()
        app.lab.flush_panels()
        await pilot.pause()
        text = app.lab.gradient_panel.render().plain
        rows = [line for line in text.splitlines() if line.startswith("fc")]
        assert all(row.split()[-1] == "converged" for row in rows)
        assert "vanishing" not in text and "converged: every gradient" in text


async def test_a_real_run_feeds_the_weights_and_the_graph_shows_them(tmp_path: Path) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        await pilot.press("r")
        await wait_until(pilot, lambda: lab.epoch_table.row_count >= 1)
        panel = lab.weight_panel
        await wait_until(pilot, lambda: panel.latest is not None and panel.latest.epoch >= 1)
        assert panel.initial is not None and panel.initial.epoch == 0
        assert len(panel.norms) == len(lab.run_started.layers)
        assert all(ratio is not None for ratio in panel.updates)
        await pilot.press("g")
        await pilot.pause(0.7)
        nodes = str(app.screen.query_one("#graph-nodes", Static).render())
        assert nodes.count("‖W‖ ") == len(lab.run_started.layers)
        app.controls.stop()
        await app.workers.wait_for_complete()


async def test_the_widest_layout_keeps_the_gradients_beside_the_signal_or_weights(
    tmp_path: Path,
) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(200, 60)) as pilot:
        scripted.feed(app, scripted.mid_run())
        await pilot.pause()
        assert shown(app, "#gradient-panel") and shown(app, "#signal-panel")
        assert not shown(app, "#weight-panel")
        await pilot.press("a", "a")
        await pilot.pause()
        assert shown(app, "#gradient-panel") and shown(app, "#weight-panel")
        assert not shown(app, "#signal-panel")
        await pilot.press("a")
        await pilot.pause()
        assert shown(app, "#gradient-panel") and shown(app, "#signal-panel")
        assert not shown(app, "#weight-panel")
