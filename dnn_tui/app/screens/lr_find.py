"""LrFindScreen: the learning-rate range test of the form's settings (``l``).

The test (``training.lr_range``) runs in a thread worker on a throwaway model: no run's
weights change, and a run going on in the lab goes on. The screen shows its progress, then
the figure of the smoothed loss against the lr with the suggestion marked; ``enter`` (or
``y``) dismisses it with the suggested lr, which the lab puts in the form's lr field;
``escape`` leaves the form as it was (and stops a test still going).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Label
from textual.worker import Worker, WorkerState, get_current_worker

from dnn_tui.app.widgets.range_chart import RangeChart
from dnn_tui.config import RunConfig, describe
from dnn_tui.fileio import error_line, visible
from dnn_tui.training.lr_range import LrSweep, RangeTest


class RangeTestLeft(Exception):
    """The screen was left before the test ended."""


class LrFindScreen(Screen[float | None]):
    """The range test of ``config``; dismissed with the suggested lr, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,l", "dismiss", "back"),
        Binding("enter,y", "take", "use the suggested lr"),
    ]

    def __init__(self, config: RunConfig, sweep: LrSweep | None = None) -> None:
        super().__init__(id="lr-find")
        self.config = config
        self.sweep = sweep or LrSweep()
        self.test: RangeTest | None = None
        self.done = 0
        """Steps taken so far (the worker writes it, a timer shows it: the test never waits
        on the screen)."""

    def compose(self) -> ComposeResult:
        yield Label(
            Text(f"Learning-rate range test of {visible(describe(self.config))}: loading…"),
            id="lr-find-title",
        )
        yield RangeChart()
        yield Label("", id="lr-find-result")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.progress_timer = self.set_interval(0.25, self.show_progress)
        self.measure()

    @work(thread=True, exclusive=True, exit_on_error=False, group="lr-find")
    def measure(self) -> RangeTest:
        """Load the form's data and run the test, away from the UI thread."""
        from dnn_tui.data import load_data
        from dnn_tui.training.lr_range import range_test

        worker = get_current_worker()
        data = load_data(self.config)

        def progress(done: int, steps: int) -> None:
            if worker.is_cancelled:
                raise RangeTestLeft
            self.done = done

        return range_test(self.config, data, self.sweep, progress)

    def show_progress(self) -> None:
        if self.done == 0 or self.test is not None:
            return
        self.query_one("#lr-find-title", Label).update(
            Text(
                f"Learning-rate range test of {visible(describe(self.config))}: "
                f"step {self.done} of {self.sweep.steps}…"
            )
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "lr-find":
            return
        event.stop()
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            self.progress_timer.stop()
        if event.state == WorkerState.SUCCESS:
            self.show(event.worker.result)
        elif event.state == WorkerState.ERROR and not isinstance(event.worker.error, RangeTestLeft):
            self.query_one("#lr-find-title", Label).update(
                Text(
                    f"Learning-rate range test: {visible(error_line(event.worker.error))}",
                    style="bold red",
                )
            )

    def show(self, test: RangeTest) -> None:
        from dnn_tui.analysis.range_figure import suggestion_line

        self.test = test
        self.query_one("#lr-find-title", Label).update(
            Text(
                f"Learning-rate range test of {visible(describe(self.config))}: "
                f"{len(test.lrs)} steps, lr {test.sweep.min_lr:g} to {test.lrs[-1]:.3g}"
            )
        )
        line = suggestion_line(test)
        if test.suggestion is not None:
            line += "   enter: put it in the form's lr field   escape: back"
        self.query_one("#lr-find-result", Label).update(Text(line))
        self.query_one(RangeChart).show(test)

    def action_take(self) -> None:
        if self.test is not None and self.test.suggestion is not None:
            self.dismiss(self.test.suggestion)
