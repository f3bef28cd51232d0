"""RunStatus: what the run is doing now, where, how fast, and how long it has left.

Three lines: the state with epoch k of N and a progress bar through the current
epoch; samples/s, the epoch's running loss and accuracy, elapsed time and ETA;
the dataset (saying so when ``auto`` fell back to digits), device and run directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label, ProgressBar

from dnn_tui.app.formatting import fmt_acc, fmt_duration, fmt_loss, fmt_rate
from dnn_tui.config import RunConfig
from dnn_tui.training.controls import RunControls
from dnn_tui.training.events import RunFinished, RunStarted, StepMeasured

STATES: dict[str, str] = {
    "idle": "○ idle",
    "starting": "◌ loading",
    "running": "● running",
    "paused": "‖ paused",
    "stopping": "■ stopping",
    "completed": "✓ finished",
    "early_stopped": "✓ early-stopped",
    "stopped": "■ stopped",
    "diverged": "✗ diverged",
    "failed": "✗ failed",
    "interrupted": "✗ interrupted",
}
"""Run state -> how the status line writes it (each state also styles the line)."""


class RunStatus(Widget):
    """The state of the current run (``#run-status``)."""

    def __init__(self, run_root: Path, *, id: str = "run-status") -> None:
        super().__init__(id=id, classes="-idle")
        self.state = "idle"
        self._run_root = run_root
        self._epochs = 0
        self._epoch = 0
        self._step: StepMeasured | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="run-line"):
            yield Label(STATES["idle"], id="run-state", classes="-idle")
            yield Label("", id="run-epoch")
            yield ProgressBar(total=1, show_eta=False, id="epoch-progress")
            yield Label("", id="run-controls")
        yield Label("no run yet: r or ctrl+r starts one with the form's settings", id="run-speed")
        yield Label(f"runs are saved in {self._run_root}{os.sep}", id="run-where")

    # --- updates --------------------------------------------------------------------------

    def show_state(self, state: str) -> None:
        """Show a state from STATES (the line's colour follows it)."""
        label = self.query_one("#run-state", Label)
        label.remove_class(f"-{self.state}")
        self.state = state
        self.set_class(state == "idle", "-idle")
        label.update(STATES[state])
        label.add_class(f"-{state}")

    def show_controls(self, controls: RunControls) -> None:
        """The learning rate and clipping as the controls now say."""
        clip = f"clip ON ≤{controls.clip_norm:g}" if controls.clipping else "clip off"
        lr = f"lr {controls.lr:g}" if controls.lr is not None else ""
        # A run in another process takes a change at its next step: until it says it did,
        # the change is shown as sent.
        sent = " · sent" if getattr(controls, "pending", False) else ""
        self.query_one("#run-controls", Label).update((f"{lr} · {clip}" if lr else clip) + sent)

    def show_starting(self, config: RunConfig | None, run_dir: Path) -> None:
        """A run was launched (config None: one followed that has not said what it runs yet);
        its data is loading."""
        if config is None:
            self.show_state("starting")
            self.query_one("#run-speed", Label).update("waiting for the run to start")
            self.query_one("#run-where", Label).update(str(run_dir))
            return
        self._epochs, self._epoch, self._step = config.train.epochs, 0, None
        where = f"{config.data.dataset} · {config.train.device} · {run_dir}"
        self.show_state("starting")
        epoch = self.query_one("#run-epoch", Label)
        epoch.styles.width = len(f"epoch {self._epochs}/{self._epochs}")  # then no layout per epoch
        epoch.update(f"epoch 0/{self._epochs}")
        self.query_one("#epoch-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#run-speed", Label).update("loading the data and building the model")
        self.query_one("#run-where", Label).update(where)

    def show_started(self, event: RunStarted, run_dir: Path) -> None:
        """The data is loaded and the model built."""
        data = event.dataset
        name = str(data["name"])
        if event.dataset_note:
            name = f"{name} (auto fell back)"
        where = f"{name} {data['train']}/{data['val']}/{data['test']} · {event.device} · {run_dir}"
        self.show_state("running")
        self.query_one("#run-epoch", Label).update(f"epoch 1/{self._epochs}")
        self.query_one("#epoch-progress", ProgressBar).update(
            total=event.steps_per_epoch, progress=0
        )
        self.query_one("#run-speed", Label).update(f"{event.total_params:,} parameters")
        self.query_one("#run-where", Label).update(where)

    def show_step(self, event: StepMeasured) -> None:
        """A progress report: drawn at the next flush."""
        self._step = event

    def flush(self) -> None:
        """Draw the latest progress report (the bar, the rate, the running loss, the clock)."""
        event, self._step = self._step, None
        if event is None:
            return
        if event.epoch != self._epoch:
            self._epoch = event.epoch
            self.query_one("#run-epoch", Label).update(
                f"epoch {event.epoch}/{self._epochs}", layout=False
            )
        self.query_one("#epoch-progress", ProgressBar).update(
            total=event.steps_per_epoch, progress=event.step
        )
        done = (event.epoch - 1 + event.step / event.steps_per_epoch) / max(self._epochs, 1)
        eta = event.elapsed * (1 - done) / done if done > 0 else None
        self.query_one("#run-speed", Label).update(
            f"{fmt_rate(event.samples_per_s)} samples/s · loss {fmt_loss(event.loss)}"
            f" · acc {fmt_acc(event.acc)} · {fmt_duration(event.elapsed)} elapsed"
            f" · ETA {fmt_duration(eta)}",
            layout=False,  # a fixed-size line: no layout pass at 10 Hz
        )

    def show_finished(self, event: RunFinished) -> None:
        """The run ended; the line keeps the final numbers."""
        self.flush()
        self.show_state(event.status if event.status in STATES else "stopped")
        test = f"test acc {fmt_acc(event.test['acc'])}" if event.test else "no test split"
        best = f"best epoch {event.best_epoch}" if event.best_epoch else "no epoch finished"
        self.query_one("#run-speed", Label).update(
            f"{best} · {test} · {fmt_duration(event.seconds)} in all"
        )

    def show_ended(self, state: str, message: str) -> None:
        """The run ended without a RunFinished (it failed, or stopped before it began): say why."""
        self.show_state(state)
        self.query_one("#run-speed", Label).update(message)
