"""After a hang-up the process ends once the dashboard's own run has finished, even when
Textual's shutdown never returns (its output thread died writing to the gone terminal)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from dnn_tui.app import hangup


def test_the_process_ends_only_after_its_own_run_has_finished(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exits: list[tuple[float, bool]] = []
    app = SimpleNamespace(running=True, local=True)
    monkeypatch.setattr(
        hangup.os, "_exit", lambda code: exits.append((time.monotonic(), app.running))
    )
    watchdog = threading.Thread(target=hangup.exit_when_done, args=(app, 0.1))
    watchdog.start()
    time.sleep(0.5)
    assert exits == []  # the run goes on: the process waits for it
    finished = time.monotonic()
    app.running = False
    watchdog.join(timeout=5)
    assert len(exits) == 1 and not exits[0][1]
    assert exits[0][0] - finished >= 0.1  # the app's own shutdown had its grace first


def test_a_watching_dashboard_ends_after_the_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    exits: list[int] = []
    monkeypatch.setattr(hangup.os, "_exit", exits.append)
    hangup.exit_when_done(SimpleNamespace(running=True, local=False), 0.05)  # a followed run
    assert exits == [0]
