"""CompareScreen: the saved runs under the run root, side by side (``v``).

A table of every run directory (preset, status, epochs, best validation accuracy,
test accuracy, the settings in one line) sorted by best validation accuracy, and
their validation-accuracy curves overlaid, each in its row's colour. Runs are
read from their history.json files (no torch); unreadable ones are listed with
the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label

from dnn_tui.app.formatting import fmt_acc
from dnn_tui.app.widgets.accuracy_chart import COLOURS, AccuracyChart
from dnn_tui.config import describe

MAX_CURVES = len(COLOURS)
"""Curves drawn at most (the best runs); more would be unreadable."""


def saved_runs(root: Path) -> list[dict[str, Any]]:
    """One summary per run directory under root, best validation accuracy first."""
    from dnn_tui.runs import HISTORY_FILE, RunError, load_run

    summaries = []
    folders = sorted(root.glob(f"*/{HISTORY_FILE}")) if root.is_dir() else []
    for folder in (history.parent for history in folders):
        try:
            run = load_run(folder)
        except RunError as error:
            summaries.append({"name": folder.name, "error": str(error), "curve": []})
            continue
        curve = [record.get("val_acc") for record in run.history["epochs"]]
        known = [v for v in curve if v is not None]
        summaries.append(
            {
                "name": folder.name,
                "label": run.config.preset or "custom",
                "status": run.history.get("status", "?"),
                "epochs": len(curve),
                "best": max(known) if known else None,
                "test": (run.history.get("test") or {}).get("acc"),
                "settings": describe(run.config),
                "curve": curve,
            }
        )
    return sorted(summaries, key=lambda s: -(s.get("best") or -1.0))


class CompareScreen(Screen[None]):
    """The saved runs and their overlaid validation-accuracy curves."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,v", "app.pop_screen", "back")]
    AUTO_FOCUS = "#compare-table"
    """The table has the focus: arrows and PageUp/PageDown move through it at once."""

    def __init__(self, root: Path) -> None:
        super().__init__(id="compare")
        self._root = root

    def compose(self) -> ComposeResult:
        yield Label(f"Saved runs in {self._root}", id="compare-title")
        yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
        yield AccuracyChart()
        yield Footer()

    def on_mount(self) -> None:
        runs = saved_runs(self._root)
        table = self.query_one("#compare-table", DataTable)
        table.add_columns("", "run", "preset", "status", "epochs", "best val", "test", "settings")
        for index, run in enumerate(runs):
            colour = COLOURS[index % len(COLOURS)] if index < MAX_CURVES else "dim"
            if "error" in run:
                cells = ("", "unreadable", "", "", "", run["error"])
                table.add_row(Text("•", style=colour), run["name"], *cells)
                continue
            table.add_row(
                Text("•", style=colour),
                run["name"],
                run["label"],
                run["status"],
                Text(str(run["epochs"]), justify="right"),
                Text(fmt_acc(run["best"]), justify="right"),
                Text(fmt_acc(run["test"]), justify="right"),
                run["settings"],
            )
        if not runs:
            self.query_one("#compare-title", Label).update(
                f"No saved runs in {self._root} yet: runs started here are saved there."
            )
        self.query_one(AccuracyChart).show([run["curve"] for run in runs[:MAX_CURVES]])
