"""The status line during a run: the run's own CPU use and memory, and "CPU busy" from the
thread policy until it clears."""

from __future__ import annotations

from pathlib import Path

from dnn_tui.app.app import DnnApp
from dnn_tui.app.messages import EngineReported
from dnn_tui.training.events import Notice
from dnn_tui.training.threads import Load, _moved
from tests.helpers import scripted
from tests.helpers.app import TINY, label_text, wait_until, wait_until_threads_end


async def test_the_status_line_shows_the_runs_cpu_memory_and_starvation(tmp_path: Path) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        await pilot.press("r")
        await wait_until(pilot, lambda: "RSS" in label_text(pilot, "#run-where"), what="usage")
        where = label_text(pilot, "#run-where")
        assert "· CPU " in where and "% · RSS " in where
        assert " MB" in where or " GB" in where  # a test worker grows past a gigabyte
        assert where.endswith(lab.run_dir.name)  # the run folder's name stays whole
        assert "GPU" not in where  # a CPU run

        busy = _moved(Load(cores=2, others=1.0, own=1.0), 1).text
        lab.on_engine_reported(EngineReported(lab.run_id, [Notice(busy, "warning")]))
        expected = "CPU busy: others hold 1 of 2 cores; 1 thread"
        await wait_until(pilot, lambda: label_text(pilot, "#run-speed").startswith(expected))
        assert lab.query_one("#run-speed").has_class("-busy")
        free = _moved(Load(cores=2, others=0.0, own=1.0), 2).text
        lab.on_engine_reported(EngineReported(lab.run_id, [Notice(free)]))
        await wait_until(pilot, lambda: "CPU busy" not in label_text(pilot, "#run-speed"))
        await pilot.press("s")
        await wait_until(pilot, lambda: lab.run_status.state == "stopped")
        assert "RSS" not in label_text(pilot, "#run-where")  # an ended run uses nothing
    await wait_until_threads_end(5.0)


async def test_a_replayed_run_shows_no_usage(tmp_path: Path) -> None:
    # Events shown with no run going on (pictures, tests) read no machine: snapshots stay put.
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        scripted.feed(app, scripted.mid_run())
        await pilot.pause(1.2)
        assert app.lab.run_status.meter is None
        assert "RSS" not in label_text(pilot, "#run-where")
