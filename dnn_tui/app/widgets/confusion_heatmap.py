"""ConfusionHeatmap: the confusion matrix as a table of shaded cells, one row per true class.

Each cell is the share of the row's examples predicted as the column's class, in percent;
the diagonal (right answers) is bracketed and shaded green, the other cells red by how
large they are, so the numbers and the brackets carry the matrix without colour
(``NO_COLOR``). ``enter`` on a cell posts ``PairPicked`` (its true and predicted class).
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from dnn_tui.fileio import visible
from dnn_tui.training.evaluation import Evaluation

CELL = 5
"""Characters a cell takes: ``[100]``."""


def shade(share: float, right: bool) -> Style:
    """A cell's background: green on the diagonal, red elsewhere, stronger the larger share
    (a mistake's share is small, so it is scaled up to be seen)."""
    strength = min(1.0, share if right else 4 * share)
    if not share:
        return Style()
    level = int(40 + 120 * strength)
    colour = f"rgb(20,{level},40)" if right else f"rgb({level + 60},30,30)"
    return Style(bgcolor=colour, color="white")


def cell_text(count: int, total: int, right: bool) -> Text:
    """A cell: the row's percentage ("." for none), bracketed on the diagonal."""
    share = count / total if total else 0.0
    value = "." if not count else (str(round(100 * share)) if round(100 * share) else "<1")
    text = f"[{value:>3}]" if right else f"{value:>4} "
    return Text(text, style=shade(share, right))


class ConfusionHeatmap(DataTable[Text]):
    """The confusion matrix, rows true class, columns predicted class."""

    class PairPicked(Message):
        """Enter on a cell: the gallery narrows to examples of ``true`` predicted ``pred``."""

        def __init__(self, true: int, pred: int) -> None:
            super().__init__()
            self.true = true
            self.pred = pred

    def __init__(self, *, id: str = "confusion-heatmap") -> None:
        super().__init__(id=id, cursor_type="cell", cell_padding=0, show_row_labels=True)

    def show(self, evaluation: Evaluation) -> None:
        self.clear(columns=True)
        names = [visible(name)[: CELL - 1] for name in evaluation.classes]
        for i, name in enumerate(names):
            self.add_column(Text(f"{name:>4} "), key=f"pred-{i}", width=CELL)
        for r, row in enumerate(evaluation.confusion):
            total = sum(row)
            cells = [cell_text(count, total, r == c) for c, count in enumerate(row)]
            self.add_row(*cells, key=f"true-{r}", label=Text(f"{names[r]:>4} "))
        if evaluation.most_confused:
            worst = evaluation.most_confused[0]
            self.move_cursor(row=worst.true, column=worst.pred)

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.post_message(self.PairPicked(event.coordinate.row, event.coordinate.column))
