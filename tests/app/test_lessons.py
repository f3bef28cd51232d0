"""What the lab tells: notices on their own line (never over a panel), the lesson of the
experiment, the step counter of a full-batch run, batch norm's γ and β, Keras' shapes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.widgets import Static
from textual.widgets._toast import Toast

from dnn_tui.app.app import DnnApp
from dnn_tui.app.messages import EngineReported
from dnn_tui.app.screens.model_graph import cancelled_biases, graph_table
from dnn_tui.config import ModelConfig, validate, with_options
from dnn_tui.graph import build_graph
from dnn_tui.presets import load_preset
from dnn_tui.training.events import Notice
from tests.helpers import scripted
from tests.helpers.app import wait_until


def shown_text(app: DnnApp, selector: str) -> str:
    widget = app.lab.query_one(selector, Static)
    return str(widget.render()) if widget.display else ""


async def test_notices_go_to_their_line_and_never_cover_a_panel(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        scripted.feed(app, scripted.with_notice(scripted.mid_run()))
        await pilot.pause()
        notice = shown_text(app, "#run-notice")
        assert notice.startswith("warning: MNIST not found") and "bundled digits" in notice
        app.notify("learning rate 0.01 from the next step", title="Running job")  # any notify
        await pilot.pause()
        assert (
            shown_text(app, "#run-notice")
            == "note: Running job: learning rate 0.01 from the next step"
        )
        assert not app.query(Toast)  # no toast anywhere
        panel = app.lab.gradient_panel.region
        line = app.lab.query_one("#run-notice").region
        assert not line.overlaps(panel)
        app.lab.run_status.clear_notice()
        await pilot.pause()
        assert shown_text(app, "#run-notice") == ""


async def test_in_the_compact_layout_a_notice_takes_the_lessons_line(tmp_path: Path) -> None:
    config = validate(with_options(load_preset("deep-sigmoid"), {"dataset": "digits"}))
    app = DnnApp(config, run_root=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.lab.begin_run(config, scripted.RUN_DIR, 1, scripted.feed(app, []))
        await pilot.pause()
        assert shown_text(app, "#run-lesson").startswith("deep-sigmoid: The vanishing gradient")
        app.lab.on_engine_reported(EngineReported(1, [Notice("offline", "warning")]))
        await pilot.pause()
        assert shown_text(app, "#run-notice") == "warning: offline"
        assert shown_text(app, "#run-lesson") == ""
        app.lab.run_status.clear_notice()
        await pilot.pause()
        assert shown_text(app, "#run-lesson").startswith("deep-sigmoid: The vanishing gradient")


async def test_a_preset_started_at_once_shows_its_lesson(tmp_path: Path) -> None:
    # As `dnn-tui tui --preset full-batch --dataset digits --start` (more epochs than the test
    # waits for, so the run is still going when the status is read).
    options = {"dataset": "digits", "limit": 200, "epochs": 100_000}
    config = validate(with_options(load_preset("full-batch"), options))
    app = DnnApp(config, start=True, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.lab.epoch_table.row_count >= 2)
        app.lab.flush_panels()
        await pilot.pause()
        lesson = shown_text(app, "#run-lesson")
        assert lesson.startswith("full-batch (edited): Full-batch gradient descent")
        status = app.lab.run_status
        # one step an epoch (0/1 when read as an epoch begins on a busy machine)
        assert str(status.query_one("#run-step").render()) in ("step 0/1", "step 1/1")
        speed = str(status.query_one("#run-speed").render())
        assert "ms/step" in speed and "ETA" in speed
        await pilot.press("s")
        await app.workers.wait_for_complete()


async def test_the_status_says_a_full_batch_epoch_is_one_step(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        started = replace(scripted.started(), steps_per_epoch=1)
        scripted.feed(app, [started])
        await pilot.pause()
        speed = str(app.lab.run_status.query_one("#run-speed").render())
        assert "1 steps an epoch (full batch: one step is one epoch)" in speed


async def test_batch_norm_gradients_show_in_the_panel(tmp_path: Path) -> None:
    config = replace(scripted.CONFIG, model=ModelConfig(hidden=(100, 50, 20), batchnorm=True))
    nodes = build_graph(config.model, 64, 10)
    parameters = tuple(p.name for node in nodes for p in node.params)
    app = DnnApp(config, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        started = replace(scripted.started(config), parameters=parameters)
        norms = tuple(0.01 * (i + 1) for i in range(len(parameters)))
        step = replace(scripted.step(1, 3), param_grad_norm=norms)
        scripted.feed(app, [started, step])
        await pilot.pause()
        text = str(app.lab.gradient_panel.render())
        assert "BN |∇γ|" in text and "|∇β|" in text
        gamma = norms[parameters.index("bn1.weight")]
        fc1 = next(line for line in text.splitlines() if line.startswith("fc1"))
        assert f"{gamma:.1e}".replace("e-0", "e-") in fc1
        fc4 = next(line for line in text.splitlines() if line.startswith("fc4"))
        assert fc4.count(" - ") >= 2  # no BatchNorm after the output layer
        assert "cancels the layer's bias" in text


def test_the_graph_marks_the_bias_batch_norm_cancels() -> None:
    nodes = build_graph(ModelConfig(hidden=(8, 4), batchnorm=True), 64, 10)
    assert cancelled_biases(nodes) == {"fc1.bias", "fc2.bias"}  # not fc3's: no BN after it
    norms = {"fc1.weight": 0.3, "fc1.bias": 1.2e-8, "fc3.bias": 0.1}
    lines = graph_table(nodes, norms).plain.splitlines()
    fc1 = next(line for line in lines if "Affine fc1" in line)
    assert "b 1.2e-8 BN" in fc1 and "(b cancelled by BN)" in fc1
    fc3 = next(line for line in lines if "Affine fc3" in line)
    assert "BN" not in fc3
    # Shapes as Keras writes them, the same in the graph and in the summary.
    assert "(None, 64)" in lines[1] and "(None, 8)" in fc1
    assert lines[-1] == "None: the batch dimension (the samples of one step)"
