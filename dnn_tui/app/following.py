"""Following a run of another process through its directory: ``dnn-tui watch``, a background
run started with ``b``, a running run opened from the runs list (whose settings can also go
into the form). A mixin of ``DnnApp``.

A thread worker (``follow_in_background``) reads the run's events as it writes them and posts
them to the lab (``EngineReported`` messages through an ``EventInbox``), exactly as a run of
this process would; the run's keys reach it as requests (``RemoteControls``). A run whose
process goes away without finishing is reported with ``RunLost`` and shown as interrupted.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.worker import get_current_worker

from dnn_tui.app.messages import EventInbox, RunLost, RunOpened, SettingsPicked
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
