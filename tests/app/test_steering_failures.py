"""A watcher's key whose request cannot be written says so, and the run shows what it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dnn_tui.app.app import DnnApp
from dnn_tui.config import RunConfig, dumps
from dnn_tui.rundir.files import CONFIG_FILE, EVENTS_FILE, LIVENESS_FILE
from dnn_tui.rundir.liveness import current
from dnn_tui.rundir.recorder import log_line
from tests.helpers.app import wait_until
from tests.helpers.run_files import CONFIG, started


def followed_run(path: Path) -> Path:
    """A run that looks alive (this process's liveness) and has no control.jsonl to write."""
    path.mkdir()
    (path / CONFIG_FILE).write_text(dumps(CONFIG))
    (path / LIVENESS_FILE).write_text(current().to_json())
    (path / EVENTS_FILE).write_bytes(log_line(started()))
    return path


async def test_a_key_whose_request_fails_says_why_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = followed_run(tmp_path / "run")
    app = DnnApp(RunConfig(), run_root=tmp_path, watch=run_dir)
    seen: list[tuple[str, str]] = []
    original = app.notify

    def notify(message: str, *, title: str = "", **options: object) -> None:
        seen.append((title, message))
        original(message, title=title, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(app, "notify", notify)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        await wait_until(pilot, lambda: lab.run_started is not None and app.controls is not None)
        await pilot.press("space")
        await pilot.pause(0.2)
        (title, message), *_ = [note for note in seen if "not sent" in note[1]]
        assert title == "Not changed"
        assert "control.jsonl: pause not sent to the run: No such file" in message
        assert not app.controls.paused
        assert lab.run_status.state != "paused"
        (run_dir / LIVENESS_FILE).unlink()  # the follow ends: its process is "gone"
        await app.workers.wait_for_complete()
    assert json.loads((run_dir / EVENTS_FILE).read_text())["event"] == "RunStarted"
