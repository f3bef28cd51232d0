"""ConfirmScreen: a yes/no question in a small modal (y or enter: yes; n or escape: no)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class ConfirmScreen(ModalScreen[bool]):
    """Asks one question; dismisses with True (yes) or False (no)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "dismiss(True)", "yes"),
        Binding("n,escape", "dismiss(False)", "no"),
    ]

    def __init__(self, question: str, *, about_the_run: bool = False) -> None:
        super().__init__(id="confirm")
        self._question = question
        self.about_the_run = about_the_run
        """Asked only because a run is going: the run ending answers it (see DnnApp)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-panel"):
            yield Label(self._question, id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button("Yes (y)", variant="warning", id="confirm-yes", compact=True)
                yield Button("No (n)", id="confirm-no", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")
