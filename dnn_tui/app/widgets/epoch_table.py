"""EpochTable: one row per finished epoch, the best one starred.

Every column has a fixed width and every number is written to fit it (see
``dnn_tui.app.formatting``), so the table never shifts as losses grow; the last
column, the controls applied in the epoch, takes the width left and ends in an
ellipsis when its list is longer (``EpochSummary`` under the table shows the whole
list of the highlighted or running epoch).

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
from textual import events
from textual.widgets import DataTable

from dnn_tui.app.formatting import fmt_acc, fmt_loss, fmt_lr, fmt_norm, fmt_seconds

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("epoch", "\nepoch", 6),
    ("train_loss", "train\nloss", 7),
    ("train_acc", "train\nacc", 7),
    ("val_loss", "val\nloss", 7),
    ("val_acc", "val\nacc", 7),
    ("lr", "\nlr", 7),
    ("grad_first", "|∇W|\nfirst", 7),
    ("grad_last", "|∇W|\nlast", 7),
    ("clipped", "clip\n%", 5),
    ("seconds", "\nsec", 6),
)
"""(column key, two-line header, width) in display order; every width has room for its widest
number and a space before it. |∇W| first/last: the first and the last layer's
weight-gradient norm. The events column follows, as wide as what is left."""
FIXED_W = sum(width for _, _, width in COLUMNS)
EVENTS_MIN_W = 10
"""The events column is never narrower than this (the table then scrolls sideways)."""
BEST_MARK = "★"
FLUSH_S = 2.0
"""Seconds between two batches of new rows at most. A batch costs a layout pass of the screen
and a redraw of every visible row (20-60 ms at 120x40 beside training on 2 cores); epochs
slower than this get their row as they end, faster ones (10 a second on 8k MNIST images)
arrive a batch every 2 s."""


def describe_control(change: dict[str, Any]) -> str:
    """One recorded control change, as short as the table needs: ``clip on@12``."""
    kind, value = change.get("kind"), change.get("value")
    if kind == "clipping":
        text = "clip on" if value else "clip off"
    elif kind == "clip_norm":
        text = f"max {value:g}"
    elif kind == "lr":
        text = f"lr {fmt_lr(value)}"
    elif kind == "pause":
        text = "pause" if value else "resume"
    else:
        text = str(kind)
    return f"{text}@{change.get('step')}"


def describe_controls(changes: list[dict[str, Any]]) -> str:
    """An epoch's control changes in order: ``pause@70, resume@71``."""
    return ", ".join(describe_control(change) for change in changes)


class EpochTable(DataTable[Any]):
    """Losses, accuracies, learning rate, gradients and clipping per epoch (``#epoch-table``)."""

    def __init__(self, *, id: str = "epoch-table") -> None:
        super().__init__(
            id=id, cursor_type="row", zebra_stripes=True, header_height=2, cell_padding=0
        )
        self._best: int | None = None
        self._pending: list[dict[str, Any]] = []
        self._pending_best: int | None = None
        self._flushed = 0.0
        self.records: dict[int, dict[str, Any]] = {}
        """Every epoch record shown (or queued), by epoch."""

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(Text(label, justify="right"), key=key, width=width)
        self.add_column(Text("\n events"), key="events", width=EVENTS_MIN_W)

    def on_resize(self, _event: events.Resize) -> None:
        """The events column takes the width the fixed columns leave."""
        scrollbar = self.styles.scrollbar_size_vertical
        width = max(EVENTS_MIN_W, self.size.width - FIXED_W - scrollbar)
        column = self.columns.get("events")  # type: ignore[call-overload]
        if column is not None and column.width != width:
            column.width = width
            self._clear_caches()
            self._require_update_dimensions = True
            self.refresh()

    def clear_epochs(self) -> None:
        """Empty the table for a new run."""
        self.clear()
        self._best = None
        self._pending.clear()
        self.records.clear()

    def add_epoch(self, record: dict[str, Any], best_epoch: int | None) -> None:
        """Queue the row of an epoch record (as history.json stores it) for the next flush."""
        self._pending.append(record)
        self._pending_best = best_epoch
        self.records[int(record["epoch"])] = record

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

    @property
    def best_epoch(self) -> int | None:
        """The starred epoch (None before any row was added)."""
        return self._best

    @property
    def highlighted_epoch(self) -> int | None:
        """The epoch of the row under the cursor (None when the table is empty)."""
        if self.row_count == 0:
            return None
        key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        return int(key) if key is not None else None

    def _add_row(self, record: dict[str, Any]) -> None:
        norms = record.get("grad_norm") or []
        numbers = (
            fmt_loss(record.get("train_loss")),
            fmt_acc(record.get("train_acc")),
            fmt_loss(record.get("val_loss")),
            fmt_acc(record.get("val_acc")),
            fmt_lr(record.get("lr")),
            fmt_norm(norms[0] if norms else None),
            fmt_norm(norms[-1] if norms else None),
            f"{100 * (record.get('clipped_fraction') or 0.0):.0f}",
            fmt_seconds(record.get("seconds")),
        )
        events_text = describe_controls(record.get("events", []))
        self.add_row(
            self._epoch_cell(record["epoch"], best=False),
            *(Text(number, justify="right") for number in numbers),
            Text(f" {events_text}", no_wrap=True, overflow="ellipsis"),
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
