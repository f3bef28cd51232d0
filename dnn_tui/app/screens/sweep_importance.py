"""SweepImportanceScreen: what mattered in a sweep, over its comparison.

The importance of each searched option (fANOVA shares of the best validation loss, summing
to 1) and a parallel-coordinates figure, one line per run across the options and the
objective: the same figures as ``dnn-tui compare SWEEP_DIR --importance``. Computed in a
worker thread (Optuna and its evaluator take a moment); ``escape`` goes back to the runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static
from textual.worker import Worker, WorkerState

from dnn_tui.fileio import visible
from dnn_tui.sweeps.importance import (
    ImportanceError,
    WhatMattered,
    importance_bars,
    parallel_coordinates,
    what_mattered,
)
from dnn_tui.sweeps.planning import read_state


class SweepImportanceScreen(ModalScreen[None]):
    """The importance bars and the parallel coordinates of the sweep in ``root``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss(None)", "back to the runs"),
    ]
    DEFAULT_CSS = """
    SweepImportanceScreen { align: center middle; }
    #importance-panel {
        width: 96%; height: 92%; border: round $accent; background: $surface; padding: 0 1;
    }
    #importance-title { text-style: bold; }
    #importance-help { color: $text-muted; }
    """

    def __init__(self, root: Path) -> None:
        super().__init__(id="sweep-importance")
        self.root = Path(root)
        self.result: WhatMattered | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="importance-panel"):
            yield Label(f"What mattered: {visible(self.root.name)}", id="importance-title")
            yield Static("working it out…", id="importance-bars")
            yield Static("", id="importance-figure")
            yield Label("escape: back to the runs", id="importance-help")

    def on_mount(self) -> None:
        self.run_worker(self._compute, thread=True, exit_on_error=False, name="importance")

    def _compute(self) -> WhatMattered:
        state = read_state(self.root)
        if state is None:
            raise ImportanceError("no readable sweep.json")
        return what_mattered(self.root, state)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "importance":
            return
        bars = self.query_one("#importance-bars", Static)
        if event.state == WorkerState.ERROR:
            bars.update(f"Nothing to tell: {visible(event.worker.error)}")
        elif event.state == WorkerState.SUCCESS:
            self.result = event.worker.result
            self.show()

    def show(self) -> None:
        result = self.result
        if result is None:
            return
        region = self.query_one("#importance-panel").scrollable_content_region
        width = max(40, region.width - 1)
        # The title, the bars' header, a bar an option, the axes' 3 label lines, the help.
        height = max(6, region.height - len(result.importance) - 7)
        shown = len(result.points)
        bars = importance_bars(result, max(10, min(50, width - 30)))
        text = Text(
            f"Share of the best validation loss's variance ({shown} of {result.runs} runs "
            "with a result):\n"
        )
        text.append_text(bars)
        self.query_one("#importance-bars", Static).update(text)
        figure = parallel_coordinates(result, width, height)
        self.query_one("#importance-figure", Static).update(figure)

    def on_resize(self) -> None:
        self.show()
