"""How the dashboard writes and draws numbers: fixed widths, one x axis, a y floor, smoothed pace.

Pure functions and small classes, no app: each test states the rule the screen relies on.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from rich.console import Console
from rich.style import Style

from dnn_tui.app.curves import (
    ACCURACY_SCALE,
    BARS,
    LOSS_SCALE,
    Scale,
    bars,
    levels,
    resample,
    value_range,
)
from dnn_tui.app.pace import Pace
from dnn_tui.app.widgets.curves_caption import caption
from dnn_tui.app.widgets.epoch_summary import NEXT_EPOCHS, EpochSummary, slow_first_epoch
from dnn_tui.app.widgets.run_status import clamp_lines, fit_parts, fit_path
from dnn_tui.app.widgets.sparkline_row import LABEL_W, TITLE_W, SparklineRow
from dnn_tui.training.events import StepMeasured
from dnn_tui.training.numbers import (
    NUMBER_W,
    fmt_acc,
    fmt_fixed,
    fmt_loss,
    fmt_lr,
    fmt_norm,
    fmt_seconds,
    fmt_step_time,
)
from tests.helpers import scripted

MAGNITUDES = [m * 10.0**e for e in range(-12, 13) for m in (1.0, 2.492, 9.99)]


@pytest.mark.parametrize("value", MAGNITUDES)
def test_a_loss_always_fits_its_column_and_keeps_its_value(value: float) -> None:
    text = fmt_loss(value)
    assert len(text) <= NUMBER_W, text
    # Two significant digits at least (one below 1e-9, where an exponent takes three places).
    assert math.isclose(float(text), value, rel_tol=0.05 if value >= 1e-9 else 0.25), text


def test_losses_read_like_the_keras_log() -> None:
    assert fmt_loss(2.3071234) == "2.3071"  # four decimals when they fit
    assert fmt_loss(0.0812) == "0.0812"
    assert fmt_loss(1376.2) == "1376.2"
    assert fmt_loss(2.492e7) == "2.49e7"  # was cut to "2.49" by a fixed-width label
    assert fmt_loss(0.00012) == "1.2e-4"
    assert fmt_loss(None) == "-" and fmt_loss(math.nan) == "nan" and fmt_loss(math.inf) == "inf"
    assert fmt_fixed(12.3456, 7) == "12.3456"


def test_other_numbers_have_bounded_widths() -> None:
    assert max(len(fmt_acc(v / 1000)) for v in range(1001)) == 6  # 100.0%
    assert fmt_norm(1.453e-9) == "1.5e-9" and fmt_norm(150.0) == "1.5e2"
    assert all(len(fmt_norm(v)) <= 7 for v in MAGNITUDES)
    assert fmt_lr(0.001) == "0.001" and fmt_lr(1e-5) == "1e-5" and fmt_lr(3.14159e-5) == "3.14e-5"
    assert all(len(fmt_lr(v)) <= 7 for v in MAGNITUDES if v < 1e3)
    assert [fmt_seconds(s) for s in (0.0043, 0.43, 12.34, 1234.5)] == [
        "0.004",
        "0.43",
        "12.3",
        "1234",
    ]
    assert fmt_step_time(0.0123) == "12 ms/step" and fmt_step_time(0.0076) == "7.6 ms/step"
    assert fmt_step_time(2.5) == "2.5 s/step" and fmt_step_time(None) == "- ms/step"


def test_a_sparkline_label_has_one_width_whatever_the_values() -> None:
    from dnn_tui.app.widgets.sparkline_row import SparklineRow

    row = SparklineRow("train loss", fmt_loss, higher_is_better=False, id="row")
    widths = set()
    for value in (2.39, 2.492e7, 0.00012, 1376.2):
        row.series.append(value, 1.0)
        widths.add(len(row.label_text()))
    assert widths == {LABEL_W}
    assert row.label_text().startswith("train loss".ljust(TITLE_W))
    assert "max 2.49e7" in row.label_text()


def test_curves_share_one_x_axis_and_a_measurement_holds() -> None:
    # Training loss reported at fractions of an epoch, validation at the end of each epoch.
    train = resample([0.25, 0.5, 0.75, 1.0, 1.25], [4.0, 3.0, 2.0, 1.5, 1.2], 1.25, 5)
    val = resample([1.0], [1.8], 1.25, 5)
    assert train == [4.0, 3.0, 2.0, 1.5, 1.2]
    assert val == [None, None, None, 1.8, 1.8]  # nothing before epoch 1 ended, then held
    sparse = resample([0.5], [2.0], 2.0, 4)
    assert sparse == [2.0, 2.0, 2.0, 2.0]
    assert resample([], [], 0.0, 3) == [None, None, None]
    assert resample([1.0], [1.0], 1.0, 0) == []


def test_noise_smaller_than_the_floor_draws_flat() -> None:
    # deep-sigmoid's validation loss: 2.303 to 2.315 looked like a trend on its own range.
    noise = [2.303, 2.315, 2.308, 2.311, 2.304]
    low, high = value_range([noise], LOSS_SCALE)
    heights = levels(noise, LOSS_SCALE, low, high, len(BARS))
    assert max(heights) - min(heights) <= 1  # type: ignore[operator]
    # A real fall is drawn from the bottom to the top.
    fall = [2.3, 1.2, 0.6, 0.3, 0.15]
    low, high = value_range([fall], LOSS_SCALE)
    assert levels(fall, LOSS_SCALE, low, high, 8) == [7, 5, 4, 2, 0]


def test_loss_is_drawn_on_a_log_scale() -> None:
    # exploding-clipped: a first loss of 1376 flattened everything after it on a linear scale.
    losses = [1376.0, 20.0, 6.3, 3.5, 2.7, 2.1]
    low, high = value_range([losses], LOSS_SCALE)
    log_heights = levels(losses, LOSS_SCALE, low, high, 8)
    linear = Scale()
    lin_low, lin_high = value_range([losses], linear)
    linear_heights = levels(losses, linear, lin_low, lin_high, 8)
    assert len(set(linear_heights[1:])) == 1  # flat after the first point
    assert len(set(log_heights[1:])) >= 3  # the rest of the fall still shows
    assert LOSS_SCALE.map(0.0) == math.log10(1e-12)  # a loss of exactly zero stays drawable


def test_accuracy_range_stays_within_0_and_100_percent() -> None:
    low, high = value_range([[0.99, 1.0]], ACCURACY_SCALE)
    assert (round(low, 6), round(high, 6)) == (0.9, 1.0)
    low, high = value_range([[0.0, 0.02]], ACCURACY_SCALE)
    assert (round(low, 6), round(high, 6)) == (0.0, 0.1)
    # A pair shares one range: the gap between train and val is drawn as it is.
    low, high = value_range([[0.5, 0.9], [0.4, 0.7]], ACCURACY_SCALE)
    assert (low, high) == (0.4, 0.9)


def test_bars_stack_over_several_lines() -> None:
    assert bars([0, 7, None], 1) == ["▁█ "]
    assert bars([0, 8, 23], 3) == ["  █", " ▁█", "▁██"]


def steps(epoch: int, rate: float, start: float, count: int = 5) -> list[StepMeasured]:
    """Reports of one epoch of 15 steps of 100 samples at ``rate`` samples/s from ``start`` s."""
    return [
        replace(scripted.step(epoch, n), elapsed=start + n * 100 / rate, samples_per_s=rate)
        for n in (k * scripted.STEPS // count for k in range(1, count + 1))
    ]


def test_the_curves_caption_says_what_fits_and_is_never_cut() -> None:
    assert caption(6.6, 200).endswith("the rest per epoch (? says more)")
    for width in range(22, 120):
        text = caption(123.4, width)
        assert len(text) <= width and text.startswith("x: epochs 0 to 123.4")
    assert (
        caption(2.0, 72) == "x: epochs 0 to 2.0 · log loss · train loss per report, rest per epoch"
    )


def test_pace_is_smoothed_and_forgets_a_slow_start() -> None:
    pace = Pace(epochs=20, train_samples=1500, batch_size=100)
    clock = 0.0
    seen: dict[int, list[float]] = {}
    for epoch in range(1, 21):
        rate = 150.0 if epoch == 1 else 10_000.0  # a first epoch 60 times slower
        for report in steps(epoch, rate, clock):
            pace.observe(report)
            assert pace.samples_per_s is not None
            seen.setdefault(epoch, []).append(pace.samples_per_s)
        clock = report.elapsed + 0.01
        pace.observe_epoch({"epoch": epoch, "seconds": 1500 / rate + 0.01, "samples_per_s": rate})
    assert seen[1] == [150.0] * 5
    # It does not jump to the new speed with the first fast report ...
    assert seen[2][0] < 0.5 * 10_000
    later = [value for epoch in range(2, 21) for value in seen[epoch]]
    assert later == sorted(later)  # ... it climbs, never overshooting ...
    assert seen[5][-1] == pytest.approx(10_000, rel=0.02)  # ... and within a few epochs is there.
    assert pace.seconds_per_step == pytest.approx(0.01, rel=0.01)
    assert pace.overhead_s == pytest.approx(0.01, rel=0.05)


def test_pace_of_long_epochs_follows_within_seconds() -> None:
    # 60,000 samples an epoch at 10k/s: the average spans about SMOOTHING_S seconds.
    pace = Pace(epochs=3, train_samples=60_000, batch_size=100)
    first = replace(scripted.step(1, 10), steps_per_epoch=600, samples_per_s=1_000.0, elapsed=1.0)
    pace.observe(first)
    speeds = []
    for k in range(2, 60):  # a report every 0.1 s at 10k samples/s
        step = replace(first, step=10 * k, elapsed=1.0 + 0.1 * (k - 1))
        pace.observe(step)
        speeds.append(pace.samples_per_s)
    assert 3_000 < speeds[9] < 8_000  # partway after a second
    assert speeds[-1] == pytest.approx(10_000, rel=0.03)  # there after a few


def test_eta_counts_the_samples_and_validations_left() -> None:
    pace = Pace(epochs=10, train_samples=1000, batch_size="full")
    assert pace.eta() is None
    assert pace.seconds_per_step is None
    report = replace(scripted.step(4, 1), steps_per_epoch=1, samples_per_s=2000.0, elapsed=2.0)
    pace.observe(report)
    pace.observe_epoch({"epoch": 1, "seconds": 0.6, "samples_per_s": 2000.0})
    # 6 epochs of 1000 samples at 2000/s, and 7 validations of 0.1 s.
    assert pace.eta() == pytest.approx(6 * 0.5 + 7 * 0.1)
    assert pace.seconds_per_step == pytest.approx(0.5)  # full batch: one step is the epoch


def test_a_slow_first_epoch_is_named_only_when_it_was_slow() -> None:
    records = {
        1: {"seconds": 12.0},
        2: {"seconds": 0.1},
        3: {"seconds": 0.12},
        4: {"seconds": 0.11},
    }
    assert slow_first_epoch(records) == (12.0, 0.11)
    steady = {e: {"seconds": 0.1} for e in range(2, 5)}
    assert slow_first_epoch({1: {"seconds": 0.2}} | steady) is None
    assert slow_first_epoch({1: {"seconds": 9.0}}) is None  # nothing to compare with yet
    # "The next ones" are the NEXT_EPOCHS after the first: a long run's later epochs (slower
    # here) change nothing, and each epoch's end costs the same however long the run.
    later = {e: {"seconds": 0.1 if e <= 1 + NEXT_EPOCHS else 5.0} for e in range(2, 500)}
    assert slow_first_epoch({1: {"seconds": 12.0}} | later) == (12.0, 0.1)


def test_epochs_ending_repaint_the_summary_only_when_its_line_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each repaint is a frame: short epochs end many times a second."""
    summary = EpochSummary()
    repaints = []
    monkeypatch.setattr(summary, "refresh", lambda *a, **k: repaints.append(1))
    records: dict[int, dict] = {}
    for epoch in range(1, 201):
        records[epoch] = {"seconds": 12.0 if epoch == 1 else 0.1 + 0.0001 * epoch}
        summary.end_epoch(records)
    # The slow first epoch's line appears at epoch 2; the median moves a little at each of the
    # next epochs, but the line shows it as 0.10 throughout: one repaint, not 200.
    assert len(repaints) == 1
    assert "epoch 1 took 12.0 s" in summary._second_line().plain
    repaints.clear()
    summary.show_control(201, {"step": 3, "kind": "clipping", "value": True})
    summary.end_epoch(records | {201: {"seconds": 0.1}})
    assert len(repaints) == 2  # the change shown, then joined its row


def test_lines_fit_without_cutting_a_number() -> None:
    parts = [(4, "188k samples/s"), (1, "7.6 ms/step"), (0, "ETA 0:03"), (5, "0:03 elapsed")]
    assert fit_parts(parts, 80) == "188k samples/s · 7.6 ms/step · ETA 0:03 · 0:03 elapsed"
    assert fit_parts(parts, 40) == "188k samples/s · 7.6 ms/step · ETA 0:03"
    assert fit_parts(parts, 25) == "7.6 ms/step · ETA 0:03"
    assert fit_path("digits · cpu · ", "runs/20260101-120000-deep-sigmoid-edited", 40) == (
        "digits · cpu · …0000-deep-sigmoid-edited"
    )
    assert fit_path("a · ", "runs/x", 40) == "a · runs/x"
    text = "one two three four five six seven eight nine ten"
    assert clamp_lines(text, 20, 2) == "one two three four\nfive six seven eigh…"
    assert clamp_lines(text, 80, 2) == text


def console() -> Console:
    return Console(width=200)


def test_a_sparkline_draws_each_cell_in_its_height_colour() -> None:
    """Cells of one colour share a span (fewer spans to draw); each keeps its own colour."""
    row = SparklineRow("val loss", fmt_loss, higher_is_better=False, id="val-loss")
    row.append(0.5, 1.0)
    heights = [None, 0, 0, 1, 7, 7, 3, None, 2, 6, 6, 6, 0]
    row.show(heights)
    text = row.render()
    curve = text.plain[LABEL_W:]
    assert curve == bars(heights, 1)[0]
    for cell, height in enumerate(heights):
        expected = row._style(height, len(BARS))
        want = expected if isinstance(expected, Style) else Style.null()
        assert text.get_style_at_offset(console(), LABEL_W + cell) == want, cell
    assert len(text.spans) < len([h for h in heights if h is not None])
