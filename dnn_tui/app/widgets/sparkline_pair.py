"""SparklinePair: a training and a validation curve of one quantity, one row each."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical

from dnn_tui.app.widgets.sparkline_row import SparklineRow


class SparklinePair(Vertical):
    """Two SparklineRows, ``train`` above ``val``; subclasses name the quantity."""

    QUANTITY = ""
    """Short name in the row labels and ids: ``loss`` or ``acc``."""
    FORMAT: Callable[[float], str] = staticmethod(str)
    """How the current, min and max values are written."""

    def compose(self) -> ComposeResult:
        q = self.QUANTITY
        yield SparklineRow(f"train {q}", self.FORMAT, id=f"train-{q}")
        yield SparklineRow(f"val {q}", self.FORMAT, id=f"val-{q}")

    @property
    def train(self) -> SparklineRow:
        return self.query_one(f"#train-{self.QUANTITY}", SparklineRow)

    @property
    def val(self) -> SparklineRow:
        return self.query_one(f"#val-{self.QUANTITY}", SparklineRow)

    def reset(self) -> None:
        self.train.reset()
        self.val.reset()

    def flush(self) -> None:
        self.train.flush()
        self.val.flush()
