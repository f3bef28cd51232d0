"""EpochTable: one row per finished epoch, the best one starred.

Every column has a fixed width and every number is written to fit it (see
``dnn_tui.training.numbers``), so the table never shifts as losses grow; the last
column, the controls applied in the epoch, takes the width left and ends in an
ellipsis when its list is longer (``EpochSummary`` under the table shows the whole
list of the highlighted or running epoch).

Rows are only ever added (never the table rebuilt: a refresh of a DataTable is
the costliest thing on the screen, since adding a row re-renders every visible
cell), and when the best epoch moves only the two cells that show the star
change. A row once drawn is kept as drawn (DataTable draws every visible row anew
whenever a row is added or the cursor moves, 15-20 ms at 120x40: see
``_render_line``), and new rows grow the table's scrollable height without a layout
pass of the screen (see ``_update_dimensions``). Epochs that end faster than ``FLUSH_S`` apart
(toy datasets run hundreds a second) are added together at the next flush. The table holds the
last ``KEPT_ROWS`` to ``2 * KEPT_ROWS`` epochs (the curves and the run's files hold them all),
so a run of 50,000 epochs costs a frame, memory and its opening what one of 500 does; the
cursor follows the newest row unless the user moved it up.
"""

from __future__ import annotations

import time
from typing import Any, Self

from rich.style import Style
from rich.text import Text
from textual import events
from textual.strip import Strip
from textual.widgets import DataTable

from dnn_tui.app.widgets.lr_sparkline import fmt_lr_cell
from dnn_tui.training.numbers import fmt_acc, fmt_loss, fmt_lr, fmt_norm, fmt_seconds

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
"""(name, two-line header, width) in display order; every width has room for its widest
number and a space before it. |∇W| first/last: the first and the last layer's
weight-gradient norm. The events column follows, as wide as what is left. The table has one
column (``ROW``) holding each row's text laid out in these widths, since DataTable draws each
cell through Rich's console (the cost per cell: docs/benchmarks.md)."""
ROW = "row"
FIXED_W = sum(width for _, _, width in COLUMNS)
EVENTS_MIN_W = 10
"""The events column is never narrower than this (the table then scrolls sideways)."""
BEST_MARK = "★"
DRAWN_MAX = 4096
"""Drawn lines kept (a screenful is a few dozen; all are dropped when there are more)."""
KEPT_ROWS = 500
"""Epochs the table keeps at least: when it holds twice as many, it is rebuilt with the last
KEPT_ROWS (DataTable removes a row in a time that grows with the table, and asks for a layout
pass each time; a rebuild costs what adding KEPT_ROWS rows does, once every KEPT_ROWS epochs)."""
KEPT_RECORDS = 11
"""The first epochs' records are kept beyond the table's rows: the line under the table
compares the first epoch with the next ten (``epoch_summary.slow_first_epoch``)."""
SHOWN_KEYS = (
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "lr",
    "grad_norm",
    "clipped_fraction",
    "seconds",
    "events",
)
"""The keys of an epoch record the table and the lines under it show: all it keeps of one
(the activation figures of a deep model are most of a record's size)."""
FLUSH_S = 2.0
"""Seconds between two batches of new rows at most; epochs slower than this get their row as
they end. Why: a batch costs a layout pass of the screen and a redraw of every visible row
(measured in docs/benchmarks.md)."""


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
        self._drawn: dict[tuple[Any, ...], Strip] = {}
        """Drawn row lines, by everything that decides how one looks (see _render_line)."""
        self._changes: dict[str, int] = {}
        """How many times each row's cells changed after it was added (the star moving)."""
        super().__init__(
            id=id, cursor_type="row", zebra_stripes=True, header_height=2, cell_padding=0
        )
        self._best: int | None = None
        self._pending: list[dict[str, Any]] = []
        self._pending_best: int | None = None
        self._flushed = 0.0
        self._sizing = False
        self.records: dict[int, dict[str, Any]] = {}
        """Every epoch record shown (or queued), by epoch."""

    def on_mount(self) -> None:
        self.add_column(header_text(), key=ROW, width=FIXED_W + EVENTS_MIN_W)

    def on_resize(self, _event: events.Resize) -> None:
        """The events column takes the width the fixed columns leave."""
        scrollbar = self.styles.scrollbar_size_vertical
        width = FIXED_W + max(EVENTS_MIN_W, self.size.width - FIXED_W - scrollbar)
        column = self.columns.get(ROW)  # type: ignore[call-overload]
        if column is not None and column.width != width:
            column.width = width
            self._clear_caches()
            self._require_update_dimensions = True
            self.refresh()

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """DataTable's own caches a line under its count of changes to the whole table and the
        cursor's position, so each new row or cursor move draws every visible row again.
        Here a row's line is kept under what decides its look: the row and its changes, its
        line in the row, the stripe, cursor or hover on it, the crop, the width and styles."""
        try:
            row_key, line = self._get_offsets(y)
        except LookupError:
            return super()._render_line(y, x1, x2, base_style)
        if row_key is self._header_row_key:
            return super()._render_line(y, x1, x2, base_style)
        row = self._row_locations.get(row_key)
        key = (
            row_key.value,
            self._changes.get(str(row_key.value), 0),
            line,
            row is not None and row % 2,
            self.show_cursor and self.cursor_type == "row" and row == self.cursor_row,
            self._show_hover_cursor and row == self.hover_row,
            x1,
            x2,
            self.size.width,
            base_style,
            self._pseudo_class_state,
        )
        strip = self._drawn.get(key)
        if strip is None:
            if len(self._drawn) >= DRAWN_MAX:
                self._drawn.clear()
            strip = self._drawn[key] = super()._render_line(y, x1, x2, base_style)
        return strip

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._drawn.clear()

    def notify_style_update(self) -> None:
        self._drawn.clear()
        super().notify_style_update()

    def _update_dimensions(self, new_rows: Any) -> None:
        """DataTable's own sets the table's virtual (scrollable) size, a reactive that asks for
        a layout pass of the whole screen, which then redraws every widget on it: 45 ms a
        batch of rows at 120x40 beside training. The table's region never depends on its
        rows, so the size is set without one and only its scrollbars follow."""
        self._sizing = True
        try:
            super()._update_dimensions(new_rows)
        finally:
            self._sizing = False
        self._scroll_update(self.virtual_size)

    def refresh(
        self, *regions: Any, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> Self:
        """A refresh; one asked for by a new virtual size repaints only (see _update_dimensions)."""
        layout = layout and not self._sizing
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def clear_epochs(self) -> None:
        """Empty the table for a new run."""
        self.clear()
        self._best = None
        self._changes.clear()
        self._drawn.clear()
        self._pending.clear()
        self.records.clear()

    def add_epoch(self, record: dict[str, Any], best_epoch: int | None) -> None:
        """Queue the row of an epoch record (as history.json stores it) for the next flush."""
        shown = {key: record[key] for key in SHOWN_KEYS if key in record}
        self._pending.append(shown)
        self._pending_best = best_epoch
        self.records[int(record["epoch"])] = shown

    def flush(self, *, force: bool = False) -> None:
        """Add the queued rows, unless the last batch was less than FLUSH_S ago."""
        now = time.monotonic()
        if not self._pending or (now - self._flushed < FLUSH_S and not force):
            return
        self._flushed = now
        follow = self.row_count == 0 or self.cursor_row >= self.row_count - 1
        if self.row_count + len(self._pending) >= 2 * KEPT_ROWS:
            self._rebuild(follow)
        else:
            for record in self._pending:
                self._add_row(record)
        self._pending.clear()
        self.mark_best(self._pending_best)
        if follow:
            self.move_cursor(row=self.row_count - 1)

    def _rebuild(self, follow: bool) -> None:
        """The table anew with the last KEPT_ROWS epochs (see KEPT_ROWS); the highlighted epoch
        stays highlighted while it is among them."""
        highlighted = None if follow else self.highlighted_epoch
        shown = [int(str(key.value)) for key in self.rows]
        kept = [self.records[epoch] for epoch in shown] + self._pending
        kept = kept[-KEPT_ROWS:]
        self.clear()
        self._best = None
        self._changes.clear()
        self._drawn.clear()
        for record in kept:
            self._add_row(record)
        first = int(kept[0]["epoch"]) if kept else 0
        best = self._pending_best
        for epoch in [epoch for epoch in self.records if epoch < first]:
            if epoch > KEPT_RECORDS and epoch != best:
                del self.records[epoch]
        if highlighted is not None and str(highlighted) in self.rows:
            self.move_cursor(row=self.get_row_index(str(highlighted)))

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
        self.add_row(row_text(record, best=False), key=str(record["epoch"]))

    def mark_best(self, epoch: int | None) -> None:
        """Star the best epoch's row (and unstar the previous best)."""
        if epoch == self._best:
            return
        for old, best in ((self._best, False), (epoch, True)):
            if old is not None and str(old) in self.rows:
                self.update_cell(str(old), ROW, row_text(self.records[old], best=best))
                self._changes[str(old)] = self._changes.get(str(old), 0) + 1
        self._best = epoch


def header_text() -> Text:
    """The two header lines, each label right-aligned in its column's width."""
    lines = [
        "".join(label.split("\n")[line].rjust(width) for _, label, width in COLUMNS)
        for line in (0, 1)
    ]
    return Text(f"{lines[0]}\n{lines[1]} events", no_wrap=True, overflow="ellipsis")


def row_text(record: dict[str, Any], *, best: bool) -> Text:
    """An epoch's row: each number right-aligned in its column's width, the best epoch's
    number starred in bold, then the control changes, cut with an ellipsis by the table."""
    norms = record.get("grad_norm") or []
    epoch = f"{BEST_MARK} {record['epoch']}" if best else str(record["epoch"])
    numbers = (
        fmt_loss(record.get("train_loss")),
        fmt_acc(record.get("train_acc")),
        fmt_loss(record.get("val_loss")),
        fmt_acc(record.get("val_acc")),
        fmt_lr_cell(record.get("lr")),  # a scheduled lr (3.13e-5) in the column with its space
        fmt_norm(norms[0] if norms else None),
        fmt_norm(norms[-1] if norms else None),
        f"{100 * (record.get('clipped_fraction') or 0.0):.0f}",
        fmt_seconds(record.get("seconds")),
    )
    widths = [width for _, _, width in COLUMNS]
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(epoch.rjust(widths[0]), style="bold" if best else "")
    text.append("".join(n.rjust(w) for n, w in zip(numbers, widths[1:], strict=True)))
    text.append(f" {describe_controls(record.get('events', []))}")
    return text
