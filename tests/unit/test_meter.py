"""The epoch meter on its own: hand-made steps on a clock the test turns."""

from __future__ import annotations

import pytest
import torch

from dnn_tui.config import ModelConfig
from dnn_tui.model import build_mlp
from dnn_tui.training.controls import RunControls
from dnn_tui.training.meter import EpochMeter, Stopwatch
from dnn_tui.training.probes import GradientProbe


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_meter(clock: Clock, interval: float = 0.1) -> tuple[EpochMeter, Stopwatch]:
    """Three steps of 2, 2 and 1 samples; labels 0, 1, 0, 1, 0 in the epoch's order."""
    probe = GradientProbe(build_mlp(ModelConfig(hidden=(4,)), 3, 2))  # fc1 and fc2: 4 params
    watch = Stopwatch(clock)
    target = torch.tensor([0, 1, 0, 1, 0])
    logits_seen = torch.empty(5, 2)
    bounds = [(0, 2), (2, 4), (4, 5)]
    return EpochMeter(1, bounds, target, logits_seen, probe, RunControls(), watch, interval), watch


def votes(*labels: int) -> torch.Tensor:
    """Logits that predict these labels."""
    return torch.nn.functional.one_hot(torch.tensor(labels), 2).float()


def test_reports_are_due_after_the_interval_and_at_the_last_step() -> None:
    clock = Clock()
    meter, _ = make_meter(clock)
    meter.add(1, votes(0, 1), [1.0, 2.0, 3.0, 4.0], 0.5, 2.0, 1.0)
    assert meter.pending and not meter.due(1)
    clock.now += 0.25
    assert meter.due(1)
    meter.progress(1, lr=0.01)
    assert not meter.pending and not meter.due(2)
    assert meter.due(3)  # the last step always reports


def test_progress_averages_the_steps_since_the_last_report_and_counts_accuracy() -> None:
    clock = Clock()
    meter, _ = make_meter(clock)
    meter.add(1, votes(0, 1), [1.0, 2.0, 3.0, 4.0], 0.5, 2.0, 1.0)  # both right
    first = meter.progress(1, lr=0.01)
    assert (first.loss, first.recent_loss, first.acc) == (0.5, 0.5, 1.0)
    meter.add(2, votes(0, 0), [3.0, 4.0, 5.0, 6.0], 0.7, 4.0, 0.5)  # one right; clipped by half
    meter.add(3, votes(1), [5.0, 6.0, 7.0, 8.0], 0.9, 6.0, 1.0)  # wrong
    clock.now += 2.0
    second = meter.progress(3, lr=0.02)
    assert second.step == 3 and second.steps_per_epoch == 3
    assert second.loss == pytest.approx((0.5 + 0.7 + 0.9) / 3)
    assert second.recent_loss == pytest.approx(0.8)
    assert second.acc == 3 / 5
    assert second.param_grad_norm == (4.0, 5.0, 6.0, 7.0)
    assert second.grad_norm == (4.0, 6.0)  # the Linear weights: fc1.weight and fc2.weight
    assert second.grad_norm_total == 5.0
    assert second.grad_norm_clipped == pytest.approx((2.0 + 6.0) / 2)
    assert second.clipped_fraction == 1 / 3
    assert second.samples_per_s == pytest.approx(5 / 2.0)
    assert second.lr == 0.02 and second.clipping is False


def test_pauses_are_left_out_of_the_epoch_time_and_the_record() -> None:
    clock = Clock()
    meter, watch = make_meter(clock, interval=0.0)
    for step, logits in enumerate((votes(0, 1), votes(0, 1), votes(0)), 1):
        meter.add(step, logits, [1.0, 1.0, 3.0, 1.0], 0.3, 2.0, 0.25 if step == 2 else 1.0)
        clock.now += 1.0
        if step == 2:
            clock.now += 5.0
            watch.paused += 5.0  # a pause of 5 s, as the run's apply_controls counts it
        meter.progress(step, lr=0.1)
    assert meter.seconds() == pytest.approx(3.0)
    record = meter.record({"loss": 0.4, "acc": 0.6}, 0.1, meter.seconds(), events=[])
    assert record["train_loss"] == pytest.approx(0.3) and record["train_acc"] == 1.0
    assert record["samples_per_s"] == pytest.approx(5 / 3.0)
    assert record["grad_norm"] == [1.0, 3.0] and record["grad_norm_total"] == 2.0
    assert record["clipped_fraction"] == 1 / 3
    assert watch.elapsed() == pytest.approx(3.0)
