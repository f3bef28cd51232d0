"""The picture of decision regions, as Rich ``Text``: for ``eval --boundary`` and the lab's
boundary panel, which draw the same regions with the same code.

Runs without any UI and without torch (the dashboard imports it before torch has loaded).
Half-block cells: two cells of the grid a character, the upper one in the foreground colour,
the lower one in the background, each class its own colour, the training points as dots of
their class's brighter colour. Without colour (``NO_COLOR``, a pipe) one glyph per class
for its region and the class's digit for its points, so a point in another class's region
(a mistake) stands out either way.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text

PLANE_DATASETS = ("moons", "circles", "spiral")
"""The datasets whose samples are points of a plane (2 features)."""
REGION_COLOURS = (
    "#1f4a8f",
    "#8f3a1f",
    "#2f7a3a",
    "#6a2f8a",
    "#7f6f1f",
    "#1f7a7a",
    "#8a2f5a",
    "#5a5a5a",
    "#4a6a1f",
    "#2f3f8f",
)
"""A class's region (cycled beyond ten classes): dark, so the points read on it."""
POINT_COLOURS = (
    "#9cc8ff",
    "#ffb08a",
    "#a6f0b0",
    "#e0a8ff",
    "#fff08a",
    "#8af0f0",
    "#ff9cc8",
    "#e0e0e0",
    "#c8f08a",
    "#a8b8ff",
)
"""A class's training points: the region's colour, bright."""
REGION_GLYPHS = ".+-=~:^',;"
"""A class's region without colour (cycled beyond ten classes)."""
POINT = "●"
"""A training point in colour."""
HALF = "▀"
"""A character of two cells: the upper one in the foreground, the lower in the background."""


def regions_text(
    grid: Sequence[Sequence[int]], points: Sequence[Sequence[int]], colour: bool
) -> Text:
    """The regions, two grid rows a line, with the points on them (see the module's
    docstring); no legend."""
    marks: dict[tuple[int, int], int] = {}
    for row, column, label in points:
        marks[(row // 2, column)] = label
    text = Text(no_wrap=True, overflow="crop")
    for line in range(0, len(grid), 2):
        upper = grid[line]
        lower = grid[line + 1] if line + 1 < len(grid) else upper
        for column, (top, bottom) in enumerate(zip(upper, lower, strict=True)):
            label = marks.get((line // 2, column))
            if colour:
                text.append(*_coloured(top, bottom, label))
            elif label is not None:
                text.append(str(label % 10), Style(bold=True))
            else:
                text.append(REGION_GLYPHS[top % len(REGION_GLYPHS)])
        text.append("\n")
    text.rstrip()
    return text


def _coloured(top: int, bottom: int, label: int | None) -> tuple[str, Style]:
    if label is not None:
        colour = POINT_COLOURS[label % len(POINT_COLOURS)]
        return POINT, Style(color=colour, bgcolor=REGION_COLOURS[top % len(REGION_COLOURS)])
    upper = REGION_COLOURS[top % len(REGION_COLOURS)]
    return HALF, Style(color=upper, bgcolor=REGION_COLOURS[bottom % len(REGION_COLOURS)])


def legend_text(classes: Sequence[str], colour: bool) -> Text:
    """One entry per class: its region and its points, as ``regions_text`` draws them."""
    text = Text(no_wrap=True, overflow="crop")
    for index, name in enumerate(classes):
        if index:
            text.append("  ")
        if colour:
            text.append("  ", Style(bgcolor=REGION_COLOURS[index % len(REGION_COLOURS)]))
            text.append(POINT, Style(color=POINT_COLOURS[index % len(POINT_COLOURS)]))
        else:
            text.append(f"{REGION_GLYPHS[index % len(REGION_GLYPHS)]}{index % 10}")
        text.append(f" class {name}")
    return text


def plane_caption(x_range: Sequence[float], y_range: Sequence[float]) -> str:
    """The plane's extent, in the coordinates the model sees."""
    return (
        f"x {x_range[0]:.2f} .. {x_range[1]:.2f}, y {y_range[0]:.2f} .. {y_range[1]:.2f} "
        "(standardised inputs)"
    )
