"""LossSparklines: training loss per progress report (smoothed) and validation loss per epoch.

A training curve that keeps falling while the validation curve turns up is
overfitting; both flat and high is a model that cannot fit (too narrow, vanishing
gradients, a learning rate far too small).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from dnn_tui.app.formatting import fmt_loss
from dnn_tui.app.widgets.sparkline_row import SparklineRow


class LossSparklines(Vertical):
    """The loss curves (``#loss-sparklines``)."""

    def __init__(self, *, id: str = "loss-sparklines") -> None:
        super().__init__(id=id)

    def compose(self) -> ComposeResult:
        yield SparklineRow("train loss", fmt_loss, id="train-loss")
        yield SparklineRow("val loss", fmt_loss, id="val-loss")

    @property
    def train(self) -> SparklineRow:
        return self.query_one("#train-loss", SparklineRow)

    @property
    def val(self) -> SparklineRow:
        return self.query_one("#val-loss", SparklineRow)

    def reset(self) -> None:
        self.train.reset()
        self.val.reset()

    def flush(self) -> None:
        self.train.flush()
        self.val.flush()
