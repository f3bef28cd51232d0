"""MistakeGallery: the worst misclassified test examples, drawn in the terminal.

An image is drawn with half blocks, two pixel rows a character (``▀ ▄ █``): a pixel is ink
or not, so the shape reads the same without colour; a 28x28 image is halved first (14x14
pixels: 14 columns and 7 rows), an 8x8 one kept as it is. A 2-D point is drawn on its
plane among the split's points, each with its class's mark (``MARKS``). Under each: the
true and the predicted class and the model's confidence. Tiles fill the width, then the
next row, as many as fit.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

from dnn_tui.analysis.errors import Pictures
from dnn_tui.fileio import visible
from dnn_tui.training.evaluation import Mistake

INK = 0.35
"""The brightness (0 to 1) from which a pixel is drawn."""
MAX_SIDE = 16
"""An image larger than this many pixels a side is halved (28 -> 14)."""
PLANE = (14, 7)
"""Columns and rows of a 2-D point's plane."""
GAP = 2
MARKS = "·+x*o%#=~^"
"""The mark of each class's points on a plane (classes beyond them share the last)."""


def halved(pixels: Sequence[float], rows: int, cols: int) -> tuple[list[float], int, int]:
    """The image at half size, each pixel the mean of a 2x2 block (an odd edge is dropped)."""
    h, w = rows // 2, cols // 2
    out = [
        (
            pixels[2 * r * cols + 2 * c]
            + pixels[2 * r * cols + 2 * c + 1]
            + pixels[(2 * r + 1) * cols + 2 * c]
            + pixels[(2 * r + 1) * cols + 2 * c + 1]
        )
        / 4
        for r in range(h)
        for c in range(w)
    ]
    return out, h, w


def image_lines(pixels: Sequence[float], shape: tuple[int, int]) -> list[str]:
    """pixels (a flattened image, values 0 to 1) drawn with half blocks."""
    rows, cols = shape
    values = list(pixels)
    while max(rows, cols) > MAX_SIDE:
        values, rows, cols = halved(values, rows, cols)
    lines = []
    for r in range(0, rows, 2):
        line = []
        for c in range(cols):
            top = values[r * cols + c] >= INK
            bottom = r + 1 < rows and values[(r + 1) * cols + c] >= INK
            line.append("█" if top and bottom else "▀" if top else "▄" if bottom else " ")
        lines.append("".join(line))
    return lines


def plane_lines(point: Sequence[float], plane: Sequence[tuple[float, float, int]]) -> list[str]:
    """The split's points on a small plane, each its class's mark, point as ``●``."""
    cols, rows = PLANE
    xs = [p[0] for p in plane] + [point[0]]
    ys = [p[1] for p in plane] + [point[1]]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)

    def place(x: float, y: float) -> tuple[int, int]:
        c = round((x - x0) / ((x1 - x0) or 1) * (cols - 1))
        r = round((y1 - y) / ((y1 - y0) or 1) * (rows - 1))
        return r, c

    grid = [[" "] * cols for _ in range(rows)]
    for x, y, label in plane:
        r, c = place(x, y)
        grid[r][c] = MARKS[min(label, len(MARKS) - 1)]
    r, c = place(point[0], point[1])
    grid[r][c] = "●"
    return ["".join(row) for row in grid]


class MistakeGallery(Widget):
    """The mistakes shown (``show``), tiled; the caption above says which and how many."""

    DEFAULT_CSS = """
    MistakeGallery {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str = "mistake-gallery") -> None:
        super().__init__(id=id)
        self.mistakes: tuple[Mistake, ...] = ()
        self.pictures = Pictures("none")
        self.class_names: tuple[str, ...] = ()
        self.empty = "No misclassified example."

    def show(
        self,
        mistakes: Sequence[Mistake],
        pictures: Pictures,
        classes: Sequence[str],
        empty: str = "No misclassified example.",
    ) -> None:
        self.mistakes, self.pictures, self.class_names = tuple(mistakes), pictures, tuple(classes)
        self.empty = empty
        self.refresh(layout=True)

    def tile(self, mistake: Mistake) -> list[str]:
        """A mistake's picture (none when there is no picture) and its caption."""
        pictures = self.pictures
        inputs = pictures.inputs.get(mistake.index)
        if inputs is None or pictures.kind == "none":
            picture: list[str] = []
        elif pictures.kind == "plane":
            picture = plane_lines(inputs, pictures.plane)
        else:
            picture = image_lines(inputs, pictures.shape)
        true, pred = (visible(self.class_names[i])[:4] for i in (mistake.true, mistake.pred))
        caption = [f"{true}→{pred} {100 * mistake.p_pred:3.0f}%", f"#{mistake.index}"]
        return picture + caption

    def render(self) -> Text:
        if not self.mistakes:
            return Text(self.empty, style="dim")
        width = max(self.size.width, 1)
        height = max(self.size.height, 1)
        tiles = [self.tile(m) for m in self.mistakes]
        tile_width = max(len(line) for tile in tiles for line in tile)
        per_row = max(1, (width + GAP) // (tile_width + GAP))
        lines: list[str] = []
        for start in range(0, len(tiles), per_row):
            row = tiles[start : start + per_row]
            tall = max(len(tile) for tile in row)
            if lines and len(lines) + 1 + tall > height:
                break
            if lines:
                lines.append("")
            for i in range(tall):
                cells = [(t[i] if i < len(t) else "").ljust(tile_width) for t in row]
                lines.append((" " * GAP).join(cells).rstrip())
        return Text("\n".join(lines), no_wrap=True, overflow="crop")
