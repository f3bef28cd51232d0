"""ContinueScreen: asks how many epochs an ended run goes on to (enter continues it, escape
cancels)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from dnn_tui.config import MAX_EPOCHS
from dnn_tui.fileio import visible


class ContinueScreen(ModalScreen[int | None]):
    """The epochs in all, pre-filled; dismisses with them, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "cancel")]

    def __init__(self, name: str, checkpoint_epoch: int, epochs: int) -> None:
        super().__init__(id="continue")
        self._name = name
        self.checkpoint_epoch = checkpoint_epoch
        """The epoch the run goes on after: the answer must be more."""
        self._default = epochs if epochs > checkpoint_epoch else 2 * checkpoint_epoch

    def compose(self) -> ComposeResult:
        with Vertical(id="continue-panel"):
            yield Label(
                f"Continue {visible(self._name)} after epoch {self.checkpoint_epoch} (its "
                "checkpoint), as a process of its own. Epochs in all:",
                id="continue-question",
            )
            yield Input(str(self._default), type="integer", id="continue-epochs")
            yield Label("enter continues the run, escape cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            epochs = int(event.value.strip())
        except ValueError:
            epochs = 0
        if not self.checkpoint_epoch < epochs <= MAX_EPOCHS:
            self.notify(
                f"epochs: a whole number from {self.checkpoint_epoch + 1} to {MAX_EPOCHS:,}",
                title="Not continued",
                severity="warning",
            )
            return
        self.dismiss(epochs)
