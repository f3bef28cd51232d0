"""EpochTable: one row per finished epoch, the best one starred.

Rows are only ever added (never the table rebuilt: a refresh of a DataTable is
the costliest thing on the screen, since adding a row re-renders every visible
cell), and when the best epoch moves only the two cells that show the star
change. Epochs that end faster than ``FLUSH_S`` apart (toy datasets run hundreds a
second) are added together at the next flush. Every epoch stays reachable by
scrolling; the cursor follows the newest row unless the user moved it up.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from dnn_tui.app.formatting import fmt_acc, fmt_loss, fmt_norm, fmt_seconds

COLUMNS: tuple[tuple[str, str], ...] = (
    ("epoch", "\nepoch"),
    ("train_loss", "train\nloss"),
    ("train_acc", "train\nacc"),
    ("val_loss", "val\nloss"),
    ("val_acc", "val\nacc"),
    ("grad_first", "|∇W|\nfirst"),
    ("grad_last", "|∇W|\nlast"),
    ("clipped", "clip\n%"),
    ("seconds", "\nsec"),
    ("events", "\nevents"),
)
"""(column key, two-line header) in display order; |∇W| first/last: the first and the last
layer's weight-gradient norm."""
BEST_MARK = "★"
FLUSH_S = 0.5
"""Seconds between two batches of new rows at most (one table refresh costs about 11 ms)."""


def describe_control(change: dict[str, Any]) -> str:
    """One recorded control change, as short as the table needs: ``clip on@12``."""
    kind, value = change.get("kind"), change.get("value")
    if kind == "clipping":
        text = "clip on" if value else "clip off"
    elif kind == "clip_norm":
        text = f"max {value:g}"
    elif kind == "lr":
        text = f"lr {value:g}"
    elif kind == "pause":
        text = "pause" if value else "resume"
    else:
        text = str(kind)
    return f"{text}@{change.get('step')}"


class EpochTable(DataTable[Any]):
    """Losses, accuracies, gradient norms and clipping per epoch (``#epoch-table``)."""

    def __init__(self, *, id: str = "epoch-table") -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, header_height=2)
        self._best: int | None = None
        self._pending: list[dict[str, Any]] = []
        self._pending_best: int | None = None
        self._flushed = 0.0

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def clear_epochs(self) -> None:
        """Empty the table for a new run."""
        self.clear()
        self._best = None
        self._pending.clear()

    def add_epoch(self, record: dict[str, Any], best_epoch: int | None) -> None:
        """Queue the row of an epoch record (as history.json stores it) for the next flush."""
        self._pending.append(record)
        self._pending_best = best_epoch

    def flush(self, *, force: bool = False) -> None:
        """Add the queued rows, unless the last batch was less than FLUSH_S ago."""
        now = time.monotonic()
        if not self._pending or (now - self._flushed < FLUSH_S and not force):
            return
        self._flushed = now
        follow = self.row_count == 0 or self.cursor_row >= self.row_count - 1
        for record in self._pending:
            self._add_row(record)
        self._pending.clear()
        self.mark_best(self._pending_best)
        if follow:
            self.move_cursor(row=self.row_count - 1)

    def _add_row(self, record: dict[str, Any]) -> None:
        norms = record.get("grad_norm") or []
        numbers = (
            fmt_loss(record.get("train_loss")),
            fmt_acc(record.get("train_acc")),
            fmt_loss(record.get("val_loss")),
            fmt_acc(record.get("val_acc")),
            fmt_norm(norms[0] if norms else None),
            fmt_norm(norms[-1] if norms else None),
            f"{100 * (record.get('clipped_fraction') or 0.0):.0f}",
            fmt_seconds(record.get("seconds")),
        )
        self.add_row(
            self._epoch_cell(record["epoch"], best=False),
            *(Text(number, justify="right") for number in numbers),
            ", ".join(describe_control(change) for change in record.get("events", [])),
            key=str(record["epoch"]),
        )

    def mark_best(self, epoch: int | None) -> None:
        """Star the best epoch's row (and unstar the previous best)."""
        if epoch == self._best:
            return
        for old, best in ((self._best, False), (epoch, True)):
            if old is not None and str(old) in self.rows:
                self.update_cell(str(old), "epoch", self._epoch_cell(old, best=best))
        self._best = epoch

    @staticmethod
    def _epoch_cell(epoch: int, *, best: bool) -> Text:
        if best:
            return Text(f"{BEST_MARK} {epoch}", style="bold", justify="right")
        return Text(str(epoch), justify="right")
