"""SuitePickerScreen: choose a suite to run from the dashboard (enter runs it, escape cancels).

Each suite's presets run one after the other with the form's dataset, each for its own
epochs unless the form's were changed
(``dnn_tui.app.suite_runner``), like ``dnn-tui suite NAME``.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from dnn_tui.presets import SUITES, suite_text


class SuitePickerScreen(ModalScreen[str | None]):
    """The suites with their presets; dismisses with a suite's name, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "cancel")]

    def __init__(self) -> None:
        super().__init__(id="suite-picker")

    def compose(self) -> ComposeResult:
        with Vertical(id="suite-panel"):
            yield Label(
                "Run a suite with the form's dataset; each preset keeps its own epochs "
                "unless you changed the form's (then it is NAME (edited))",
                id="suite-title",
            )
            yield OptionList(
                *(Option(f"{name}: {suite_text(name)}", id=name) for name in SUITES),
                id="suite-options",
            )
            yield Label("enter runs it, then compares its runs; escape cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
