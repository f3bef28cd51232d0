"""The keys that steer the shown run: pause, stop, clipping on/off, its threshold and the
learning rate. A mixin of ``DnnApp``.

Every change goes through ``self.controls``: ``RunControls`` for a run in this process (the
engine reads them once per step), ``RemoteControls`` for one followed through its
directory (the change is sent as a request and shown as sent until the run applies it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.widgets import Input

from dnn_tui.app.messages import LearningRateEntered
from dnn_tui.training.controls import RunControls

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from dnn_tui.app.screens.lab import LabScreen

RUN_ACTIONS = frozenset({"toggle_pause", "stop_run", "toggle_clipping", "scale_clip_norm"})
"""Actions that steer a running job (greyed out in the footer when none runs)."""


class Steering:
    """The steering actions; the app supplies ``controls``, ``lab`` and ``notify``."""

    controls: RunControls | None
    if TYPE_CHECKING:

        @property
        def lab(self) -> LabScreen: ...

        @property
        def focused(self) -> object: ...

        @property
        def screen(self) -> object: ...

        def notify(
            self, message: str, *, title: str = "", severity: SeverityLevel = "information"
        ) -> None: ...

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "scale_clip_norm" and isinstance(self.focused, Input):
            return False  # + and - type themselves there (Textual hides the letter keys itself)
        if action in RUN_ACTIONS and self.controls is None:
            return None
        return True

    def _steer(self, change: Callable[[RunControls], object]) -> None:
        """Change the shown run's knobs and show the new state at once."""
        if self.controls is None:
            return
        try:
            change(self.controls)
        except (ValueError, OSError) as error:  # a threshold out of range, a run dir gone
            self.notify(str(error), title="Not changed", severity="warning")
        self.lab.show_controls()

    def action_toggle_pause(self) -> None:
        self._steer(RunControls.toggle_pause)

    def action_step_run(self) -> None:
        """``n``: one optimizer step of the paused run, which pauses again after it."""
        controls = self.controls
        if controls is None or controls.stop_requested or self.lab.run_ended:
            self.notify(
                "No run to step: start a run, pause it with space, then n takes one step",
                title="One step",
                severity="warning",
            )
        elif not controls.paused:
            self.notify(
                "One step works on a paused run: press space to pause it first",
                title="One step",
                severity="warning",
            )
        else:
            self._steer(RunControls.step)

    def action_stop_run(self) -> None:
        self._steer(RunControls.stop)

    def action_toggle_clipping(self) -> None:
        self._steer(RunControls.toggle_clipping)

    def action_scale_clip_norm(self, factor: float) -> None:
        self._steer(lambda controls: controls.scale_clip_norm(factor))

    # A steering key with no run to steer finds its binding disabled (greyed in the footer);
    # Textual then offers the key to these methods, which say why nothing happened.

    def key_space(self) -> None:
        self._say_no_run()

    def key_s(self) -> None:
        self._say_no_run()

    def key_c(self) -> None:
        self._say_no_run()

    def key_plus(self) -> None:
        self._say_no_run()

    def key_minus(self) -> None:
        self._say_no_run()

    def _say_no_run(self) -> None:
        if self.controls is not None or self.screen is not self.lab:
            return
        why = (
            "the shown run has ended"
            if self.lab.run_dir is not None
            else "no run goes on: r starts one, v opens one"
        )
        self.notify(f"no run to steer: {why}", title="Not steered", severity="warning")

    def on_learning_rate_entered(self, message: LearningRateEntered) -> None:
        """A learning rate confirmed in the form reaches the running job at its next step."""
        if self.controls is not None:
            self._steer(lambda controls: controls.set_lr(message.lr))
            self.notify(f"learning rate {message.lr:g} from the next step", title="Running job")
