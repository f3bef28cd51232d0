"""TypingGuard: keys typed just after an Enter in the form are text, not commands.

An Enter in the form that leaves the focus on a field that takes no text (the preset
picker after a choice, a switch) is often followed by typing meant for a field: a preset's
name typed there would start a run (``r``), open the graph (``g``) and more. For
``GUARD_S`` seconds after such an Enter, and for as long as keys keep coming within
``GUARD_S`` of each other, the printable keys are held back (the lab says so on its notice
line); escape ends the guard at once, and a key pressed after a pause acts as always.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

GUARD_S = 1.0
"""Seconds after an Enter (and after each key held back since) in which keys are typing.
People type the next letter within a few tenths of a second; a key pressed on purpose
after an Enter comes after a glance at the screen."""


class TypingGuard:
    """When keys are held back; the lab screen tells it about Enters and asks about keys."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.until = -math.inf
        self.held = ""
        """The keys held back since the last Enter (the notice repeats them)."""

    def entered(self) -> None:
        """An Enter in the form: what is typed next is text."""
        self.until = self.clock() + GUARD_S
        self.held = ""

    def holds(self, character: str | None) -> bool:
        """Whether a key (its printable character, None for others) is held back: a printable
        key within the guard's time, which then lasts ``GUARD_S`` from it."""
        if character is None or not character.isprintable() or character.isspace():
            return False
        now = self.clock()
        if now >= self.until:
            return False
        self.until = now + GUARD_S
        self.held += character
        return True

    def end(self) -> None:
        """Escape: the keys are commands again at once."""
        self.until = -math.inf
        self.held = ""
