"""How fast a run goes and how long it has left, smoothed so that the numbers hold still.

Runs without any UI. The training speed is an exponential moving average of the
speed between consecutive progress reports, weighted by what each report covers:
a report forgets the average by its share of ``SMOOTHING_S`` seconds plus its
share of one epoch's samples, so the average spans about the last two seconds or
the last epoch, whichever is shorter (tqdm smooths its rate the same way; a slow
start is forgotten within a few seconds on large epochs and a few epochs on small
ones). Time spent outside the training steps (validation after each epoch) is
averaged over the finished epochs. The ETA is the training samples left divided
by the smoothed speed, plus the validations left times their average time.
"""

from __future__ import annotations

import math
from typing import Any

from dnn_tui.training.events import StepMeasured

SMOOTHING_S = 2.0
"""Time constant of the speed's moving average: a report this many seconds old weighs 1/e
(or one an epoch's samples old, if that comes first)."""
EPOCH_SMOOTHING = 0.5
"""Weight of the newest epoch in the average time spent outside the training steps."""


class Pace:
    """Smoothed samples/s, seconds per step and ETA of one run, fed its progress reports."""

    def __init__(self, epochs: int, train_samples: int, batch_size: int | str) -> None:
        self.epochs = epochs
        self.train_samples = train_samples
        self.batch = train_samples if batch_size == "full" else min(int(batch_size), train_samples)
        self.samples_per_s: float | None = None
        """The smoothed training speed; None before the first report."""
        self.overhead_s = 0.0
        """Average seconds per epoch outside the training steps (validation)."""
        self._last: StepMeasured | None = None
        self._epoch: int = 0
        self._step: int = 0

    def seen(self, step: int) -> int:
        """Training samples done after ``step`` steps of an epoch."""
        return min(step * self.batch, self.train_samples)

    def observe(self, event: StepMeasured) -> None:
        """A progress report arrived (some may be skipped: consecutive ones are compared)."""
        last = self._last
        if last is not None and last.epoch == event.epoch and event.step > last.step:
            seconds = event.elapsed - last.elapsed
            samples = self.seen(event.step) - self.seen(last.step)
            rate = samples / seconds if seconds > 0 else None
        else:  # the first report of an epoch: the engine's rate since the epoch began
            seconds = event.elapsed - (last.elapsed if last is not None else 0.0)
            samples = self.seen(event.step)
            rate = event.samples_per_s
        if rate is not None and math.isfinite(rate) and rate > 0:
            if self.samples_per_s is None:
                self.samples_per_s = rate
            else:
                span = max(seconds, 0.0) / SMOOTHING_S + samples / self.train_samples
                self.samples_per_s += (1 - math.exp(-span)) * (rate - self.samples_per_s)
        self._last, self._epoch, self._step = event, event.epoch, event.step

    def observe_epoch(self, record: dict[str, Any]) -> None:
        """An epoch ended: average its time outside the training steps."""
        seconds, rate = record.get("seconds"), record.get("samples_per_s")
        if not (seconds and rate) or not math.isfinite(seconds) or not math.isfinite(rate):
            return
        overhead = max(seconds - self.train_samples / rate, 0.0)
        first = record.get("epoch") == 1
        self.overhead_s = (
            overhead
            if first
            else (self.overhead_s + EPOCH_SMOOTHING * (overhead - self.overhead_s))
        )

    @property
    def seconds_per_step(self) -> float | None:
        """The smoothed time of one (full) step."""
        return self.batch / self.samples_per_s if self.samples_per_s else None

    def eta(self) -> float | None:
        """Seconds until the last epoch ends at the smoothed pace; None before any report."""
        if not self.samples_per_s or self._last is None:
            return None
        samples_left = (self.epochs - self._epoch) * self.train_samples + (
            self.train_samples - self.seen(self._step)
        )
        validations_left = self.epochs - self._epoch + 1
        return samples_left / self.samples_per_s + validations_left * self.overhead_s
