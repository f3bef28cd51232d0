"""DifferenceTable: the settings that differ between the selected runs, and their gaps.

One column per selected run (its marker and name); rows: every config setting whose
value is not the same in all of them, then the training-minus-validation accuracy gap at
the last and at the best epoch, the best epoch (lowest validation loss, the weights kept),
its validation and test accuracy, and the top validation accuracy of any epoch. Numbers
come from ``dnn_tui.analysis.comparison``, as for ``dnn-tui compare``.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from dnn_tui.analysis.comparison import config_differences
from dnn_tui.analysis.figures import RunStyle
from dnn_tui.fileio import visible
from dnn_tui.rundir.files import SavedRun
from dnn_tui.rundir.readings import acc_on_test, best_val_acc, gaps, max_val_acc
from dnn_tui.training.numbers import fmt_acc


def _gap(value: float | None) -> Text:
    return Text("-" if value is None else f"{value:.3f}", justify="right")


class DifferenceTable(DataTable[Text | str]):
    """Settings that differ, then gaps and accuracies, one column per run."""

    def __init__(self, *, id: str = "difference-table") -> None:
        super().__init__(id=id, cursor_type="none", zebra_stripes=True)

    def show(self, runs: list[tuple[str, RunStyle, SavedRun]]) -> None:
        """runs: (label, style, run) in selection order."""
        self.clear(columns=True)
        if not runs:
            return
        self.add_column("setting", key="setting")
        for i, (label, style, _) in enumerate(runs):
            self.add_column(
                Text(f"{style.marker} {visible(label)}", style=style.colour), key=f"run-{i}"
            )
        saved = [run for _, _, run in runs]
        differences = config_differences([run.config for run in saved])
        for key, values in differences:
            self.add_row(Text(visible(key)), *(Text(visible(value)) for value in values))
        if len(saved) > 1 and not differences:
            self.add_row(Text("same settings", style="dim"), *[""] * len(saved))
        self.add_row(
            Text("gap at the last epoch", style="bold"),
            *[_gap(gaps(run.history).last) for run in saved],
        )
        self.add_row(
            Text("gap at the best epoch", style="bold"),
            *[_gap(gaps(run.history).best) for run in saved],
        )
        self.add_row(
            "best epoch",
            *[Text(str(run.history.get("best_epoch") or "-"), justify="right") for run in saved],
        )
        self.add_row(
            "best val accuracy",
            *[Text(fmt_acc(best_val_acc(run.history)), justify="right") for run in saved],
        )
        self.add_row(
            "test accuracy",
            *[Text(fmt_acc(acc_on_test(run.history)), justify="right") for run in saved],
        )
        self.add_row(
            "top val accuracy",
            *[Text(fmt_acc(max_val_acc(run.history)), justify="right") for run in saved],
        )
