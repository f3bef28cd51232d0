"""A bounded history of a metric that still spans the whole run.

A run at 10 reports a second for an hour gives 36,000 points; a sparkline shows
at most a few hundred. When the history is full, neighbouring values are averaged
in pairs and later values are averaged in groups of the doubled stride, so memory
and rendering cost stay bounded and the curve keeps its whole shape (the averaging
also smooths it, which a loss curve wants anyway). Each point also keeps the lowest and
the highest raw value merged into it (``lows``, ``highs``), so a spike of one epoch in
50,000 is still there to draw. Each point may carry where it lies on the x axis (training
progress in epochs); x values are averaged alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable

DEFAULT_CAPACITY = 512
"""Points kept before compaction: more than any terminal is wide."""


class CompactingSeries:
    """Finite values in arrival order, averaged down to at most ``capacity`` points."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 2:
            raise ValueError(f"capacity: must be at least 2, got {capacity}")
        self.capacity = capacity
        self.values: list[float] = []
        """The (possibly averaged) history, oldest first."""
        self.lows: list[float] = []
        """The lowest raw value merged into each point."""
        self.highs: list[float] = []
        """The highest raw value merged into each point."""
        self.xs: list[float] = []
        """Where each value lies on the x axis (its position when appended without one)."""
        self._count = 0
        self._pending_x: list[float] = []
        self.stride = 1
        """Raw values averaged into each new point."""
        self._pending: list[float] = []
        self.last: float | None = None
        """The latest raw value."""
        self.low: float | None = None
        """The smallest raw value so far (None when empty)."""
        self.high: float | None = None
        """The largest raw value so far (None when empty)."""

    def append(self, value: float, x: float | None = None) -> None:
        """Add a value at x (default: its index); non-finite values are ignored (a diverged
        run ends anyway)."""
        if not math.isfinite(value):
            return
        self._count += 1
        self.last = value
        self.low = value if self.low is None else min(self.low, value)
        self.high = value if self.high is None else max(self.high, value)
        self._pending.append(value)
        self._pending_x.append(float(self._count) if x is None else x)
        if len(self._pending) < self.stride:
            return
        self.values.append(sum(self._pending) / len(self._pending))
        self.lows.append(min(self._pending))
        self.highs.append(max(self._pending))
        self.xs.append(sum(self._pending_x) / len(self._pending_x))
        self._pending.clear()
        self._pending_x.clear()
        if len(self.values) >= self.capacity:
            self.values = _halve(self.values)
            self.lows = _halve(self.lows, min)
            self.highs = _halve(self.highs, max)
            self.xs = _halve(self.xs)
            self.stride *= 2

    def __len__(self) -> int:
        return len(self.values)


def _halve(
    values: list[float], merge: Callable[[float, float], float] = lambda a, b: (a + b) / 2
) -> list[float]:
    """Neighbours merged in pairs, averaged by default (an odd last value kept as it is)."""
    halved = [merge(a, b) for a, b in zip(values[0::2], values[1::2], strict=False)]
    if len(values) % 2:
        halved.append(values[-1])
    return halved
