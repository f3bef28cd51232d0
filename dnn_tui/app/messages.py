"""Textual messages of the dashboard: past-tense facts, small and cheap to post.

``EngineReported`` carries engine events from the training (or following) thread into
the UI, through an ``EventInbox``: the thread appends each event to the inbox, which
posts a message (``post_message`` is thread-safe) at most every ``GAP_S`` for routine
events (progress, epoch records, activation probes) and at once for the others; the lab
then takes everything that came meanwhile. At 10 epochs a second (an epoch record, an
activation probe and a progress report or so an epoch) that is under 10 messages a
second instead of 30, and a toy dataset's hundreds of epochs a second no longer make
hundreds of messages. Progress reports coalesce: of
consecutive ``StepMeasured`` in one batch only the newest is kept, so a UI that fell
behind catches up in one step.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message
from textual.message_pump import MessagePump

from dnn_tui.training.events import ActivationsMeasured, EpochEnded, Event, StepMeasured

if TYPE_CHECKING:
    from dnn_tui.config import RunConfig


class EngineReported(Message, bubble=False):
    """The training engine emitted events, in order: those its inbox held when the lab took
    them (built directly, it holds what it is given)."""

    def __init__(self, run_id: int, events: list[Event], inbox: EventInbox | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        """Which run they belong to: a stopped run's last events are told apart from the next's."""
        self.events = events
        self.inbox = inbox

    def take(self) -> list[Event]:
        """The events to show (for an inbox's message, all it held by now)."""
        if self.inbox is not None:
            self.events = self.inbox.take()
        return self.events


ROUTINE = (StepMeasured, EpochEnded, ActivationsMeasured)
"""Events that may wait for the next message (the rest are posted at once)."""
GAP_S = 0.1
"""Least seconds between two messages of an inbox for routine events."""


class EventInbox:
    """Engine events from one run's thread to the lab (see the module docstring): call it
    with each event in that thread. A message is posted when none is waiting to be read and
    the event is not routine or GAP_S passed since the last one; the lab reads them all
    (``EngineReported.take``) and ``nudge``s the inbox at each redraw of its status line, so
    that no event waits longer than that."""

    def __init__(self, lab: MessagePump, run_id: int) -> None:
        self._lab = lab
        self.run_id = run_id
        self._lock = threading.Lock()
        self._waiting: list[Event] = []
        self._posted = False
        self._last_post = -GAP_S

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._waiting.append(event)
            due = not isinstance(event, ROUTINE) or time.monotonic() - self._last_post >= GAP_S
        if due:
            self._post()

    def nudge(self) -> None:
        """Post a message for events that wait (called by the lab, in the UI thread)."""
        self._post()

    def _post(self) -> None:
        """One message for what waits, unless one is already waiting to be read."""
        with self._lock:
            if self._posted or not self._waiting:
                return
            self._posted, self._last_post = True, time.monotonic()
        self._lab.post_message(EngineReported(self.run_id, [], self))

    def take(self) -> list[Event]:
        """The events that came since the last take, progress reports coalesced."""
        with self._lock:
            events, self._waiting = self._waiting, []
            self._posted = False
        return coalesced(events)


def coalesced(events: list[Event]) -> list[Event]:
    """events without each StepMeasured that another StepMeasured directly follows."""
    return [
        event
        for event, after in zip(events, [*events[1:], None], strict=False)
        if not (isinstance(event, StepMeasured) and isinstance(after, StepMeasured))
    ]


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


class RunContinueAsked(Message):
    """The user asked to continue an ended run from its checkpoint (from the runs list)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path


class SettingsPicked(Message):
    """The user asked to put a saved run's settings into the lab's form (from the runs list)."""

    def __init__(self, config: RunConfig, name: str) -> None:
        super().__init__()
        self.config = config
        self.name = name


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
