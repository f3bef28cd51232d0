"""Helpers of the dashboard tests: a tiny real config, waiting on the app, reading widgets,
recording notifications."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from textual.app import App
from textual.message import Message
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Label

from dnn_tui.app.messages import EngineReported
from dnn_tui.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from tests.helpers.waiting import wait_for_async

if TYPE_CHECKING:
    from dnn_tui.app.screens.compare import CompareScreen

TINY = RunConfig(
    model=ModelConfig(hidden=(16, 8), batchnorm=True, dropout=0.1),
    data=DataConfig("digits", limit=300),
    train=TrainConfig(epochs=500, batch_size=10, lr=0.01),
)
"""300 digits in batches of 10: 30 steps an epoch, a few hundredths of a second each; 500 epochs
is far more than any test waits for (the tests stop it)."""


def engine_events(messages: list[Message], kind: type) -> list:
    """The engine's events of this kind among the recorded messages, in order."""
    return [
        event
        for m in messages
        if isinstance(m, EngineReported)
        for event in m.events
        if isinstance(event, kind)
    ]


async def wait_until(
    pilot: Pilot,
    condition: Callable[[], object],
    timeout: float = 20.0,
    what: str | None = None,
    interval: float = 0.05,
) -> None:
    """Let the app run until condition() holds; fail after timeout seconds, naming the wait.

    ``wait_for_async`` with ``pilot.pause`` between looks: the app handles its messages
    (the worker's events among them) while the test waits.
    """
    await wait_for_async(condition, what, timeout, interval, pause=pilot.pause)


def label_text(pilot: Pilot, selector: str) -> str:
    """The text a Label shows."""
    return str(pilot.app.screen.query_one(selector, Label).content)


def shown(app: App, selector: str) -> bool:
    """Displayed, with a non-empty region entirely on the screen."""
    widget = app.screen.query_one(selector, Widget)
    region, (width, height) = widget.region, app.size
    visible = all(node.display for node in widget.ancestors_with_self if isinstance(node, Widget))
    return visible and region.area > 0 and region.right <= width and region.bottom <= height


class Notes:
    """Records the app's notifications (run_test turns the toasts off)."""

    def __init__(self, app: App, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: list[tuple[str, str, str]] = []
        monkeypatch.setattr(app, "notify", self.notify)

    def notify(
        self, message: str, *, title: str = "", severity: str = "information", **_: object
    ) -> None:
        self.seen.append((title, message, severity))


def training_threads() -> list[str]:
    """Names of the threads inside the app's training worker (loading data or training)."""
    names = {t.ident: t.name for t in threading.enumerate()}
    busy = []
    for ident, frame in sys._current_frames().items():
        walker = frame
        while walker is not None:
            if walker.f_code.co_name == "train_in_background":
                busy.append(names.get(ident, str(ident)))
                break
            walker = walker.f_back
    return busy


async def wait_until_threads_end(timeout: float) -> None:
    """The app's training worker has left the engine: no thread is inside it any more
    (awaited after the app has exited, so plain asyncio pauses)."""
    await wait_for_async(lambda: not training_threads(), "the training threads to end", timeout)


FIXTURES = Path(__file__).resolve().parents[1] / "data" / "regularization-mnist"
"""The four runs of the regularization suite on the real MNIST images (tests/data/README.md)."""
PRESETS = ("baseline", "l2", "dropout", "bottleneck")
SUITE = "20250102-103000-suite-regularization"


def make_suite(root: Path) -> list[Path]:
    """The four MNIST runs as ``dnn-tui suite regularization`` lays them out, written in order
    (fixed times: the list shows them in run order, with fixed dates)."""
    paths = []
    for i, preset in enumerate(PRESETS):
        path = root / SUITE / preset
        shutil.copytree(FIXTURES / preset, path)
        stamp = time.mktime((2025, 1, 2, 10, 30 + 3 * i, 0, 0, 0, -1))
        os.utime(path / "history.json", (stamp, stamp))
        paths.append(path)
    return paths


async def open_list(pilot: Pilot, rows: int) -> CompareScreen:
    """Open the runs list with ``v`` and wait until it shows ``rows`` runs."""
    from dnn_tui.app.screens.compare import CompareScreen
    from dnn_tui.app.widgets.run_list import RunList

    await pilot.press("v")
    screen = pilot.app.screen
    assert isinstance(screen, CompareScreen)
    await wait_until(pilot, lambda: screen.query_one(RunList).row_count == rows)
    return screen
