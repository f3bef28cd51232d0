"""AccuracySparklines: training and validation accuracy per epoch.

A widening gap between the two (training high, validation stalling) is
overfitting: the case for dropout, L2 or early stopping.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from dnn_tui.app.formatting import fmt_acc
from dnn_tui.app.widgets.sparkline_row import SparklineRow


class AccuracySparklines(Vertical):
    """The accuracy curves (``#accuracy-sparklines``)."""

    def __init__(self, *, id: str = "accuracy-sparklines") -> None:
        super().__init__(id=id)

    def compose(self) -> ComposeResult:
        yield SparklineRow("train acc", fmt_acc, id="train-acc")
        yield SparklineRow("val acc", fmt_acc, id="val-acc")

    @property
    def train(self) -> SparklineRow:
        return self.query_one("#train-acc", SparklineRow)

    @property
    def val(self) -> SparklineRow:
        return self.query_one("#val-acc", SparklineRow)

    def reset(self) -> None:
        self.train.reset()
        self.val.reset()

    def flush(self) -> None:
        self.train.flush()
        self.val.flush()
