"""RunList: the saved runs as a table, with a selection to compare, hidden rows and a filter.

One row per run (``catalog.RunEntry``): its marker when selected (the marker and colour
of its curves in the figures), preset, status, epochs, best validation accuracy, test
accuracy, train-validation gap, dataset, date and the run directory; a list narrower than
its columns leaves out the date first, then the others (``DROPPED_FIRST``), never the run
directory, the one name no two runs share. A damaged run shows
``damaged`` and the file and reason in place of its numbers; it cannot be selected. The
filter shows the runs whose words match, and the selected ones whatever it says (they
are in the figures). A run is given the style its preset prefers
(``figures.pick_style``: the same as in ``dnn-tui compare``) when that one is free, and
keeps it until it is unselected, so curves do not change marker when another run comes
or goes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from dnn_tui.analysis.figures import STYLES, RunStyle, pick_style
from dnn_tui.analysis.palette import palette
from dnn_tui.app.widgets.gradient_panel import dark_theme
from dnn_tui.fileio import visible
from dnn_tui.rundir.catalog import DAMAGED, RunEntry
from dnn_tui.training.numbers import fmt_acc
from dnn_tui.training.status import Status

COLUMNS = ("", "preset", "status", "epochs", "best val", "test", "gap", "dataset", "date", "run")
"""The numbers first, the (long) run directory last."""
DROPPED_FIRST = ("date", "dataset", "gap", "epochs", "preset", "status", "test", "best val")
"""Columns left out, in this order, while the list is narrower than its columns: the run
folder (the one name no two runs share) and the selection marker always stay."""
STATUS_STYLES = {
    dark: {
        status: f"{'bold ' if status in (Status.RUNNING, DAMAGED) else ''}{colour}"
        for status, colour in palette(dark).states.items()
    }
    for dark in (True, False)
}
"""Dark theme or not -> status -> the style of its word (``dnn_tui.analysis.palette``)."""


@dataclass(frozen=True)
class RunListState:
    """What the list shows besides the runs, kept while the screen is closed: the selection
    (with each run's style), hidden runs, the filter, the run under the cursor and the
    scroll."""

    picked: tuple[tuple[Path, int], ...] = ()
    hidden: frozenset[Path] = frozenset()
    filter_text: str = ""
    cursor: Path | None = None
    scroll_y: float = 0.0


class RunListMemory:
    """Where a runs list leaves its state for the next one (the app keeps one, so the list
    comes back as it was after a run was opened from it)."""

    def __init__(self) -> None:
        self.state: RunListState | None = None


def fmt_date(unix: float | None) -> str:
    """The local date and minute of a time, ``-`` when unknown."""
    return "-" if unix is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(unix))


class RunList(DataTable[Text | str]):
    """The runs under the runs folder; space selects, the screen asks it to hide and filter."""

    class SelectionChanged(Message):
        """The runs selected for the figures changed (in selection order)."""

        def __init__(self, selected: list[Path]) -> None:
            super().__init__()
            self.selected = selected

    def __init__(self, *, id: str = "run-list") -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.entries: dict[Path, RunEntry] = {}
        """Every run found, by directory."""
        self.picked: dict[Path, int] = {}
        """The selected runs, in selection order, with the index of their style in STYLES."""
        self.hidden: set[Path] = set()
        """Runs hidden from the list (and so from the figures)."""
        self.filter_text = ""
        self._shown: list[Path] = []
        self._columns: tuple[str, ...] = COLUMNS
        """The columns shown (see DROPPED_FIRST)."""
        self._drawn: dict[Path, tuple[RunEntry, int | None]] = {}
        """What each shown row was drawn from: a row is redrawn only when this changes."""

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def on_resize(self) -> None:
        self._redraw()

    @property
    def selected(self) -> list[Path]:
        return list(self.picked)

    def style_of(self, path: Path) -> RunStyle:
        return STYLES[self.picked[path]]

    @property
    def current(self) -> RunEntry | None:
        """The run under the cursor."""
        if not self._shown or not 0 <= self.cursor_row < len(self._shown):
            return None
        return self.entries.get(self._shown[self.cursor_row])

    # --- what the screen tells it -----------------------------------------------------------

    def show(self, entries: list[RunEntry]) -> None:
        """The runs found (a fresh scan): rows are updated in place where the list is the same."""
        self.entries = {entry.path: entry for entry in entries}
        gone = [path for path in self.picked if path not in self.entries]
        for path in gone:
            del self.picked[path]
        self.hidden &= set(self.entries)
        self._redraw()
        if gone:
            self.post_message(self.SelectionChanged(self.selected))

    def mark_damaged(self, path: Path, problem: str) -> None:
        """A run failed to load in full: list it as damaged and unselect it."""
        entry = self.entries.get(path)
        if entry is None:
            return
        self.entries[path] = replace(entry, status=DAMAGED, problem=problem)
        if self.picked.pop(path, None) is not None:
            self.post_message(self.SelectionChanged(self.selected))
        self._redraw()

    def toggle_selected(self) -> str | None:
        """Select or unselect the run under the cursor; a reason when it cannot be selected."""
        entry = self.current
        if entry is None:
            return "no run under the cursor"
        if entry.path in self.picked:
            del self.picked[entry.path]
        elif entry.damaged:
            return f"{entry.name} is damaged: {entry.problem}"
        elif len(self.picked) >= len(STYLES):
            return f"at most {len(STYLES)} runs at once: unselect one first"
        else:
            self.picked[entry.path] = pick_style(entry.preset, set(self.picked.values()))
        self._update_row(entry.path)
        self.post_message(self.SelectionChanged(self.selected))
        return None

    def hide_current(self) -> None:
        """Hide the run under the cursor from the list and the figures."""
        entry = self.current
        if entry is None:
            return
        self.hidden.add(entry.path)
        if self.picked.pop(entry.path, None) is not None:
            self.post_message(self.SelectionChanged(self.selected))
        self._redraw()

    def unhide_all(self) -> None:
        self.hidden.clear()
        self._redraw()

    def drop(self, path: Path) -> None:
        """A run was deleted: its row goes at once (the cursor stays on the row below it)."""
        self.entries.pop(path, None)
        self.hidden.discard(path)
        if self.picked.pop(path, None) is not None:
            self.post_message(self.SelectionChanged(self.selected))
        self._redraw()

    def state(self) -> RunListState:
        current = self.current
        return RunListState(
            tuple(self.picked.items()),
            frozenset(self.hidden),
            self.filter_text,
            current.path if current is not None else None,
            self.scroll_y,
        )

    def restore(self, state: RunListState) -> None:
        """Show the runs as a previous list left them (runs gone or damaged since are left
        out); called once the first scan is shown."""
        self.picked = {
            path: style
            for path, style in state.picked
            if path in self.entries and not self.entries[path].damaged
        }
        self.hidden = set(state.hidden & set(self.entries))
        self.filter_text = state.filter_text
        self._redraw()
        if state.cursor is not None and state.cursor in self._shown:
            self.move_cursor(row=self._shown.index(state.cursor), scroll=False)
        self.scroll_back(state.scroll_y)
        self.post_message(self.SelectionChanged(self.selected))

    def set_filter(self, text: str) -> None:
        """Show only runs whose name, preset, dataset or status contains text."""
        self.filter_text = text.strip().lower()
        self._redraw()

    # --- drawing ----------------------------------------------------------------------------

    def _visible(self) -> list[Path]:
        words = self.filter_text.split()

        def matches(entry: RunEntry) -> bool:
            hay = " ".join(
                filter(None, (entry.name, entry.preset, entry.dataset, entry.status))
            ).lower()
            return all(word in hay for word in words)

        return [
            path
            for path, entry in self.entries.items()
            if path not in self.hidden and (path in self.picked or matches(entry))
        ]

    def _cells(self, entry: RunEntry) -> list[Text | str]:
        if entry.path in self.picked:
            style = self.style_of(entry.path)
            mark = Text(style.marker, style=style.colour)
        else:
            mark = Text("·", style="dim")
        # Names, presets, datasets and problems come from folders and files: drawn as Text
        # (never markup) with their control characters made visible.
        styles = STATUS_STYLES[dark_theme(self)]
        status = Text(visible(entry.status), style=styles.get(entry.status, ""))
        if entry.damaged:
            colour = palette(dark_theme(self)).states[DAMAGED]
            problem = Text(f"{visible(entry.name)}: {visible(entry.problem or '')}", style=colour)
            return [mark, "", status, "", "", "", "", "", fmt_date(entry.modified), problem]
        planned = f"/{entry.planned}" if entry.planned is not None else ""
        gap = "-" if entry.gap is None else f"{entry.gap:.3f}"
        return [
            mark,
            Text(visible(entry.preset or "custom")),
            status,
            Text(f"{entry.epochs}{planned}", justify="right"),
            Text(fmt_acc(entry.best_val_acc), justify="right"),
            Text(fmt_acc(entry.test_acc), justify="right"),
            Text(gap, justify="right"),
            Text(visible(entry.dataset or "-")),
            fmt_date(entry.modified),
            Text(visible(entry.name)),
        ]

    def _shown_cells(self, entry: RunEntry) -> list[Text | str]:
        """The cells of the columns shown."""
        cells = zip(COLUMNS, self._cells(entry), strict=True)
        return [cell for name, cell in cells if name in self._columns]

    def _fitting(self, visible: list[Path]) -> tuple[str, ...]:
        """The columns that fit the width, left out in DROPPED_FIRST's order."""
        width = self.size.width - 2  # the vertical scrollbar
        if width <= 0:
            return self._columns
        widths = dict.fromkeys(COLUMNS, 0)
        for entry in [None, *(self.entries[path] for path in visible)]:
            cells = COLUMNS if entry is None else self._cells(entry)
            for name, cell in zip(COLUMNS, cells, strict=True):
                length = cell.cell_len if isinstance(cell, Text) else len(cell)
                widths[name] = max(widths[name], length)
        kept = list(COLUMNS)
        for name in DROPPED_FIRST:
            if sum(widths[column] + 2 for column in kept) <= width:  # a cell's padding: 2
                break
            kept.remove(name)
        return tuple(kept)

    def _update_row(self, path: Path) -> None:
        drawn = (self.entries[path], self.picked.get(path))
        if path not in self._drawn or self._drawn[path] == drawn:
            return
        self._drawn[path] = drawn
        for column, cell in zip(self.ordered_columns, self._shown_cells(drawn[0]), strict=True):
            self.update_cell(str(path), column.key, cell)

    def _redraw(self) -> None:
        visible = self._visible()
        columns = self._fitting(visible)
        if visible == self._shown and columns == self._columns:
            for path in visible:
                self._update_row(path)
            return
        # The cursor stays on its run, else on the row that took its place (a deleted or
        # hidden run's neighbour), and the list where it was scrolled to.
        row, scroll_y = self.cursor_row, self.scroll_y
        current = self._shown[row] if 0 <= row < len(self._shown) else None
        self.clear(columns=columns != self._columns)
        if columns != self._columns:
            self._columns = columns
            self.add_columns(*columns)
        self._drawn = {}
        for path in visible:
            entry = self.entries[path]
            self.add_row(*self._shown_cells(entry), key=str(path))
            self._drawn[path] = (entry, self.picked.get(path))
        self._shown = visible
        if not visible:
            return
        if current in visible:
            row = visible.index(current)
        self.move_cursor(row=min(max(row, 0), len(visible) - 1), scroll=False)
        self.scroll_back(scroll_y)

    def scroll_back(self, y: float) -> None:
        """Scroll to y once the rows are laid out, then only as far as the cursor needs."""

        def scroll() -> None:
            self.scroll_to(y=y, animate=False, immediate=True)
            self.move_cursor(row=self.cursor_row)

        self.call_after_refresh(scroll)
