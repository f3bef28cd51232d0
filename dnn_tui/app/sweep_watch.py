"""The dashboard on a sweep: its runs list live, then the comparison of its runs at its end.

``dnn-tui sweep ... --dashboard`` runs the sweep in a process of its own and opens the
dashboard on the sweep folder: the runs list shows each run as it goes (running, ended,
failed, best validation accuracy; enter watches one live), and when ``sweep.json`` says
the sweep is over, the comparison of its runs opens. Quitting the dashboard leaves the
sweep going; ``dnn-tui tui --runs SWEEP_DIR`` shows it again. Over the comparison, what
mattered: the importance of each searched option and a parallel-coordinates figure
(``SweepImportanceScreen``; escape goes back to the runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dnn_tui.app.screens.compare import CompareScreen
from dnn_tui.app.screens.sweep_importance import SweepImportanceScreen
from dnn_tui.sweeps.importance import MIN_RUNS, sweep_dims
from dnn_tui.sweeps.planning import ended, read_state, run_dirs

if TYPE_CHECKING:
    from textual.app import App

POLL_S = 1.0
"""Seconds between two looks at sweep.json."""


class SweepWatch:
    """Opens the runs list of the sweep in root, then its comparison once the sweep ends."""

    def __init__(self, app: App, root: Path) -> None:
        self.app = app
        self.root = Path(root)
        self.done = False
        self._timer = None

    def start(self) -> None:
        self.app.push_screen(CompareScreen(self.root))
        self.app.notify(
            "the sweep runs on its own (log: sweep.log), quitting leaves it going; "
            "its comparison opens when it ends",
            title="Sweep",
        )
        self._timer = self.app.set_interval(POLL_S, self.poll)

    def poll(self) -> None:
        state = read_state(self.root)
        if state is None or not ended(state) or self.done:
            return
        self.done = True
        if self._timer is not None:
            self._timer.stop()
        runs = run_dirs(self.root, state)
        counts: dict[str, int] = {}
        for entry in state["runs"]:
            counts[entry.get("status", "?")] = counts.get(entry.get("status", "?"), 0) + 1
        said = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        self.app.notify(f"{state.get('status')}: {said}", title="Sweep over")
        shown = [s for s in self.app.screen_stack if isinstance(s, CompareScreen)]
        if shown:
            shown[0].select(runs)
        elif runs:
            self.app.push_screen(CompareScreen(self.root, select=runs))
        if sweep_dims(state) and len(runs) >= MIN_RUNS:  # what mattered, over the runs
            self.app.push_screen(SweepImportanceScreen(self.root))
