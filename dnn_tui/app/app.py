"""DnnApp: the dashboard's wiring: screens, key bindings and the run's worker.

A run the dashboard starts itself runs in a thread worker (``train_in_background``): it
calls ``launch.record_run``, which writes the run directory and takes steering requests
from other dashboards, with an ``emit`` that hands each event to the lab screen through an
``EventInbox`` (``EngineReported`` messages, a batch of events each). A run in another
process (``dnn-tui watch``, a background run started with ``b``, a running run opened from
the runs list) is followed through its directory by a thread worker of its own
(``follow_in_background``), which posts the same messages; its keys reach it as requests
(``RemoteControls``). Either way the lab routes the events to its widgets, and keys reach
the run only through ``self.controls``. Worker failures all go through
``on_worker_state_changed``.

torch is imported inside the worker thread only: the dashboard paints before torch has
loaded, and torch never runs in the UI thread (its thread pools would then slow the
training thread down several times).

Notices go to the lab's notice line, never over the panels. Steering keys: ``steering``.
On exit, ``run_app`` leaves a summary of the session's runs in the terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import BindingType
from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

from dnn_tui.app import hangup, keys
from dnn_tui.app.following import Following
from dnn_tui.app.messages import EventInbox
from dnn_tui.app.screens.confirm import ConfirmScreen
from dnn_tui.app.screens.lab import LabScreen
from dnn_tui.app.screens.model_graph import ModelGraphScreen
from dnn_tui.app.steering import Steering
from dnn_tui.app.suite_runner import SuiteRunner
from dnn_tui.app.suites import Suites
from dnn_tui.config import RunConfig
from dnn_tui.fileio import error_line, visible
from dnn_tui.training.controls import RunControls
from dnn_tui.training.status import Status

if TYPE_CHECKING:
    from dnn_tui.app.widgets.run_list import RunListMemory
    from dnn_tui.fileio import Folder

DEFAULT_RUN_ROOT = Path("runs")
"""Where runs started in the dashboard are saved, as for ``dnn-tui train``."""


class DnnApp(Following, Suites, Steering, App[None]):
    """A keyboard-driven deep-learning lab."""

    CSS_PATH = "app.tcss"
    TITLE = "dnn-tui"
    ENABLE_COMMAND_PALETTE = False
    AUTO_FOCUS = None
    BINDINGS: ClassVar[list[BindingType]] = list(keys.bindings(where="app"))
    """ctrl+q, on every screen (``dnn_tui.app.keys``)."""

    def __init__(
        self,
        config: RunConfig | None = None,
        *,
        start: bool = False,
        run_root: Path | None = None,
        watch: Path | None = None,
        sweep: Path | None = None,
    ) -> None:
        super().__init__()
        self._sweep = sweep
        self._config = config or RunConfig()
        self._start = start
        self._watch = watch
        self.run_root = run_root or DEFAULT_RUN_ROOT
        self.controls: RunControls | None = None
        """The shown run's knobs (RemoteControls for a run in another process); None when
        no run goes on."""
        self.detached = False
        """The terminal hung up: the run finishes in this process, unseen (see hangup)."""
        self._worker: Worker[str] | None = None
        self._run_id = 0
        self._lab: LabScreen | None = None
        self.suite: SuiteRunner | None = None
        """The suite going on, if any."""
        self.session_runs: dict[Path, str | None] = {}
        self.runs_memory: RunListMemory | None = None
        """Every run shown in this session, oldest first -> its failure message or None."""

    def get_default_screen(self) -> LabScreen:
        self._lab = LabScreen(self._config, self.run_root)
        return self._lab

    @property
    def lab(self) -> LabScreen:
        assert self._lab is not None, "the lab screen exists once the app runs"
        return self._lab

    @property
    def running(self) -> bool:
        """Whether a run (or the following of one) is still going."""
        return self._worker is not None and not self._worker.is_finished

    @property
    def run_dir_here(self) -> Path | None:
        """The directory of the run this dashboard shows while it goes on (its own run or one
        it follows); None when no run goes on here."""
        return self.lab.run_dir if self.running else None

    @property
    def local(self) -> bool:
        """Whether the shown run trains in this process (not one followed from its files)."""
        from dnn_tui.rundir.follow import RemoteControls

        return self.controls is not None and not isinstance(self.controls, RemoteControls)

    def on_mount(self) -> None:
        hangup.install(self)
        if self._sweep is not None:
            from dnn_tui.app.sweep_watch import SweepWatch

            self.sweep_watch = SweepWatch(self, self._sweep)
            self.call_after_refresh(self.sweep_watch.start)
        elif self._watch is not None:
            self.call_after_refresh(self.watch_run, self._watch)
        elif self._start:
            self.call_after_refresh(self.action_start_run)

    # --- starting runs ---------------------------------------------------------------------

    def _after_asking(self, question: str, then: Callable[[], None]) -> None:
        """Run then, asking first when the dashboard's own run would be stopped by it."""
        if self.running and self.local and not self.lab.run_ended:
            self.push_screen(
                ConfirmScreen(question, about_the_run=True), lambda yes: then() if yes else None
            )
        else:
            then()

    def action_start_run(self) -> None:
        """Start a run in this dashboard with the form's config (asking first when one goes)."""
        config = self.lab.form_config()
        if config is not None:
            self._after_asking(
                "A run is going. Stop it and start a new one?", lambda: self._launch(config)
            )

    def action_start_background(self) -> None:
        """Start the form's run as a process of its own (it outlives the dashboard); watch it."""
        from dnn_tui.rundir.launch import start_background

        config = self.lab.form_config()
        if config is None:
            return
        try:
            run_dir, pid = start_background(config, self.run_root)
        except (OSError, ValueError) as error:
            self.notify(str(error), title="Not started", severity="error")
            return
        self.notify(f"pid {pid}; it goes on when you quit", title="Background run started")
        self.watch_run(run_dir)

    def _launch(self, config: RunConfig, run_dir: Path | None = None) -> bool:
        from dnn_tui.rundir.recorder import ClaimError, claim_new_run_dir, claim_run_dir

        try:  # claimed now: a run started within the same second gets another name
            if run_dir is None:
                folder = claim_new_run_dir(config.preset, self.run_root)
            else:
                folder = claim_run_dir(run_dir)
        except (OSError, ClaimError) as error:
            self.notify(str(error), title="Not started", severity="error")
            return False
        controls = RunControls(config.train.clip_norm, config.train.lr)
        run_id = self._show(config, folder.path, controls)
        self._worker = self.train_in_background(config, controls, folder, run_id)
        return True

    def _show(self, config: RunConfig | None, run_dir: Path, controls: RunControls) -> int:
        """Stop what the lab shows and show a new run instead; returns its run id."""
        if self.controls is not None and self.local:
            self.controls.stop()
        if self._worker is not None:
            self._worker.cancel()  # a follower ends at its next poll; a run's controls stop it
        self._run_id += 1
        self.session_runs[run_dir] = None
        self.controls = controls
        self.lab.begin_run(config, run_dir, self._run_id, controls, followed=not self.local)
        self.refresh_bindings()
        return self._run_id

    @work(thread=True, exclusive=True, exit_on_error=False, group="training")
    def train_in_background(
        self, config: RunConfig, controls: RunControls, folder: Folder, run_id: int
    ) -> str:
        """Load the data and train (in a thread); returns the run's status."""
        from dnn_tui.data import load_data
        from dnn_tui.rundir.launch import record_run

        lab = self.lab
        result = record_run(
            config, folder, lambda: load_data(config), controls, EventInbox(lab, run_id)
        )
        return Status.STOPPED if result is None else result.status

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker failure ends here: a notification, and the app stays usable."""
        if event.worker is not self._worker or not event.worker.is_finished:
            return
        if event.state == WorkerState.ERROR:
            message = error_line(event.worker.error)
            self.notify(message, title="Training failed", severity="error", timeout=15)
            self.lab.show_failure(message)
            if self.lab.run_dir is not None:
                self.session_runs[self.lab.run_dir] = message
        else:
            self.lab.show_worker_done()
        self.controls = None
        self.refresh_bindings()
        if isinstance(self.screen, ConfirmScreen) and self.screen.about_the_run:
            self.screen.dismiss(True)  # what it asked to stop has ended: do what was asked
        if self.suite is not None:  # the suite's next run, or its end
            status = event.worker.result if event.state == WorkerState.SUCCESS else Status.FAILED
            self.suite.run_ended(self.lab.run_dir, str(status))

    # --- other screens and quitting -------------------------------------------------------------

    def action_show_graph(self) -> None:
        self.push_screen(ModelGraphScreen(self.lab))

    def action_show_help(self) -> None:
        from dnn_tui.app.screens.help import HelpScreen  # Markdown: not for the first frame

        self.push_screen(HelpScreen())

    def action_request_quit(self) -> None:
        """Quit; while a run goes on, ask first and say what becomes of it (ctrl+q twice quits)."""
        if (
            not self.running
            or self.controls is None
            or self.lab.run_ended
            or isinstance(self.screen, ConfirmScreen)
        ):
            self.exit()
            return
        question = (
            "Quit? The running job stops after its current step; its files are kept."
            if self.local
            else f"Quit? The run goes on in its own process: dnn-tui watch {self.lab.run_dir}"
        )
        self.push_screen(
            ConfirmScreen(question, about_the_run=True), lambda yes: self.exit() if yes else None
        )

    def notify(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information", **rest: Any
    ) -> None:
        """To the lab's notice line (a toast would cover the gradient panel); a toast where
        another screen hides the line (the runs list ...). Notices repeat folder names,
        presets and errors read from files: their control characters are made visible and
        markup is never interpreted."""
        message, title = visible(message), visible(title)
        if self._lab is None or not self._lab.in_view:
            super().notify(message, title=title, severity=severity, **{**rest, "markup": False})
            return
        self._lab.show_notice(f"{title}: {message}" if title else message, severity)

    def on_unmount(self) -> None:
        """However the app ends (ctrl+q, an error, a test's teardown), stop its own running job
        (unless the terminal hung up): it ends within a step, so no training thread outlives
        the app by more than that. A followed run goes on; its follower stops."""
        if self._worker is not None:
            self._worker.cancel()
        if self.controls is not None and self.local and not self.detached:
            self.controls.stop()


def run_app(
    config: RunConfig,
    start: bool = False,
    run_root: Path | None = None,
    watch: Path | None = None,
    sweep: Path | None = None,
) -> int:
    """Run the dashboard until the user quits, then print the session's runs to the terminal
    (unless it hung up); returns the process exit code."""
    from dnn_tui.app.session_summary import print_session, wait_until
    from dnn_tui.training.report import make_console

    app = DnnApp(config, start=start, run_root=run_root, watch=watch, sweep=sweep)
    app.run()
    if not app.detached:
        wait_until(lambda: not app.running, timeout=5.0)  # its files saved
        print_session(app.session_runs.items(), make_console())
    return app.return_code or 0
