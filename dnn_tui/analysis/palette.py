"""The colours of the bands, the sparklines' heat and the run states, for a dark background
and for a light one.

The dark palette's light tones would fade on a light background (a green of contrast 1.4
against the light theme's grey), so the light theme takes darker tones of the same hues.
Each colour keeps a contrast ratio of at least ``MIN_CONTRAST`` (WCAG's for large text and
graphics) against its theme's background; a test checks them. The command line, whose
terminal's background is unknown, draws with the dark palette.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style

MIN_CONTRAST = 3.0


@dataclass(frozen=True)
class Palette:
    """One background's colours (hex strings, as Rich and Textual take them)."""

    bands: dict[str, str]
    """Band -> colour: the gradient bands (vanishing, healthy, converged, exploding), the
    signal's (collapsing, saturated, dead), the updates' (slow) and none (``""``)."""
    heat: tuple[str, ...]
    """A sparkline's cells from its lowest (good) to its highest value."""
    lowest: str
    """A sparkline's best cell (drawn reversed)."""
    track: str
    """The empty part of a bar: faint on purpose."""
    states: dict[str, str]
    """A run's status word (``running``, ``interrupted``, ``diverged``, ``failed``,
    ``damaged``, ``pruned``: magenta, a search's pruner ended it) -> colour."""


def _palette(
    blue: str, green: str, teal: str, amber: str, red: str, heat: tuple[str, ...], **rest: str
) -> Palette:
    bands = {
        "vanishing": blue,
        "slow": blue,
        "collapsing": blue,
        "healthy": green,
        "converged": teal,
        "saturated": amber,
        "dead": amber,
        "exploding": red,
    }
    states = {
        "running": green,
        "interrupted": amber,
        "diverged": red,
        "failed": red,
        "damaged": red,
        "pruned": rest["pruned"],
    }
    bands[""] = rest["neutral"]
    return Palette(bands, heat, rest["lowest"], rest["track"], states)


DARK = _palette(
    "#6f9cff",
    "#5fd75f",
    "#5fafaf",
    "#ffaf00",
    "#ff5f5f",
    ("#5fd75f", "#afd75f", "#d7d75f", "#d7af5f", "#d7875f", "#ff5f5f"),
    lowest="#5fd7ff",
    track="#3a3a3a",
    neutral="#d0d0d0",
    pruned="#d75fd7",
)
"""The dashboard's palette on a dark background (and the command line's)."""
LIGHT = _palette(
    "#1f5fd0",
    "#17751a",
    "#17706f",
    "#955300",
    "#c01f1f",
    ("#17751a", "#4a7000", "#6b6500", "#855a00", "#a0460d", "#c01f1f"),
    lowest="#005f87",
    track="#b8b8b8",
    neutral="#3a3a3a",
    pruned="#8b2f8b",
)
"""Darker tones of the same hues, for a light background."""


def palette(dark: bool = True) -> Palette:
    return DARK if dark else LIGHT


def band_styles(*bands: str) -> dict[bool, dict[str, Style]]:
    """Dark or not -> band -> its Rich style: parsed once, drawn at every redraw."""
    return {
        dark: {band: Style(color=palette(dark).bands[band]) for band in bands}
        for dark in (True, False)
    }


def contrast(first: str, second: str) -> float:
    """WCAG's contrast ratio of two ``#rrggbb`` colours: 1 (the same) to 21 (black, white)."""

    def luminance(colour: str) -> float:
        def channel(text: str) -> float:
            value = int(text, 16) / 255
            return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)
