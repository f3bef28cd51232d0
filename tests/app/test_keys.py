"""The keyboard on its own: tabs by key, a visible focus at every Tab stop, screens that scroll
at once, and a footer that shows only the keys that act where the focus is."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, Select
from textual.widgets._footer import FooterKey

from dnn_tui.app.app import DnnApp
from tests.helpers import scripted
from tests.helpers.app import wait_until


def footer_keys(app: DnnApp) -> set[str]:
    """The keys the footer shows (as it displays them)."""
    footer = app.screen.query_one(Footer)
    return {key.key_display or key.key for key in footer.query(FooterKey)}


async def test_number_keys_bring_the_tabs_forward_and_the_footer_says_so(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        lab = app.lab
        await wait_until(pilot, lambda: "1-3" in footer_keys(app))  # the footer composes late
        for key, page in (("2", "train"), ("3", "gradients"), ("1", "setup")):
            await pilot.press(key)
            assert lab.has_class(f"-page-{page}"), key
            assert lab.query_one("#lab-tabs").active == f"tab-{page}"  # type: ignore[attr-defined]
        await pilot.resize_terminal(120, 40)
        await wait_until(pilot, lambda: "^q" in footer_keys(app) and "1-3" not in footer_keys(app))


async def test_the_compact_footer_keeps_quit_and_b_still_starts_a_background_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    started: list[str] = []
    monkeypatch.setattr(app, "action_start_background", lambda: started.append("b"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: {"^q", "1-3", "?"} <= footer_keys(app))
        footer = app.screen.query_one(Footer)
        shown = footer_keys(app)
        assert {"^q", "1-3", "?"} <= shown and "b" not in shown  # no room for "bg run"
        assert max(key.region.right for key in footer.query(FooterKey)) <= 80
        await pilot.press("b")
        assert started == ["b"]
        await pilot.resize_terminal(120, 40)
        await wait_until(pilot, lambda: {"^q", "b"} <= footer_keys(app))
        await pilot.press("b")
        assert started == ["b", "b"]


async def test_every_tab_stop_shows_its_focus(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        scripted.feed(app, scripted.mid_run())
        await pilot.pause()
        await pilot.press("tab")
        # The first Tab lands on the first field, not on an invisible scroll container.
        assert isinstance(app.focused, Select) and app.focused.id == "field-preset"

        seen: list[Widget] = []
        for _ in range(40):
            focused = app.focused
            assert focused is not None
            if focused in seen:
                break
            seen.append(focused)
            await pilot.press("tab")
        assert app.lab.epoch_table in seen
        page = app.lab.query_one("#gradients-page", VerticalScroll)
        assert page in seen
        # Containers that take the focus draw it: a heavy edge instead of the thin one.
        page.focus()
        await pilot.pause()
        focused_edge = page.styles.border_top
        app.lab.epoch_table.focus()
        await pilot.pause()
        assert page.styles.border_top != focused_edge
        assert focused_edge[0] == "heavy"
        assert all(widget.id != "form-fields" for widget in seen)


async def test_help_graph_and_runs_scroll_without_tab(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        scripted.feed(app, scripted.mid_run())
        await pilot.pause()
        for key, body in (("question_mark", "#help-body"), ("g", "#graph-body")):
            await pilot.press(key)
            await pilot.pause()
            scroller = app.screen.query_one(body, VerticalScroll)
            assert app.focused is scroller
            await pilot.press("pagedown")
            await wait_until(pilot, lambda scroller=scroller: scroller.scroll_y > 0)
            await pilot.press("up")  # the arrows too
            await pilot.press("escape")
            assert app.screen is app.lab
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.focused, DataTable)  # arrows and PageDown move through the runs
        await pilot.press("escape")


async def test_the_footer_hides_keys_that_a_text_field_types(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        scripted.feed(app, scripted.mid_run())  # a run goes on: the steering keys are live
        await wait_until(pilot, lambda: {"+-", "space", "s", "c"} <= footer_keys(app))
        idle = footer_keys(app)
        assert {"+-", "space", "s", "c", "g", "v", "?"} <= idle and "esc" not in idle
        field = app.lab.query_one("#field-lr", Input)
        field.focus()
        await wait_until(pilot, lambda: "esc" in footer_keys(app))
        typing = footer_keys(app)
        assert typing.isdisjoint({"+-", "space", "s", "c", "g", "v", "?", "1-3"})
        assert {"^r", "esc", "^q"} <= typing
        await pilot.press("end", "plus")
        assert field.value.endswith("+")  # typed, not a threshold change
        await pilot.press("backspace", "escape")
        await wait_until(pilot, lambda: footer_keys(app) == idle)
