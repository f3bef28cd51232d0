"""RunStatus: what the run is doing now, where, how fast, how long it has left, and its lesson.

Lines: the state with epoch k of N, step s of S and a bar through the current
epoch (a full-batch run counts one step an epoch); samples/s, time per step,
ETA, elapsed time and the epoch's running loss and accuracy, smoothed by ``Pace``
(in a narrow terminal the least needed of them are left out, never cut in half),
led by ``CPU busy: ...`` while the thread policy says other processes starve the run;
the dataset (saying so when ``auto`` fell back to digits), device, the run's CPU use
and memory (and GPU's on CUDA, ``dnn_tui.app.usage``) while it goes on, and run
directory; the lesson (the preset's description); the notice line.

Notices (a dataset fallback, a refused start, a learning rate sent to the running
job ...) are written on the notice line, inside the layout, so that they never
cover a panel; each says its level in words (``note``, ``warning``, ``error``) and
goes after ``NOTICE_S`` seconds (what it reports stays shown elsewhere: the state
line, the dataset line, the form's error lines); a long one takes two lines. In
the compact layout the notice takes the lesson's line while it is shown.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Label, ProgressBar, Static

from dnn_tui.app.pace import Pace
from dnn_tui.app.usage import FREE, GpuMeter, UsageMeter, busy_line, gpu_index, usage_text
from dnn_tui.config import RunConfig
from dnn_tui.fileio import visible
from dnn_tui.training.controls import RunControls
from dnn_tui.training.events import RunFinished, RunStarted, StepMeasured
from dnn_tui.training.numbers import (
    fmt_acc,
    fmt_duration,
    fmt_loss,
    fmt_lr,
    fmt_rate,
    fmt_step_time,
)
from dnn_tui.training.status import Status

STATES: dict[str, str] = {
    "idle": "○ idle",
    "starting": "◌ loading",
    Status.RUNNING: "● running",
    "paused": "‖ paused",
    "stopping": "■ stopping",
    Status.COMPLETED: "✓ finished",
    Status.EARLY_STOPPED: "✓ early-stopped",
    Status.STOPPED: "■ stopped",
    Status.DIVERGED: "✗ diverged",
    Status.PRUNED: "✂ pruned",
    Status.FAILED: "✗ failed",
    Status.INTERRUPTED: "✗ interrupted",
}
"""Run state -> how the status line writes it (each state also styles the line)."""
NOTICE_WORDS = {"information": "note", "warning": "warning", "error": "error"}
"""Notice level -> the word it starts with (readable without colour)."""
NOTICE_S = {"information": 8.0, "warning": 20.0, "error": 30.0}
"""Seconds a notice of each level stays on the notice line."""


def fit_parts(parts: list[tuple[int, str]], width: int, separator: str = " · ") -> str:
    """The parts (priority, text) that fit ``width`` joined in their order, dropping the
    lowest priorities (the largest numbers) first, so that no part is ever cut."""
    kept = list(parts)
    while kept and len(separator.join(text for _, text in kept)) > width:
        kept.remove(max(kept, key=lambda part: part[0]))
    return separator.join(text for _, text in kept)


def fit_path(head: str, path: str, width: int) -> str:
    """``head + path`` in ``width`` columns: the path loses its start first (``…/name``), since
    the run folder's own name is the part that tells runs apart."""
    if len(head) + len(path) <= width:
        return head + path
    room = width - len(head) - 1
    return head + "…" + path[-room:] if room > 8 else (head + path)[: max(width - 1, 0)] + "…"


def clamp_lines(text: str, width: int, lines: int) -> str:
    """text wrapped to ``width`` columns, at most ``lines`` lines, an ellipsis where cut."""
    if width <= 1:
        return ""
    wrapped = textwrap.wrap(" ".join(text.split()), width) or [""]
    if len(wrapped) <= lines:
        return "\n".join(wrapped)
    kept = wrapped[:lines]
    kept[-1] = kept[-1][: width - 1].rstrip() + "…"
    return "\n".join(kept)


class RunStatus(Widget):
    """The state of the current run (``#run-status``)."""

    def __init__(self, run_root: Path, *, id: str = "run-status") -> None:
        super().__init__(id=id, classes="-idle")
        self.state = "idle"
        self._run_root = run_root
        self._epochs = 0
        self._epoch = 0
        self.finished_epoch = 0
        """The last epoch that ended (what an ended run's line shows)."""
        self._steps = 0
        self._early_stopping = False
        self._step: StepMeasured | None = None
        self.pace: Pace | None = None
        """The current run's smoothed speed and ETA (None before it started)."""
        self.lesson = ""
        """The lesson line's full text (the preset's name and description)."""
        self._lesson_lines = 2
        self._where: tuple[str, str] | None = None
        """The dataset line: (dataset and device, run folder)."""
        self.notice: tuple[str, str] | None = None
        """(text, level) on the notice line, or None."""
        self._notice_timer: Timer | None = None
        self.meter: UsageMeter | None = None
        """The run's process (and GPU) as the dataset line shows them; None when not running."""
        self.usage = ""
        """What the dataset line says of them (``CPU 97% · RSS 312 MB``)."""
        self.busy: str | None = None
        """The speed line's first part while other processes starve the run."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="run-line"):
            yield Label(STATES["idle"], id="run-state", classes="-idle")
            yield Label("", id="run-epoch")
            yield Label("", id="run-step")
            yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="epoch-progress")
            yield Label("", id="run-controls")
        yield Label("no run yet: r or ctrl+r starts one with the form's settings", id="run-speed")
        yield Label(f"runs are saved in {self._run_root}{os.sep}", id="run-where")
        yield Static("", id="run-lesson", markup=False)
        yield Static("", id="run-notice", markup=False)

    # --- updates --------------------------------------------------------------------------

    def show_state(self, state: str) -> None:
        """Show a state from STATES (the line's colour follows it)."""
        label = self.query_one("#run-state", Label)
        label.remove_class(f"-{self.state}")
        self.state = state
        self.set_class(state == "idle", "-idle")
        label.update(STATES[state], layout=False)  # a fixed width: no layout pass
        label.add_class(f"-{state}")

    def show_controls(self, controls: RunControls) -> None:
        """The learning rate and clipping as the controls now say."""
        clip = f"clip ON ≤{controls.clip_norm:g}" if controls.clipping else "clip off"
        lr = f"lr {fmt_lr(controls.lr)}" if controls.lr is not None else ""  # a schedule's 1.7e-5
        # A run in another process takes a change at its next step: until it says it did,
        # the change is shown as sent.
        sent = " · sent" if getattr(controls, "pending", False) else ""
        text = (f"{lr} · {clip}" if lr else clip) + sent
        # The line's last label takes the width left: a key's effect needs no layout pass.
        self.query_one("#run-controls", Label).update(text, layout=False)

    def show_starting(self, config: RunConfig | None, run_dir: Path) -> None:
        """A run was launched (config None: one followed that has not said what it runs yet);
        its data is loading."""
        self.stop_measuring()
        self._where = ("", str(run_dir))
        if config is None:
            self.show_state("starting")
            self.query_one("#run-speed", Label).update("waiting for the run to start")
            self._draw_where()
            return
        self._epochs, self._epoch, self._step = config.train.epochs, 0, None
        self.finished_epoch = self._steps = 0
        self._early_stopping = config.train.early_stopping > 0
        self.pace = None
        self._where = (f"{config.data.dataset} · {config.train.device} · ", str(run_dir))
        self.show_state("starting")
        epoch = self.query_one("#run-epoch", Label)
        epoch.styles.width = len(f"epoch {self._epochs}/{self._epochs} ")  # no layout per epoch
        epoch.update(f"epoch 0/{self._epochs}")
        self.query_one("#run-step", Label).update("")
        self.query_one("#epoch-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#run-speed", Label).update("loading the data and building the model")
        self._draw_where()

    def show_started(self, event: RunStarted, run_dir: Path) -> None:
        """The data is loaded and the model built."""
        data = event.dataset
        name = str(data["name"])
        if event.dataset_note:
            name = f"{name} (auto fell back)"
        sizes = f"{data['train']}/{data['val']}/{data['test']}"
        self._where = (f"{name} {sizes} · {event.device} · ", str(run_dir))
        self.pace = Pace(self._epochs, int(data["train"]), event.config.train.batch_size)
        self.show_state(Status.RUNNING)
        self.query_one("#run-epoch", Label).update(f"epoch 1/{self._epochs}")
        steps = self._steps = event.steps_per_epoch
        step = self.query_one("#run-step", Label)
        step.styles.width = len(f"step {steps}/{steps} ")
        step.update(f"step 0/{steps}")
        self.query_one("#epoch-progress", ProgressBar).update(total=steps, progress=0)
        one = " (full batch: one step is one epoch)" if steps == 1 else ""
        self.query_one("#run-speed", Label).update(
            f"{event.total_params:,} parameters · {steps:,} steps an epoch{one}"
        )
        self._draw_where()

    def show_resumed(self, epochs: int) -> None:
        """The run goes on from its checkpoint, now to ``epochs``."""
        self._epochs = epochs
        if self.pace is not None:
            self.pace.epochs = epochs
        self.query_one("#run-epoch", Label).styles.width = len(f"epoch {epochs}/{epochs} ")
        self.show_state(Status.RUNNING)

    def measure(self, pid: int | None, device: str) -> None:
        """Show the run's CPU, memory and (CUDA) GPU use: its process is this one (pid None)
        or pid; a process that cannot be read is not shown."""
        import psutil

        index = gpu_index(device)
        try:
            gpu = GpuMeter.open(index) if index is not None else None
            self.meter = UsageMeter(pid, gpu)
        except (psutil.Error, OSError):
            self.meter = None

    def stop_measuring(self) -> None:
        self.meter, self.usage, self.busy = None, "", None
        self.query_one("#run-speed", Label).remove_class("-busy")

    def show_cpu_notice(self, text: str) -> None:
        """The thread policy's notices: ``CPU busy ...`` stays on the speed line until
        ``CPU free again``."""
        busy = busy_line(text)
        if busy is not None or text.startswith(FREE):
            self.busy = busy
            self.query_one("#run-speed", Label).set_class(busy is not None, "-busy")

    def _read_usage(self) -> None:
        reading = self.meter.read() if self.meter is not None else None
        usage = usage_text(reading) if reading is not None else ""
        if usage != self.usage:
            self.usage = usage
            self._draw_where()

    def show_step(self, event: StepMeasured) -> None:
        """A progress report: its pace counts now, it is drawn at the next flush."""
        if self.pace is not None:
            self.pace.observe(event)
        self._step = event

    def show_epoch(self, record: dict[str, object]) -> None:
        """An epoch ended (its validation time counts in the ETA)."""
        if self.pace is not None:
            self.pace.observe_epoch(record)
        epoch = record.get("epoch")
        if isinstance(epoch, int):
            self.finished_epoch = max(self.finished_epoch, epoch)

    def flush(self) -> None:
        """Draw the latest progress report (the bar, the rate, the running loss, the clock)."""
        self._read_usage()
        event, self._step = self._step, None
        if event is None or event.epoch <= self.finished_epoch:
            # none, or older than an epoch that ended since (a replay, epochs of one step):
            # the line shows the epoch after the last that ended, from its start
            self._show_epoch_begun()
            return
        if event.epoch != self._epoch:
            self._epoch = event.epoch
            self.query_one("#run-epoch", Label).update(
                f"epoch {event.epoch}/{self._epochs}", layout=False
            )
        self.query_one("#run-step", Label).update(
            f"step {event.step}/{event.steps_per_epoch}", layout=False
        )
        self.query_one("#epoch-progress", ProgressBar).update(
            total=event.steps_per_epoch, progress=event.step
        )
        pace = self.pace
        rate = pace.samples_per_s if pace else event.samples_per_s
        per_step = pace.seconds_per_step if pace else None
        eta = pace.eta() if pace else None
        bound = "≤" if self._early_stopping else ""
        parts = [  # (priority: 0 is kept longest, text) in display order
            (4, f"{fmt_rate(rate)} samples/s"),
            (1, fmt_step_time(per_step)),
            (0, f"ETA {bound}{fmt_duration(eta)}"),
            (5, f"{fmt_duration(event.elapsed)} elapsed"),
            (2, f"epoch mean loss {fmt_loss(event.loss)}"),
            (3, f"acc {fmt_acc(event.acc)}"),
        ]
        if self.busy is not None:
            parts.insert(0, (0, self.busy))
        self.query_one("#run-speed", Label).update(
            fit_parts(parts, self.content_region.width),
            layout=False,  # a fixed-size line: no layout pass at every report
        )

    def show_finished(self, event: RunFinished) -> None:
        """The run ended; the line keeps the final numbers."""
        self.flush()
        self.stop_measuring()
        self._draw_where()
        self._show_last_epoch()
        self.show_state(event.status if event.status in STATES else Status.STOPPED)
        test = f"test acc {fmt_acc(event.test['acc'])}" if event.test else "no test split"
        if not event.best_epoch:  # no weights were kept: nothing was tested
            test = "no weights kept, nothing tested"
        best = f"best epoch {event.best_epoch}" if event.best_epoch else "no epoch finished"
        self.query_one("#run-speed", Label).update(
            f"{best} · {test} · {fmt_duration(event.seconds)} in all"
        )

    def show_ended(self, state: str, message: str) -> None:
        """The run ended without a RunFinished (it failed, or stopped before it began): say why."""
        self.stop_measuring()
        self._draw_where()
        self._show_last_epoch()
        self.show_state(state)
        self.query_one("#run-speed", Label).update(message)

    def _show_epoch_begun(self) -> None:
        """A running (or paused) run's line once an epoch ended that its latest report is not
        past: a run paused between two epochs waits at the next one's first step."""
        live = self.state in (Status.RUNNING, "paused")
        if not live or not self._epochs or self._epoch > self.finished_epoch:
            return
        self._epoch = min(self.finished_epoch + 1, self._epochs)
        self.query_one("#run-epoch", Label).update(
            f"epoch {self._epoch}/{self._epochs}", layout=False
        )
        if self._steps:
            self.query_one("#run-step", Label).update(f"step 0/{self._steps}", layout=False)
            self.query_one("#epoch-progress", ProgressBar).update(total=self._steps, progress=0)

    def _show_last_epoch(self) -> None:
        """An ended run's line: its last finished epoch, whole (as the table's last row), not
        the last progress report, which may be older or from an epoch that never ended."""
        if not self._epochs:
            return
        self._epoch = self.finished_epoch
        self.query_one("#run-epoch", Label).update(
            f"epoch {self.finished_epoch}/{self._epochs}", layout=False
        )
        if self._steps:
            done = self._steps if self.finished_epoch else 0
            self.query_one("#run-step", Label).update(f"step {done}/{self._steps}", layout=False)
            self.query_one("#epoch-progress", ProgressBar).update(total=self._steps, progress=done)

    # --- the lesson and the notices -------------------------------------------------------

    def show_lesson(self, name: str | None, description: str) -> None:
        """The lesson line: what the experiment shows (hidden when there is none)."""
        text = visible(" ".join(description.split()))  # a preset file's words: shown, not obeyed
        self.lesson = f"{visible(name)}: {text}" if name and text else text
        self.set_class(not self.lesson, "-no-lesson")
        self._draw_lesson()

    def fit_lesson(self, lines: int) -> None:
        """The layout gives the lesson this many lines."""
        self._lesson_lines = lines
        self._draw_lesson()

    def on_resize(self, _event: events.Resize) -> None:
        self._draw_lesson()
        self._draw_where()
        self._draw_notice()

    def _draw_notice(self) -> None:
        """The notice, its level first, in at most two lines."""
        if self.notice is None:
            return
        text, level = self.notice
        width = self.content_region.width or self.app.size.width - 2
        self.query_one("#run-notice", Static).update(
            clamp_lines(f"{NOTICE_WORDS[level]}: {text}", width, 2)
        )

    def _draw_where(self) -> None:
        """The dataset, device and run folder line, fitted to the width."""
        if self._where is not None:
            head, path = self._where
            head = f"{head}{self.usage} · " if self.usage else head
            width = self.content_region.width or self.app.size.width - 2
            fitted = fit_path(visible(head), visible(path), width)
            self.query_one("#run-where", Label).update(Text(fitted))  # a folder name is no markup

    def _draw_lesson(self) -> None:
        width = self.content_region.width or self.app.size.width - 2
        self.query_one("#run-lesson", Static).update(
            clamp_lines(self.lesson, width, self._lesson_lines)
        )

    def show_notice(self, text: str, level: str = "information") -> None:
        """Put a notice on the notice line for NOTICE_S[level] seconds."""
        level = level if level in NOTICE_WORDS else "information"
        self.notice = (visible(text), level)
        line = self.query_one("#run-notice", Static)
        self._draw_notice()
        for name in NOTICE_WORDS:
            line.set_class(name == level, f"-{name}")
        self.add_class("-noticed")
        if self._notice_timer is not None:
            self._notice_timer.stop()
        self._notice_timer = self.set_timer(NOTICE_S[level], self.clear_notice)

    def clear_notice(self) -> None:
        """Empty the notice line (the compact layout shows the lesson there again)."""
        self.notice = None
        self.query_one("#run-notice", Static).update("")
        self.remove_class("-noticed")
