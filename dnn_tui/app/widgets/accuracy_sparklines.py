"""AccuracySparklines: training and validation accuracy per epoch.

A widening gap between the two (training high, validation stalling) is
overfitting: the case for dropout, L2 or early stopping.
"""

from __future__ import annotations

from dnn_tui.app.curves import ACCURACY_SCALE
from dnn_tui.app.widgets.sparkline_pair import SparklinePair
from dnn_tui.training.numbers import fmt_acc


class AccuracySparklines(SparklinePair):
    """The accuracy curves (``#accuracy-sparklines``)."""

    QUANTITY = "acc"
    FORMAT = staticmethod(fmt_acc)
    SCALE = ACCURACY_SCALE
    HIGHER_IS_BETTER = True

    def __init__(self, *, id: str = "accuracy-sparklines") -> None:
        super().__init__(id=id)
