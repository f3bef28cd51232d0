"""The dashboard draws run folders, presets, descriptions and settings written by someone else
with their control characters made visible and their markup as plain text."""

from __future__ import annotations

import html
import re
from pathlib import Path

from rich.text import Text
from textual.widgets import Label

from dnn_tui.app.app import DnnApp
from dnn_tui.app.widgets.difference_table import DifferenceTable
from dnn_tui.app.widgets.run_list import RunList
from tests.helpers.app import TINY, make_suite, open_list, wait_until
from tests.helpers.untrusted_runs import TITLE, hostile_run, raw_controls


def cell_text(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


async def test_the_runs_list_shows_a_hostile_run_without_raw_escapes(tmp_path: Path) -> None:
    make_suite(tmp_path)
    hostile_run(tmp_path)
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_list(pilot, 5)
        run_list = screen.query_one(RunList)
        rows = [
            [cell_text(cell) for cell in run_list.get_row_at(i)] for i in range(run_list.row_count)
        ]
        hostile = next(row for row in rows if row[-1].startswith("run"))
        assert hostile[-1] == "run\\x1b]0;owned\\x07[bold red]x[/]"  # markup kept as text
        assert hostile[1].startswith("base\\x1b[31m\\x1b]52;c;")
        assert all(raw_controls(cell) == [] for row in rows for cell in row)
        # Selected beside a plain run: the differences table shows the settings made visible.
        other = 1 if rows.index(hostile) == 0 else 0
        for row in (rows.index(hostile), other):
            run_list.move_cursor(row=row)
            await pilot.pause()
            assert run_list.toggle_selected() is None
        await pilot.press("3")
        table = screen.query_one(DifferenceTable)
        await wait_until(pilot, lambda: len(table.ordered_columns) == 3)
        cells = [cell_text(c) for i in range(table.row_count) for c in table.get_row_at(i)]
        headers = [cell_text(column.label) for column in table.ordered_columns]
        assert any("images\\x1b]0;owned\\x07.gz" in cell for cell in cells)
        assert all(raw_controls(text) == [] for text in cells + headers)
        title = str(screen.query_one("#compare-title", Label).content)
        assert raw_controls(title) == []


async def test_a_notice_from_a_hostile_run_is_shown_not_obeyed(tmp_path: Path) -> None:
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        app.notify("gone: run\x1b]0;owned\x07[bold]", title="Damaged\x1b[2J")
        await pilot.pause()
        text, _level = app.lab.run_status.notice
        assert text == "Damaged\\x1b[2J: gone: run\\x1b]0;owned\\x07[bold]"


async def test_the_form_names_a_hostile_preset_as_typed(tmp_path: Path) -> None:
    """A watched or loaded run's preset name comes from its config.toml: the form's picker
    shows its control characters as escapes and its markup as text."""
    from dataclasses import replace

    from textual.widgets import Select

    name = f"x{TITLE}[b]bold[/b]"
    config = replace(TINY, train=replace(TINY.train, epochs=3), preset=name)
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        app.lab.config_form.load(config)
        picker = app.lab.query_one("#field-preset", Select)
        await wait_until(pilot, lambda: "owned" in picker.prompt)
        assert not raw_controls(picker.prompt)
        svg = app.export_screenshot()
        texts = re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S)
        shown = "".join(html.unescape(re.sub(r"<[^>]+>", "", text)) for text in texts)
        assert "\x1b" not in shown and "\\x1b]0;owned\\x07[b]b" in shown


async def test_the_model_graph_shows_a_hostile_lesson_as_typed(tmp_path: Path) -> None:
    """``g`` writes the run's preset and description (from its config.toml) above the graph:
    control characters as escapes, markup as text."""
    from dataclasses import replace

    from textual.widgets import Static

    config = replace(
        TINY,
        train=replace(TINY.train, epochs=3),
        preset=f"p{TITLE}",
        description=f"d{TITLE}[bold]x[/bold]",
    )
    app = DnnApp(TINY, run_root=tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        app.lab.config_form.load(config)
        await pilot.pause()
        await pilot.press("g")
        lesson = app.screen.query_one("#graph-lesson", Static)
        await wait_until(pilot, lambda: "owned" in str(lesson.render()))
        shown = str(lesson.render())
        assert not raw_controls(shown)
        assert shown == "p\\x1b]0;owned\\x07: d\\x1b]0;owned\\x07[bold]x[/bold]"
