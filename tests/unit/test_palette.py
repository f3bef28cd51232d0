"""The band colours keep their contrast on the dark and the light theme's background."""

from __future__ import annotations

import pytest
from textual.app import App

from dnn_tui.analysis.palette import DARK, LIGHT, MIN_CONTRAST, Palette, contrast
from dnn_tui.app.screens.lab import DARK_THEME, LIGHT_THEME


def background(theme: str) -> str:
    app = App()
    app.theme = theme
    return app.get_css_variables()["background"].lower()


def test_the_wcag_ratio() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#777777") == pytest.approx(1.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # WCAG's grey


@pytest.mark.parametrize(("theme", "palette"), [(DARK_THEME, DARK), (LIGHT_THEME, LIGHT)])
def test_every_colour_stands_out_from_its_background(theme: str, palette: Palette) -> None:
    ground = background(theme)
    colours = {**palette.bands, **palette.states, "lowest": palette.lowest}
    colours.update({f"heat {i}": colour for i, colour in enumerate(palette.heat)})
    weak = {name: round(contrast(c, ground), 2) for name, c in colours.items()}
    assert all(ratio >= MIN_CONTRAST for ratio in weak.values()), (ground, weak)
    # The bar's empty track is faint on purpose, but there.
    assert 1.2 < contrast(palette.track, ground) < MIN_CONTRAST


def test_the_dark_palettes_tones_would_fade_on_the_light_background() -> None:
    # Why there are two palettes: the dark theme's green is unreadable on the light one.
    assert contrast(DARK.bands["healthy"], background(LIGHT_THEME)) < 2
