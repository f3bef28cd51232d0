"""Keys that cannot misfire: text typed just after an Enter in the form is not taken for
commands, the focused field shows without colour, and the steering keys with no run to
steer say so."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.style import Style
from textual.widgets import Label, Select

from dnn_tui.app.app import DnnApp
from dnn_tui.app.screens.lab import LabScreen
from dnn_tui.app.screens.model_graph import ModelGraphScreen
from dnn_tui.app.typing_guard import GUARD_S, TypingGuard
from tests.helpers import scripted
from tests.helpers.app import Notes, wait_until
from tests.helpers.run_files import finished


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_guard_lasts_while_keys_keep_coming() -> None:
    clock = Clock()
    guard = TypingGuard(clock)
    assert not guard.holds("r")  # no Enter yet: keys are commands
    guard.entered()
    for character in "regularisation":
        clock.now += GUARD_S * 0.6  # typing: each key within the guard's time of the last
        assert guard.holds(character)
    assert guard.held == "regularisation"
    assert not guard.holds(None) and not guard.holds(" ")  # arrows, space: never text here
    clock.now += GUARD_S * 1.1  # a pause: the next key is meant
    assert not guard.holds("g")
    guard.entered()
    guard.end()  # escape
    assert not guard.holds("g")


async def test_a_preset_name_typed_after_a_choice_neither_starts_nor_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    started: list[str] = []
    monkeypatch.setattr(app, "action_start_run", lambda: started.append("r"))
    async with app.run_test(size=(120, 40)) as pilot:
        clock = Clock()
        app.lab.typing_guard.clock = clock
        await pilot.press("tab")
        assert isinstance(app.focused, Select)
        await pilot.press("enter", "down", "enter")  # a preset picked: the focus on the picker
        await pilot.pause()
        assert isinstance(app.focused, Select)
        await pilot.press(*"regularisation")
        assert started == [] and isinstance(app.screen, LabScreen)
        notice = str(app.lab.query_one("#run-notice").render())
        assert "'regularisation' was typed just after enter" in notice
        clock.now += GUARD_S + 0.5  # a key pressed after a pause acts
        await pilot.press("g")
        assert isinstance(app.screen, ModelGraphScreen)


async def test_the_focused_field_shows_without_colour(tmp_path: Path) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("tab", "tab")
        await pilot.pause()
        focused = app.focused
        assert focused is not None and focused.parent is not None
        label = focused.parent.query_one(".field-label", Label)
        assert label.styles.text_style.reverse and label.styles.text_style.bold
        others = [
            other for other in app.lab.query(".field-label").results(Label) if other is not label
        ]
        assert others and not any(other.styles.text_style.reverse for other in others)


async def test_steering_keys_without_a_run_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        for key in ("c", "space", "plus", "minus", "s"):
            await pilot.press(key)
        said = [message for title, message, _ in notes.seen if title == "Not steered"]
        assert len(said) == 5 and all(m.startswith("no run to steer: no run goes on") for m in said)
        # An ended run: the same, saying it ended.
        notes.seen.clear()
        scripted.feed(app, [*scripted.mid_run(), finished()])
        await wait_until(pilot, lambda: app.lab.run_ended, what="the run to end")
        app.controls = None  # as when its worker has finished
        app.refresh_bindings()
        await pilot.press("c", "space")
        said = [message for title, message, _ in notes.seen if title == "Not steered"]
        assert said == ["no run to steer: the shown run has ended"] * 2


async def test_t_switches_to_the_light_theme_and_the_bands_follow(tmp_path: Path) -> None:
    from dnn_tui.analysis.palette import DARK, LIGHT
    from dnn_tui.app.screens.lab import DARK_THEME, LIGHT_THEME

    app = DnnApp(scripted.CONFIG, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        scripted.feed(app, scripted.mid_run())
        await pilot.pause()

        def colours() -> set[str]:
            text = app.lab.gradient_panel.render()
            styles = [
                Style.parse(s) if isinstance(s, str) else s for s in (p.style for p in text.spans)
            ]
            return {
                style.color.triplet.hex for style in styles if style.color and style.color.triplet
            }

        assert app.theme == DARK_THEME and DARK.bands["healthy"] in colours()
        await pilot.press("t")
        assert app.theme == LIGHT_THEME and not app.current_theme.dark
        assert LIGHT.bands["healthy"] in colours() and DARK.bands["healthy"] not in colours()
        await pilot.press("t")
        assert app.theme == DARK_THEME
