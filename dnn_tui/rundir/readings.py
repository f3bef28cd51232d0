"""What a saved history says at a glance: its best epoch, that epoch's validation and test
accuracy, the top validation accuracy and the train-validation gaps, as the runs list,
``runs``, ``compare`` and sweeps show them.

"Best" has one meaning everywhere: the ★ epoch, the one with the lowest validation loss,
whose weights the run keeps and tests. The highest validation accuracy of any epoch is
another number with its own name (``max_val_acc``, "top val acc"): it can come from
another epoch, whose weights are gone.

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


def _finite(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def best_record(history: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The record of the ★ best epoch (lowest validation loss), or None before one ended."""
    best = history.get("best_epoch")
    if best is None:
        return None
    return next((r for r in history.get("epochs") or [] if r.get("epoch") == best), None)


def gaps(history: Mapping[str, Any]) -> Gaps:
    """The train-validation accuracy gaps of a (checked) history."""
    epochs = history.get("epochs") or []
    return Gaps(last=_gap(epochs[-1] if epochs else None), best=_gap(best_record(history)))


def best_val_acc(history: Mapping[str, Any]) -> float | None:
    """The validation accuracy of the ★ best epoch, whose weights the run keeps."""
    record = best_record(history)
    return None if record is None else _finite(record.get("val_acc"))


def max_val_acc(history: Mapping[str, Any]) -> float | None:
    """The top validation accuracy of any epoch (not always the best epoch's), or None
    without a finished epoch."""
    values = [_finite(record.get("val_acc")) for record in history.get("epochs") or []]
    numbers = [value for value in values if value is not None]
    return max(numbers) if numbers else None


def acc_on_test(history: Mapping[str, Any]) -> float | None:
    """The test accuracy of the best epoch's weights, when the run kept and tested them (a
    history without a best epoch kept no weights: a test figure there is not the run's)."""
    if history.get("best_epoch") is None:
        return None
    test = history.get("test")
    acc = test.get("acc") if isinstance(test, Mapping) else None
    return _finite(acc)
