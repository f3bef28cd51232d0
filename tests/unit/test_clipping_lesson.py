"""exploding-clipped lasts: on digits, clipping turned off late in the run (epoch 15 of its 40,
hundreds of steps in, seconds after the start) still lets the gradients explode, so the
lesson's key (``c``) can be pressed in time."""

from __future__ import annotations

from dnn_tui import config as cfg
from dnn_tui.data import load_data
from dnn_tui.presets import load_preset
from dnn_tui.training.controls import RunControls
from dnn_tui.training.engine import train
from dnn_tui.training.events import EpochEnded, Event
from dnn_tui.training.status import Status

LATE = 15
"""The epoch after which clipping goes off: 225 steps of 100 digits."""


def test_clipping_off_late_in_exploding_clipped_still_diverges() -> None:
    preset = load_preset("exploding-clipped")
    assert preset.train.epochs > LATE
    config = cfg.with_options(preset, {"dataset": "digits", "epochs": LATE + 2})
    controls = RunControls(config.train.clip_norm, config.train.lr)
    clipped: list[float] = []

    def emit(event: Event) -> None:
        if isinstance(event, EpochEnded):
            clipped.append(event.record["clipped_fraction"])
            if event.record["epoch"] == LATE:
                controls.set_clipping(False)

    result = train(config, load_data(config), controls, emit)
    assert clipped[:LATE] == [1.0] * LATE  # every step still clipped: still exploding
    assert result.status == Status.DIVERGED
    assert result.diverged is not None and result.diverged["epoch"] == LATE + 1
