"""The signal view: the forward signal beside the gradients, flipped with `a`, fed by real runs."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static, Tab

from dnn_tui.app.app import DnnApp
from dnn_tui.app.widgets.signal_panel import STRIP_BARS, axis, strip
from dnn_tui.training.lessons import SHARE_ABOVE
from dnn_tui.training.lessons import SIGNAL_COLLAPSING_BELOW as COLLAPSING_BELOW
from dnn_tui.training.lessons import SIGNAL_EXPLODING_ABOVE as EXPLODING_ABOVE
from dnn_tui.training.lessons import signal_band as band
from tests.helpers import scripted
from tests.helpers.app import TINY, shown, wait_until


def test_bands() -> None:
    assert band(COLLAPSING_BELOW / 2, 0.0, "saturated") == "collapsing"
    assert band(0.3, 0.0, "dead") == "healthy"
    assert band(0.3, SHARE_ABOVE + 0.1, "saturated") == "saturated"
    assert band(0.3, SHARE_ABOVE + 0.1, "dead") == "dead"
    assert band(EXPLODING_ABOVE * 2, 0.0, "dead") == "exploding"
    assert band(float("nan"), 0.0, "dead") == "exploding"
    # A collapsed layer's dead units are part of its collapse.
    assert band(COLLAPSING_BELOW / 2, 0.9, "dead") == "collapsing"


def test_the_strip_draws_the_histogram() -> None:
    assert strip((0.0, 0.5, 0.25, 0.001, 0.0)) == "·█▄▁·"
    assert strip((0.0, 0.0)) == "··"
    assert strip((1.0,)) == STRIP_BARS[-1]
    assert axis(-1.0, 1.0, 16) == "-1" + " " * 13 + "1"


def panel_lines(app: DnnApp) -> list[str]:
    return app.lab.signal_panel.render().plain.splitlines()


async def test_a_flips_to_the_signal_on_a_small_terminal(tmp_path: Path) -> None:
    app = DnnApp(scripted.DEEP_TANH, run_root=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        lab = app.lab
        scripted.feed(app, scripted.deep_tanh_start(), clipping=False)
        await pilot.pause()
        assert lab.has_class("-page-train")
        assert "a" not in {key for key, b in app.screen.active_bindings.items() if b.binding.show}
        await pilot.press("a")  # from the Train tab: its tab comes forward, showing the signal
        await pilot.pause()
        assert lab.has_class("-page-gradients")
        assert shown(app, "#signal-panel") and not shown(app, "#gradient-panel")
        assert str(lab.query_one("#tab-gradients", Tab).label).startswith("Signal")
        lines = panel_lines(app)
        rows = [line for line in lines if line.startswith("act")]
        assert len(rows) == 10
        assert rows[0].split()[-1] == "healthy" and rows[-1].split()[-1] == "collapsing"
        assert "before the first step" in lines[-1] and "|a| > 0.99" in lines[-1]
        assert lab.signal_panel.region.bottom <= 23  # all ten rows fit above the footer
        await pilot.press("a")
        await pilot.pause()
        assert shown(app, "#weight-panel") and not shown(app, "#signal-panel")
        assert str(lab.query_one("#tab-gradients", Tab).label).startswith("Weights")
        await pilot.press("a")
        await pilot.pause()
        assert shown(app, "#gradient-panel") and not shown(app, "#signal-panel")
        assert not shown(app, "#weight-panel")
        assert str(lab.query_one("#tab-gradients", Tab).label).startswith("Gradients")


async def test_both_show_where_there_is_room(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(200, 60)) as pilot:
        scripted.feed(app, scripted.mid_run())
        await pilot.pause()
        assert shown(app, "#gradient-panel") and shown(app, "#signal-panel")
        shown_keys = {key for key, b in app.screen.active_bindings.items() if b.binding.show}
        assert "a" in shown_keys
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert shown(app, "#gradient-panel") and not shown(app, "#signal-panel")
        await pilot.press("a")
        await pilot.pause()
        assert shown(app, "#signal-panel") and not shown(app, "#gradient-panel")
        rows = [line for line in panel_lines(app) if line.startswith("act")]
        assert len(rows) == 3 and all(row.split()[-1] == "healthy" for row in rows)


async def test_a_real_run_feeds_the_signal_view_and_the_model_graph(tmp_path: Path) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        await pilot.press("r")
        await wait_until(pilot, lambda: lab.epoch_table.row_count >= 1)
        await wait_until(pilot, lambda: lab.last_signal is not None and lab.last_signal.epoch >= 1)
        signal = lab.last_signal
        assert signal.layers == ("act1", "act2") and signal.share_kind == "dead"
        assert all(len(history) >= 2 for history in lab.signal_panel.histories)  # start, epoch
        await pilot.press("g")
        await pilot.pause(0.7)
        nodes = str(app.screen.query_one("#graph-nodes", Static).render())
        assert nodes.count("σ ") == 2
        app.controls.stop()
        await app.workers.wait_for_complete()
