"""EpochSummary: the lines under the epoch table: the best epoch, and an epoch's control changes.

The first line always names the best epoch (lowest validation loss, the weights
that are kept) with its numbers, however far its starred row has scrolled away.
The second shows control changes in full (the table's events column may end in an
ellipsis): those of the highlighted row while the table has the focus; otherwise
those of the epoch in progress as they are applied (as the Keras log prints what
happens during an epoch above its progress line, they join the epoch's row when it
ends). When the first epoch took much longer than the next ones, and those were steady,
it says why. With early stopping on, the first line also counts the epochs without
improvement against the patience ("2 of 3 epochs without improvement").
"""

from __future__ import annotations

import statistics
from typing import Any

from rich.text import Text
from textual.widget import Widget

from dnn_tui.app.widgets.epoch_table import BEST_MARK, describe_controls
from dnn_tui.training.numbers import fmt_acc, fmt_loss, fmt_seconds
from dnn_tui.training.report import patience_words

SLOW_FIRST = 3.0
"""The first epoch is called slow when it took this many times the median of the next ones."""
NEXT_EPOCHS = 10
"""How many epochs after the first are "the next ones" (a bounded cost at each epoch's end,
however long the run)."""
MIN_NEXT = 3
"""Epochs after the first needed before they can be called steady."""
STEADY = 1.5
"""The next epochs are steady when each took at most this many times their median, and at
least their median over this: only then is a slow first epoch the warm-up's doing (an epoch
slowed by another process, or a machine that speeds up, says nothing about the first)."""


def slow_first_epoch(records: dict[int, dict[str, Any]]) -> tuple[float, float] | None:
    """(first epoch's seconds, median of the next ones) when the first was slow and the next
    ones steady, else None."""
    first = records.get(1, {}).get("seconds")
    later = [
        seconds
        for epoch in range(2, 2 + NEXT_EPOCHS)
        if (seconds := records.get(epoch, {}).get("seconds")) is not None
    ]
    if first is None or len(later) < MIN_NEXT:
        return None
    median = max(statistics.median(later), 1e-3)
    if max(later) > STEADY * median or min(later) < median / STEADY:
        return None
    return (first, statistics.median(later)) if first > SLOW_FIRST * median else None


def _shown_figures(slow: tuple[float, float] | None) -> tuple[str, str] | None:
    """The slow first epoch's figures as the line shows them."""
    return None if slow is None else (fmt_seconds(slow[0]), fmt_seconds(slow[1]))


class EpochSummary(Widget):
    """The best epoch and the control changes of one epoch (``#epoch-summary``)."""

    def __init__(self, *, id: str = "epoch-summary") -> None:
        super().__init__(id=id)
        self.best: dict[str, Any] | None = None
        """The record of the best epoch as the table stars it (None before one ended)."""
        self._running_epoch: int | None = None
        self._running_events: list[dict[str, Any]] = []
        self._shown: tuple[int, list[dict[str, Any]]] | None = None
        """(epoch, its changes) of the highlighted row, while the table has the focus."""
        self._slow: tuple[float, float] | None = None
        self.patience = 0
        """The run's early-stopping patience (0: off)."""
        self._last: int | None = None
        self._best_epoch: int | None = None

    def reset(self, patience: int = 0) -> None:
        """A new run: nothing to say yet (``patience``: its early stopping, 0 when off)."""
        self.best, self._running_epoch, self._running_events = None, None, []
        self._shown = self._slow = self._last = self._best_epoch = None
        self.patience = patience
        self.refresh()

    def show_best(self, record: dict[str, Any] | None) -> None:
        self.best = record
        self.refresh()

    def show_control(self, epoch: int, change: dict[str, Any]) -> None:
        """A control change took effect in the epoch in progress."""
        if epoch != self._running_epoch:
            self._running_epoch, self._running_events = epoch, []
        self._running_events.append(change)
        self.refresh()

    def end_epoch(
        self,
        records: dict[int, dict[str, Any]],
        best_epoch: int | None = None,
        last: int | None = None,
    ) -> None:
        """Epoch ``last`` ended (the best so far ``best_epoch``; ``records`` as the table has
        them, which may not hold it yet): its changes are in its row now (a repaint only if
        the line shows something else: short epochs end many times a second, and each repaint
        is a frame)."""
        slow = slow_first_epoch(records)
        last = max(records, default=None) if last is None else last
        changed = bool(self._running_events) or _shown_figures(slow) != _shown_figures(self._slow)
        changed = changed or (self.patience > 0 and last != self._last)
        self._running_epoch, self._running_events = None, []
        self._slow, self._last, self._best_epoch = slow, last, best_epoch
        if changed:
            self.refresh()

    def show_row(self, epoch: int | None, changes: list[dict[str, Any]] | None) -> None:
        """The highlighted row of the focused table (None: the table lost the focus)."""
        self._shown = None if epoch is None else (epoch, changes or [])
        self.refresh()

    def render(self) -> Text:
        text = Text()
        best = self.best
        waiting = patience_words(self._last, self._best_epoch, self.patience)
        if best is None:
            text.append(
                f"{BEST_MARK} marks the best epoch (lowest val loss): its weights are kept", "dim"
            )
        else:
            text.append(f"{BEST_MARK} best epoch {best['epoch']}", "bold")
            loss, acc = fmt_loss(best.get("val_loss")), fmt_acc(best.get("val_acc"))
            text.append(f": val loss {loss}, val acc {acc}")
            if waiting is None:  # the line has room for why the best epoch matters
                text.append(" (the weights kept at the end)")
        if waiting is not None:
            text.append(f" · {waiting}", "yellow")
        text.append("\n")
        text.append_text(self._second_line())
        return text

    def _second_line(self) -> Text:
        if self._shown is not None:
            epoch, changes = self._shown
            what = describe_controls(changes) if changes else "no changes to the running job"
            return Text.assemble((f"epoch {epoch}: ", "bold"), what)
        if self._running_events:
            return Text.assemble(
                (f"epoch {self._running_epoch} so far: ", "bold"),
                describe_controls(self._running_events),
            )
        if self._slow is not None:
            first, later = self._slow
            return Text(
                f"epoch 1 took {fmt_seconds(first)} s, the next ones {fmt_seconds(later)} s: "
                "the first includes PyTorch's warm-up (? says more)",
                style="dim",
            )
        return Text("")
