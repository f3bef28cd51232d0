"""ClassAccuracyTable: the selected runs' test accuracy class by class, a column per run.

The numbers come from each run's evaluation.json (``dnn_tui.analysis.errors``, as for
``dnn-tui compare --per-class``); a run without one shows ``-`` and the line under the
table says how to get it. The bottleneck's merged digits stand out beside the baseline.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from dnn_tui.analysis.errors import per_class_table
from dnn_tui.analysis.figures import RunStyle
from dnn_tui.training.evaluation import Evaluation


class ClassAccuracyTable(DataTable[Text | str]):
    """A row per class, then ``all``; a column per selected run."""

    def __init__(self, *, id: str = "class-accuracy-table") -> None:
        super().__init__(id=id, cursor_type="none", zebra_stripes=True)

    def show(self, runs: list[tuple[str, RunStyle, Evaluation | None]]) -> None:
        """runs: (label, style, evaluation or None) in selection order."""
        self.clear(columns=True)
        if not runs:
            return
        header, rows = per_class_table([(label, evaluation) for label, _, evaluation in runs])
        self.add_column(header[0], key="class")
        for i, (label, (_, style, _)) in enumerate(zip(header[1:], runs, strict=True)):
            self.add_column(Text(f"{style.marker} {label}", style=style.colour), key=f"run-{i}")
        lowest = [
            min((a for a in e.per_class_acc if a is not None), default=None) if e else None
            for _, _, e in runs
        ]
        for r, row in enumerate(rows):
            cells: list[Text | str] = [Text(row[0], style="bold" if row[0] == "all" else "")]
            for i, value in enumerate(row[1:]):
                evaluation = runs[i][2]
                weakest = (
                    evaluation is not None
                    and r < len(evaluation.per_class_acc)
                    and evaluation.per_class_acc[r] == lowest[i]
                )
                cells.append(Text(value, justify="right", style="bold red" if weakest else ""))
            self.add_row(*cells)
        if not rows:  # two short lines: the runs' columns stay in a narrow terminal
            for hint in ("no evaluation.json:", "dnn-tui eval RUN --confusion"):
                self.add_row(Text(hint, style="dim"), *[""] * len(runs))
