"""Following a run of another process through its directory: ``dnn-tui watch``, a background
run started with ``b``, a running run opened from the runs list (whose settings can also go
into the form). A mixin of ``DnnApp``.

A thread worker (``follow_in_background``) reads the run's events as it writes them and posts
them to the lab (``EngineReported`` messages through an ``EventInbox``), exactly as a run of
this process would; the run's keys reach it as requests (``RemoteControls``). A run whose
process goes away without finishing is reported with ``RunLost`` and shown as interrupted.

An ended run is continued from its checkpoint (``o``, in the lab or the runs list) as a process
of its own (``launch.continue_in_background``, in a thread: it reads the checkpoint's tensors),
asking first for the epochs in all (``ContinueScreen``); the lab then follows it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.worker import get_current_worker

from dnn_tui.app.messages import (
    EventInbox,
    RunContinueAsked,
    RunLost,
    RunOpened,
    SettingsPicked,
)
from dnn_tui.training.events import fan_out
from dnn_tui.training.status import Status

if TYPE_CHECKING:
    from dnn_tui.rundir.follow import RemoteControls


class Following:
    """The following of runs; the app supplies ``lab``, ``_show``, ``_after_asking`` and
    ``_worker``."""

    def watch_run(self, run_dir: Path) -> None:
        """Show a run through its directory: what it did so far, then live."""
        self._after_asking(
            "A run is going in this dashboard. Stop it and open the other run?",
            lambda: self._follow(Path(run_dir)),
        )

    def action_compare_runs(self) -> None:
        """v: the runs list, as the previous one was left (selection, filter, cursor)."""
        from dnn_tui.app.screens.compare import CompareScreen  # not for the first frame
        from dnn_tui.app.widgets.run_list import RunListMemory

        if self.runs_memory is None:
            self.runs_memory = RunListMemory()
        self.push_screen(CompareScreen(self.run_root, memory=self.runs_memory))

    def on_run_opened(self, message: RunOpened) -> None:
        """A run chosen in the runs list: the lab comes forward and shows it, live while its
        process runs, its history when it has ended."""
        while len(self.screen_stack) > 1 and self.screen is not self.lab:
            self.pop_screen()
        self.watch_run(message.path)

    def action_continue_run(self) -> None:
        """o: continue the lab's run once it has ended."""
        run_dir = self.lab.run_dir
        if run_dir is None:
            self.notify("no run shown: open one (v) or start one (r)", title="Nothing to continue")
        elif self.running and not self.lab.run_ended:
            self.notify("the shown run has not ended", title="Not continued", severity="warning")
        else:
            self.ask_epochs(run_dir)

    def on_run_continue_asked(self, message: RunContinueAsked) -> None:
        """o in the runs list: the lab comes forward and asks the epochs."""
        if self.running and not self.lab.run_ended and self.lab.run_dir == message.path:
            self.notify("that run has not ended", title="Not continued", severity="warning")
            return
        while len(self.screen_stack) > 1 and self.screen is not self.lab:
            self.pop_screen()
        self.ask_epochs(message.path)

    def ask_epochs(self, run_dir: Path) -> None:
        """Ask how far the run goes on (its checkpoint read, not its tensors), then continue."""
        from dnn_tui.app.screens.continuation import ContinueScreen
        from dnn_tui.rundir.files import CONFIG_FILE, RunError, load_config, read_checkpoint_meta
        from dnn_tui.training.checkpoint import identity

        try:
            config = load_config(run_dir / CONFIG_FILE)
            epoch = read_checkpoint_meta(run_dir, identity(config))["epoch"]
        except RunError as error:
            self.notify(str(error), title="Not continued", severity="error")
            return

        def chosen(epochs: int | None) -> None:
            if epochs is not None:
                self.resume_in_background(run_dir, epochs)

        screen = ContinueScreen(config.preset or run_dir.name, epoch, config.train.epochs)
        self.push_screen(screen, chosen)

    @work(thread=True, exit_on_error=False, group="continue")
    def resume_in_background(self, run_dir: Path, epochs: int) -> None:
        """Claim, cut and continue the run as a process of its own; then follow it."""
        from dnn_tui.config import ConfigError
        from dnn_tui.rundir.launch import continue_in_background
        from dnn_tui.rundir.resumption import ResumeRefused

        try:
            pid = continue_in_background(run_dir, epochs)
        except (ResumeRefused, ConfigError, OSError) as error:
            self.call_from_thread(self.notify, str(error), title="Not continued", severity="error")
            return
        self.call_from_thread(self._continued, run_dir, pid)

    def _continued(self, run_dir: Path, pid: int) -> None:
        self.notify(f"pid {pid}; it goes on when you quit", title="Run continued")
        self.watch_run(run_dir)

    def on_settings_picked(self, message: SettingsPicked) -> None:
        """A saved run's settings go into the form, to run them again or change them first."""
        self.lab.config_form.load(message.config)
        self.notify(
            f"{message.name}'s settings are in the form: r starts the run", title="Config loaded"
        )

    def _follow(self, run_dir: Path) -> None:
        from dnn_tui.rundir.follow import RemoteControls

        controls = RemoteControls.of(run_dir)
        if controls.config is not None:  # the form shows the run's settings, as for its own
            self.lab.config_form.load(controls.config)
        run_id = self._show(controls.config, run_dir, controls)
        self._worker = self.follow_in_background(run_dir, controls, run_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="training")
    def follow_in_background(self, run_dir: Path, controls: RemoteControls, run_id: int) -> str:
        """Post the run's events as it writes them, until it ends; returns its status."""
        from dnn_tui.rundir.follow import RunFollower, RunGone
        from dnn_tui.training.heap import frozen_heap

        lab, worker = self.lab, get_current_worker()
        post = fan_out(controls.observe, EventInbox(lab, run_id))
        try:
            # As for a run of this process: full collections walk only what came since (a
            # watcher takes its CPU from the run it watches).
            with frozen_heap():
                finished = RunFollower(run_dir).follow(
                    post, lambda: worker.is_cancelled, controls=controls
                )
        except RunGone as gone:
            lab.post_message(RunLost(str(gone), run_id))
            return Status.INTERRUPTED
        return finished.status if finished is not None else "left"
