"""ExportScreen: asks where to write the CSV of the selected runs (enter writes, escape cancels)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class ExportScreen(ModalScreen[Path | None]):
    """A file name, pre-filled; dismisses with the path, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "cancel")]

    def __init__(self, default: Path) -> None:
        super().__init__(id="export")
        self._default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="export-panel"):
            yield Label("Export the selected runs as one CSV (run, preset, epoch, every metric)")
            yield Input(str(self._default), id="export-path")
            yield Label("enter writes the file, escape cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.notify("Type a file name.", title="Export", severity="warning")
            return
        target = Path(text).expanduser()
        if target.is_dir():
            self.notify(f"{target} is a folder: name a file", title="Export", severity="warning")
            return
        self.dismiss(target)
