"""DnnApp: the dashboard's wiring: screens, key bindings and the training worker.

Data flow: ``train_in_background`` (a thread worker) loads the data and calls
``engine.train`` with an ``emit`` that writes the run directory (``RunRecorder``)
and posts each event to the lab screen as an ``EngineReported`` message; the lab
routes it to its widgets. Keys reach the running job only through its
``RunControls``, which the engine reads once per step. Worker failures all go
through ``on_worker_state_changed``.

torch is imported inside the worker thread only: the dashboard paints before
torch has loaded, and torch never runs in the UI thread (its thread pools would
then slow the training thread down several times).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker, WorkerState

from dnn_tui.app.messages import EngineReported, LearningRateEntered
from dnn_tui.app.screens.compare import CompareScreen
from dnn_tui.app.screens.confirm import ConfirmScreen
from dnn_tui.app.screens.help import HelpScreen
from dnn_tui.app.screens.lab import LabScreen
from dnn_tui.app.screens.model_graph import ModelGraphScreen
from dnn_tui.config import ConfigError, RunConfig
from dnn_tui.training.controls import RunControls

RUN_ACTIONS = frozenset({"toggle_pause", "stop_run", "toggle_clipping", "scale_clip_norm"})
"""Actions that steer a running job (greyed out in the footer when none runs)."""
DEFAULT_RUN_ROOT = Path("runs")
"""Where runs started in the dashboard are saved, as for ``dnn-tui train``."""


class DnnApp(App[None]):
    """A keyboard-driven deep-learning lab."""

    CSS_PATH = "app.tcss"
    TITLE = "dnn-tui"
    ENABLE_COMMAND_PALETTE = False
    AUTO_FOCUS = None
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "quit", priority=True),
    ]

    def __init__(
        self, config: RunConfig | None = None, *, start: bool = False, run_root: Path | None = None
    ) -> None:
        super().__init__()
        self._config = config or RunConfig()
        self._start = start
        self.run_root = run_root or DEFAULT_RUN_ROOT
        self.controls: RunControls | None = None
        """The running job's knobs; None when no run goes on."""
        self._worker: Worker[str] | None = None
        self._run_dir: Path | None = None
        self._run_id = 0
        self._lab: LabScreen | None = None

    def get_default_screen(self) -> LabScreen:
        self._lab = LabScreen(self._config, self.run_root)
        return self._lab

    @property
    def lab(self) -> LabScreen:
        assert self._lab is not None, "the lab screen exists once the app runs"
        return self._lab

    @property
    def running(self) -> bool:
        """Whether a training worker is still going."""
        return self._worker is not None and not self._worker.is_finished

    def on_mount(self) -> None:
        if self._start:
            self.call_after_refresh(self.action_start_run)

    # --- starting and the worker --------------------------------------------------------------

    def action_start_run(self) -> None:
        """Start a run with the form's config (asking first when one is going)."""
        try:
            config = self.lab.config_form.validated_config()
        except ConfigError as error:
            self.notify(str(error), title="Not started: invalid setting", severity="error")
            self.lab.show_invalid_form()
            return
        if self.running:
            self.push_screen(
                ConfirmScreen("A run is going. Stop it and start a new one?"),
                lambda yes: self._launch(config) if yes else None,
            )
        else:
            self._launch(config)

    def _launch(self, config: RunConfig) -> None:
        from dnn_tui.runs import default_run_dir

        # Created now, so that a run started within the same second gets another name.
        run_dir = default_run_dir(config.preset, self.run_root)
        try:
            run_dir.mkdir(parents=True)
        except OSError as error:
            self.notify(f"{run_dir}: {error.strerror}", title="Not started", severity="error")
            return
        if self.controls is not None:
            self.controls.stop()
        self._run_id += 1
        self._run_dir = run_dir
        self.controls = RunControls(config.train.clip_norm, config.train.lr)
        self.lab.begin_run(config, run_dir, self._run_id, self.controls)
        self._worker = self.train_in_background(config, self.controls, run_dir, self._run_id)
        self.refresh_bindings()

    @work(thread=True, exclusive=True, exit_on_error=False, group="training")
    def train_in_background(
        self, config: RunConfig, controls: RunControls, run_dir: Path, run_id: int
    ) -> str:
        """Load the data and train (in a thread); returns the run's status."""
        from dnn_tui.data import load_dataset
        from dnn_tui.recorder import RunRecorder
        from dnn_tui.training.engine import train
        from dnn_tui.training.events import Event, fan_out

        lab = self.lab

        def post(event: Event) -> None:
            lab.post_message(EngineReported(event, run_id))

        data = load_dataset(config.data, config.train.seed)
        if controls.stop_requested:  # stopped (or quit) while the data loaded: nothing to keep
            run_dir.rmdir()
            return "stopped"
        return train(config, data, controls, fan_out(RunRecorder(run_dir), post)).status

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker failure ends here: a notification, and the app stays usable."""
        if event.worker is not self._worker or not event.worker.is_finished:
            return
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            ours = type(error).__module__.startswith("dnn_tui")
            message = str(error) if ours else f"{type(error).__name__}: {error}"
            self.notify(message, title="Training failed", severity="error", timeout=15)
            self.lab.show_failure(message)
            if self._run_dir is not None:
                with contextlib.suppress(OSError):
                    self._run_dir.rmdir()  # only when the run left nothing in it
        else:
            self.lab.show_worker_done()
        self.controls = None
        self.refresh_bindings()

    # --- steering the running job ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in RUN_ACTIONS and self.controls is None:
            return None
        return True

    def action_toggle_pause(self) -> None:
        if self.controls is not None:
            self.controls.toggle_pause()
            self.lab.show_controls()

    def action_stop_run(self) -> None:
        if self.controls is not None:
            self.controls.stop()
            self.lab.show_controls()

    def action_toggle_clipping(self) -> None:
        if self.controls is not None:
            self.controls.toggle_clipping()
            self.lab.show_controls()

    def action_scale_clip_norm(self, factor: float) -> None:
        if self.controls is not None:
            try:
                self.controls.scale_clip_norm(factor)
            except ValueError as error:  # doubled to infinity or halved to zero
                self.notify(str(error), title="Clipping threshold", severity="warning")
            self.lab.show_controls()

    def on_learning_rate_entered(self, message: LearningRateEntered) -> None:
        """A learning rate confirmed in the form reaches the running job at its next step."""
        if self.controls is not None:
            self.controls.set_lr(message.lr)
            self.lab.show_controls()
            self.notify(f"learning rate {message.lr:g} from the next step", title="Running job")

    # --- other screens and quitting -------------------------------------------------------------

    def action_show_graph(self) -> None:
        self.push_screen(ModelGraphScreen(self.lab))

    def action_show_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_compare_runs(self) -> None:
        self.push_screen(CompareScreen(self.run_root))

    def on_unmount(self) -> None:
        """However the app ends (ctrl+q, an error, a test's teardown), stop the running job: it
        ends within a step, so no training thread outlives the app by more than that."""
        if self.controls is not None:
            self.controls.stop()


def run_app(config: RunConfig, start: bool = False, run_root: Path | None = None) -> int:
    """Run the dashboard until the user quits; returns the process exit code."""
    app = DnnApp(config, start=start, run_root=run_root)
    app.run()
    return app.return_code or 0
