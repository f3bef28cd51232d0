"""Helpers of the dashboard tests: a tiny real config, waiting on the app, reading widgets."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Label

from dnn_tui.config import DataConfig, ModelConfig, RunConfig, TrainConfig

TINY = RunConfig(
    model=ModelConfig(hidden=(16, 8), batchnorm=True, dropout=0.1),
    data=DataConfig("digits", limit=300),
    train=TrainConfig(epochs=500, batch_size=10, lr=0.01),
)
"""300 digits in batches of 10: 30 steps an epoch, a few hundredths of a second each; 500 epochs
is far more than any test waits for (the tests stop it)."""


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app run until condition() holds; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {condition}")
        await pilot.pause(0.05)


def label_text(pilot: Pilot, selector: str) -> str:
    """The text a Label shows."""
    return str(pilot.app.screen.query_one(selector, Label).content)


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
