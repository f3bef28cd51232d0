"""What a saved history says at a glance: its test accuracy, best validation accuracy and
train-validation gaps, as the runs list, ``runs``, ``compare`` and sweeps show them.

Runs without any UI and without torch; the history is one the loader has checked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Gaps:
    """Training minus validation accuracy: how much a run learned that does not generalise."""

    last: float | None
    """At the last recorded epoch."""
    best: float | None
    """At the best epoch (lowest validation loss), whose weights the run keeps."""


def _gap(record: Mapping[str, Any] | None) -> float | None:
    if record is None:
        return None
    train, val = record.get("train_acc"), record.get("val_acc")
    if isinstance(train, int | float) and isinstance(val, int | float):
        gap = float(train) - float(val)
        return gap if math.isfinite(gap) else None
    return None


def gaps(history: Mapping[str, Any]) -> Gaps:
    """The train-validation accuracy gaps of a (checked) history."""
    epochs = history.get("epochs") or []
    best = history.get("best_epoch")
    at_best = next((record for record in epochs if record.get("epoch") == best), None)
    return Gaps(last=_gap(epochs[-1] if epochs else None), best=_gap(at_best))


def best_val_acc(history: Mapping[str, Any]) -> float | None:
    """The highest validation accuracy of any epoch, or None without a finished epoch."""
    values = [
        record["val_acc"]
        for record in history.get("epochs") or []
        if isinstance(record.get("val_acc"), int | float) and math.isfinite(record["val_acc"])
    ]
    return max(values) if values else None


def acc_on_test(history: Mapping[str, Any]) -> float | None:
    """The test accuracy of the best epoch's weights, when the run got that far."""
    test = history.get("test")
    acc = test.get("acc") if isinstance(test, Mapping) else None
    return acc if isinstance(acc, int | float) else None
