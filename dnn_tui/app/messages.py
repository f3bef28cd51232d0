"""Textual messages of the dashboard: past-tense facts, small and cheap to post.

``EngineReported`` carries one engine event from the training thread into the UI
(``post_message`` is thread-safe). Progress reports coalesce: when the UI falls
behind, Textual's message loop asks the queued report whether the next one may
replace it (``can_replace``), so a backlog of ``StepMeasured`` collapses into the
newest one and the screen never refreshes more often than the engine reports
(about 10 times a second) however slow a frame is.
"""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from dnn_tui.training.events import Event, StepMeasured


class EngineReported(Message, bubble=False):
    """The training engine emitted an event (posted from the training thread)."""

    def __init__(self, event: Event, run_id: int) -> None:
        super().__init__()
        self.event = event
        self.run_id = run_id
        """Which run it belongs to: a stopped run's last events are told apart from the next's."""

    def can_replace(self, message: Message) -> bool:
        """A queued progress report is superseded by the next one of the same run."""
        return (
            isinstance(self.event, StepMeasured)
            and isinstance(message, EngineReported)
            and isinstance(message.event, StepMeasured)
            and message.run_id == self.run_id
        )


class LearningRateEntered(Message):
    """The user submitted a valid learning rate in the form (enter in the lr field)."""

    def __init__(self, lr: float) -> None:
        super().__init__()
        self.lr = lr


class RunOpened(Message):
    """The user asked to open a saved or running run in the lab (from the runs list)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path


class RunLost(Message, bubble=False):
    """The followed run's process is gone without finishing the run (killed, or its machine
    went away): the run is ``interrupted``."""

    def __init__(self, reason: str, run_id: int) -> None:
        super().__init__()
        self.reason = reason
        self.run_id = run_id


class PresetShown(Message):
    """The form's preset picker now names this preset: the fields hold its experiment, or an
    edit of it (``name (edited)``), or no preset (``name`` None)."""

    def __init__(self, name: str | None, description: str) -> None:
        super().__init__()
        self.name = name
        self.description = description
