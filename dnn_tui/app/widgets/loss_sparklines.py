"""LossSparklines: training loss per progress report (smoothed) and validation loss per epoch.

Drawn on a log scale (losses fall over decades), each row in its own range: validation
loss's upturn would be flat under a training loss that falls over decades. Its lowest
cell is marked (the best epoch's neighbourhood). A training curve that keeps falling
while the validation curve turns up past its mark is overfitting; both flat and high is
a model that cannot fit (too narrow, vanishing gradients, a learning rate far too small).
"""

from __future__ import annotations

from dnn_tui.app.curves import LOSS_SCALE
from dnn_tui.app.widgets.sparkline_pair import SparklinePair
from dnn_tui.training.numbers import fmt_loss


class LossSparklines(SparklinePair):
    """The loss curves (``#loss-sparklines``)."""

    QUANTITY = "loss"
    FORMAT = staticmethod(fmt_loss)
    SCALE = LOSS_SCALE
    HIGHER_IS_BETTER = False
    SHARED_RANGE = False
    MARK_LOWEST = True

    def __init__(self, *, id: str = "loss-sparklines") -> None:
        super().__init__(id=id)
