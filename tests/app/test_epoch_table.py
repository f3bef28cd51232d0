"""EpochTable keeps drawn rows and grows without a layout pass; what it draws must be what
DataTable itself draws in every state: rows added, cursor moved, star moved, focus, hover,
sideways scroll and a narrower table."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from dnn_tui.app.widgets.epoch_table import KEPT_RECORDS, KEPT_ROWS, EpochTable


def record(epoch: int) -> dict[str, Any]:
    return {
        "epoch": epoch,
        "train_loss": 1 / epoch,
        "train_acc": 1 - 1 / (epoch + 1),
        "val_loss": 1.1 / epoch,
        "val_acc": 1 - 1.2 / (epoch + 2),
        "lr": 0.001,
        "grad_norm": [0.5 / epoch, 0.02 * epoch],
        "clipped_fraction": 0.0,
        "seconds": 0.1 * epoch,
        "events": [{"step": 3, "kind": "clipping", "value": True}] if epoch % 7 == 0 else [],
    }


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield EpochTable()


def mismatches(table: EpochTable) -> list[int]:
    """Screen lines where the kept drawing differs from DataTable's own, drawn afresh."""
    DataTable._clear_caches(table)  # DataTable's caches only: its own drawing is the oracle
    scroll_x, scroll_y = table.scroll_offset
    width = table.size.width
    style = table.rich_style
    wrong = []
    for y in range(table.size.height):
        line = y if y < table.header_height else y + scroll_y
        kept = table._render_line(line, scroll_x, scroll_x + width, style)
        DataTable._clear_caches(table)
        fresh = DataTable._render_line(table, line, scroll_x, scroll_x + width, style)
        if list(kept) != list(fresh):
            wrong.append(y)
    return wrong


async def test_kept_rows_are_drawn_as_datatable_draws_them() -> None:
    app = TableApp()
    async with app.run_test(size=(100, 14)) as pilot:
        table = app.query_one(EpochTable)
        states = []

        async def check(what: str) -> None:
            await pilot.pause()
            table.render_lines(table.size.region)  # fills the kept lines in this state
            states.append((what, mismatches(table)))

        for epoch in range(1, 6):
            table.add_epoch(record(epoch), best_epoch=epoch)
        table.flush(force=True)
        await check("first rows")
        for epoch in range(6, 31):
            table.add_epoch(record(epoch), best_epoch=4)
        table.flush(force=True)
        await check("more rows than fit, the star moved back")
        assert table.cursor_row == 29 and table.best_epoch == 4
        table.move_cursor(row=20)
        await check("cursor moved up")
        table.mark_best(21)
        await check("the star moved to the highlighted row")
        table.focus()
        await check("focused")
        await pilot.press("up", "up")
        await check("keys moved the cursor")
        table.hover_coordinate = Coordinate(17, 0)
        table._show_hover_cursor = True
        await check("mouse over a row")
        table.scroll_x = 12
        await check("scrolled sideways")
        await pilot.resize_terminal(70, 14)
        await check("narrower")
        assert [state for state in states if state[1]] == []


async def test_new_rows_grow_the_table_without_a_layout_pass() -> None:
    app = TableApp()
    async with app.run_test(size=(100, 14)) as pilot:
        table = app.query_one(EpochTable)
        for epoch in range(1, 40):  # the scrollbar appears: that takes a layout pass
            table.add_epoch(record(epoch), best_epoch=epoch)
        table.flush(force=True)
        await pilot.pause()
        layouts = 0
        original = app.screen._refresh_layout

        def counted(*args: Any, **kwargs: Any) -> None:
            nonlocal layouts
            layouts += 1
            original(*args, **kwargs)

        app.screen._refresh_layout = counted  # type: ignore[method-assign]
        for epoch in range(40, 80):
            table.add_epoch(record(epoch), best_epoch=epoch)
            table.flush(force=True)
            await pilot.pause()
        assert layouts == 0
        assert table.virtual_size.height == 79 + table.header_height
        assert table.scroll_y == table.max_scroll_y > 0  # following the newest row
        assert table.vertical_scrollbar.window_virtual_size == table.virtual_size.height
        bottom = table.render_lines(table.size.region)[-1].text
        assert bottom.split()[0] in ("79", "★")


async def test_a_long_run_keeps_only_its_last_rows_and_the_records_the_lab_needs() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one(EpochTable)
        epochs = 3 * KEPT_ROWS + 7
        for epoch in range(1, epochs + 1):
            table.add_epoch(record(epoch), 2)
            if epoch % 50 == 0:
                table.flush(force=True)
        table.flush(force=True)
        await pilot.pause()
        assert KEPT_ROWS <= table.row_count < 2 * KEPT_ROWS
        assert table.highlighted_epoch == epochs  # the cursor follows the newest row
        kept = {int(str(key.value)) for key in table.rows}
        assert max(kept) == epochs and len(kept) == table.row_count
        # the table's rows, the first epochs (the slow-first line) and the best one
        assert set(table.records) == kept | set(range(1, KEPT_RECORDS + 1))
        assert table.best_epoch == 2
