"""One epoch's bookkeeping: running sums, accuracy, throttled progress reports, the record.

Runs without any UI. The engine's loop hands the meter each step's numbers after the
optimizer step (``add``); the meter says when a progress report is due (``due``: about every
``engine.REPORT_INTERVAL`` seconds, whatever the step rate), builds it (``progress``), and at
the epoch's end builds the epoch's record (``record``). When an epoch ends early (a stop, a
divergence), ``pending`` says whether steps since the last report still need one.

The per-step numbers (parameter norms, loss, global norms) are summed on the host: they
are there already for the divergence check before the optimizer step. The logits stay on
the device and are counted in one argmax per report, not per step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from dnn_tui.training.controls import RunControls
from dnn_tui.training.events import StepMeasured
from dnn_tui.training.probes import GradientProbe
from dnn_tui.training.status import Status


@dataclass(frozen=True)
class EpochOutcome:
    """How an epoch ended: every step ran, or the run ends inside it."""

    status: Status
    """COMPLETED: every step ran and the epoch is recorded, the run goes on; STOPPED: a stop
    came before a step; DIVERGED: a step's loss or gradient was not finite."""
    steps: int
    """Optimizer steps taken in the epoch (a diverged step's update is not applied)."""
    diverged: dict[str, Any] | None = None
    """Where the step diverged and the settings in force: history.json's ``diverged``."""


class Stopwatch:
    """A run's seconds, pauses left out, on the engine's clock (a benchmark swaps it)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.started = clock()
        self.paused = 0.0
        """Seconds spent paused so far."""

    def elapsed(self) -> float:
        return self.clock() - self.started - self.paused


class _Sums:
    """Running sums of the per-step host numbers (parameter norms, loss, global norms)."""

    __slots__ = ("loss", "params", "post", "steps", "total")

    def __init__(self, size: int) -> None:
        self.params = [0.0] * size
        self.loss = self.total = self.post = 0.0
        self.steps = 0

    def add(self, norms: list[float], loss: float, total: float, post: float) -> None:
        self.params = [a + b for a, b in zip(self.params, norms, strict=True)]
        self.loss += loss
        self.total += total
        self.post += post
        self.steps += 1

    def merge(self, other: _Sums) -> None:
        self.params = [a + b for a, b in zip(self.params, other.params, strict=True)]
        self.loss += other.loss
        self.total += other.total
        self.post += other.post
        self.steps += other.steps

    def mean_params(self) -> list[float]:
        return [v / max(self.steps, 1) for v in self.params]


class EpochMeter:
    """The running numbers of one epoch, from its first step to its record."""

    def __init__(
        self,
        epoch: int,
        bounds: list[tuple[int, int]],
        target: torch.Tensor,
        logits_seen: torch.Tensor,
        probe: GradientProbe,
        controls: RunControls,
        watch: Stopwatch,
        report_interval: float,
    ) -> None:
        self.epoch = epoch
        self.bounds = bounds
        """Each step's (begin, end) in the epoch's order (``engine.batch_bounds``)."""
        self.steps = len(bounds)
        self.target = target
        """The labels in the epoch's order."""
        # Each step's logits are copied into one buffer and accuracy is counted only when a
        # report is due, in one argmax (an argmax per step cost about 1.5% of the step time,
        # keeping each step's logits alive about 1%, this copy about 0.5%).
        self.logits_seen = logits_seen
        """The epoch's logits in the order its samples were seen (a buffer the run reuses)."""
        self.parameters = len(probe.params)
        """How many parameters have their gradient norm measured."""
        self.weight_index = probe.weight_index
        """Positions of the Linear weights among them."""
        self.controls, self.watch = controls, watch
        self.report_interval = report_interval
        """Least seconds between two reports within the epoch (its last step always reports)."""
        self.started = self.reported = watch.clock()
        """The clock at the epoch's start and at the latest report."""
        self.paused_before = watch.paused
        self.correct = self.counted = 0
        """Right predictions among the first ``counted`` samples of the epoch's order."""
        self.recent = _Sums(self.parameters)
        """Sums over the steps since the latest report."""
        self.whole = _Sums(self.parameters)
        """Sums over the epoch's reported steps (the last step is always reported)."""
        self.clipped_steps = 0

    @property
    def pending(self) -> bool:
        """Whether steps since the latest report have not been reported yet."""
        return self.recent.steps > 0

    def seconds(self, at: float | None = None) -> float:
        """Seconds from the epoch's start to ``at`` (now by default), pauses left out."""
        at = self.watch.clock() if at is None else at
        return at - self.started - (self.watch.paused - self.paused_before)

    def add(
        self,
        step: int,
        logits: torch.Tensor,
        norms: list[float],
        loss: float,
        total: float,
        coef: float,
    ) -> None:
        """One finished step: its logits, parameter norms, loss, global norm, clip factor."""
        begin, end = self.bounds[step - 1]
        self.logits_seen[begin:end] = logits.detach()
        post = total
        if coef < 1.0:
            self.clipped_steps += 1
            post = total * coef
        self.recent.add(norms, loss, total, post)

    def due(self, step: int) -> bool:
        """Whether a report is due after this step: the epoch's last, or the interval passed."""
        return step == self.steps or self.watch.clock() - self.reported >= self.report_interval

    def progress(
        self,
        done: int,
        lr: float,
        weights: tuple[tuple[float, ...], tuple[float | None, ...]] = ((), ()),
    ) -> StepMeasured:
        """The report of the steps since the latest one (``done`` steps so far); starts anew.

        ``lr`` is the learning rate in force (the run's: the meter does not follow it);
        ``weights``: each layer's weight norm and update ratio (``WeightProbe.measure``).
        """
        self.reported = self.watch.clock()
        seen = self.bounds[done - 1][1]
        if seen > self.counted:
            predicted = self.logits_seen[self.counted : seen].argmax(1)
            self.correct += int((predicted == self.target[self.counted : seen]).sum())
            self.counted = seen
        recent, whole = self.recent, self.whole
        whole.merge(recent)
        means = recent.mean_params()
        measured = StepMeasured(
            epoch=self.epoch,
            step=done,
            steps_per_epoch=self.steps,
            loss=whole.loss / done,
            acc=self.correct / seen,
            recent_loss=recent.loss / recent.steps,
            grad_norm=tuple(means[i] for i in self.weight_index),
            param_grad_norm=tuple(means),
            grad_norm_total=recent.total / recent.steps,
            grad_norm_clipped=recent.post / recent.steps,
            clipped_fraction=self.clipped_steps / done,
            samples_per_s=seen / max(self.seconds(self.reported), 1e-9),
            clipping=self.controls.clipping,
            clip_norm=self.controls.clip_norm,
            lr=lr,
            elapsed=self.watch.elapsed(),
            weight_norm=weights[0],
            update_ratio=weights[1],
        )
        self.recent = _Sums(self.parameters)
        return measured

    def record(
        self, val: dict[str, float], lr: float, train_seconds: float, events: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The epoch's record, as history.json holds it (the activation figures aside).

        ``train_seconds``: the steps' time, read before validation; ``seconds`` is read now.
        """
        n, whole = len(self.target), self.whole
        means = whole.mean_params()
        return {
            "epoch": self.epoch,
            "train_loss": whole.loss / self.steps,
            "train_acc": self.correct / n,
            "val_loss": val["loss"],
            "val_acc": val["acc"],
            "lr": lr,
            "seconds": self.seconds(),
            "samples_per_s": n / max(train_seconds, 1e-9),
            "grad_norm": [means[i] for i in self.weight_index],
            "grad_norm_total": whole.total / self.steps,
            "clipped_fraction": self.clipped_steps / self.steps,
            "events": events,
        }
