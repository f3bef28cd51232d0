"""A failing run is shown, never fatal: the worker's errors end in one handler."""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from textual.worker import WorkerFailed

from dnn_tui.app.app import DnnApp
from dnn_tui.config import DataConfig
from tests.helpers.app import TINY, Notes, wait_until


async def test_dataset_error_is_shown_and_the_app_stays_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    images, labels = tmp_path / "images.idx", tmp_path / "labels.idx"
    images.write_bytes(b"not an IDX file")  # there, so the form lets it start; the loader refuses
    labels.write_bytes(b"\0\0\x08\x01")
    config = replace(TINY, data=DataConfig("idx", idx_images=str(images), idx_labels=str(labels)))
    app = DnnApp(config, run_root=tmp_path / "runs")
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: app.lab.run_status.state == "failed")
        title, message, severity = notes.seen[-1]
        assert (title, severity) == ("Training failed", "error")
        assert str(images) in message and "not an IDX file" in message
        assert "Traceback" not in message
        assert not app.running and app.controls is None
        # the run's folder stays and says why it failed (nothing in it claims to be alive)
        (run,) = (tmp_path / "runs").iterdir()
        history = json.loads((run / "history.json").read_text())
        assert history["status"] == "failed" and history["epochs"] == []
        assert history["error"].startswith("before the first step: ")
        assert "not an IDX file" in history["error"]
        assert not (run / "liveness.json").exists()
        await pilot.press("question_mark")  # still responsive
        assert type(app.screen).__name__ == "HelpScreen"


async def test_unexpected_exception_is_shown_with_its_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dnn_tui.training import engine

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "train", broken)
    app = DnnApp(TINY, run_root=tmp_path)
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        with contextlib.suppress(WorkerFailed):  # Textual re-raises the failure it reports
            await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: app.lab.run_status.state == "failed")
        assert notes.seen[-1][:2] == ("Training failed", "RuntimeError: boom")
        assert app.is_running


async def test_stop_while_the_data_loads_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dnn_tui import data

    release = threading.Event()
    load = data.load_dataset

    def slow_load(*args: object, **kwargs: object) -> object:
        release.wait(10)
        return load(*args, **kwargs)

    monkeypatch.setattr(data, "load_dataset", slow_load)
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test() as pilot:
        await pilot.press("r")
        assert app.lab.run_status.state == "starting"
        await pilot.press("s")
        assert app.lab.run_status.state == "stopping"
        release.set()
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: app.lab.run_status.state == "stopped")
        assert app.controls is None
    assert list(tmp_path.iterdir()) == []
