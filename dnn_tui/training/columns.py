"""How a headless table fits the width of its terminal: columns left out by rank, names
wrapped or shortened, numbers never cut.

A table that is too wide first wraps its titles at their spaces, then narrows its name
columns (wrapped in a Rich table, shortened in the middle in a listing of one line per row),
then leaves out whole columns, the highest rank first. In a listing the key column (rank 0:
the run folder, the only unique name) is shortened last. A number is always printed whole.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

ELLIPSIS = "…"
BOX_GAP, BOX_EDGE = 3, 4
"""What a Rich table's borders and padding add: 3 between columns, 4 for the line."""


def output_width(stream: TextIO | None = None) -> int | None:
    """Columns the output may fill: ``COLUMNS`` when set, else the terminal's width; None for
    a pipe or a file (nothing is ever wrapped or left out there)."""
    text = os.environ.get("COLUMNS", "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    stream = sys.stdout if stream is None else stream
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return shutil.get_terminal_size().columns if tty else None


@dataclass(frozen=True)
class Column:
    """A column of a table: its title, its rank (0: never left out; the highest is left out
    first), and for a name (text that may be wrapped or shortened) the narrowest it may get."""

    title: str
    rank: int = 0
    name_width: int | None = None
    """None for numbers, which are never narrower than their widest cell."""
    right: bool = True


@dataclass(frozen=True)
class Layout:
    """Which columns a table shows (indices, in order) and how wide each is."""

    shown: tuple[int, ...]
    widths: tuple[int, ...]
    left_out: tuple[str, ...]
    """The titles of the columns left out, in the table's order."""


def _least(column: Column, natural: int, cells: int, wrap: bool) -> int:
    title = max((len(word) for word in column.title.split()), default=0)
    title = title if wrap else len(column.title)
    if column.name_width is None:
        return max(cells, title)
    return max(min(natural, column.name_width), title)


def fit(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    width: int | None,
    *,
    gap: int = 2,
    edge: int = 0,
    wrap: bool = True,
    key_after: int = 0,
) -> Layout:
    """The layout of rows in width columns, each column separated by gap characters, edge more
    for the whole line (a Rich table's borders; a mark after each row). Every column at its
    natural width when it fits or when the width is unknown (None).

    With wrap (a Rich table: titles and names wrap, nothing is lost) every name narrows before
    a column is left out; without (a listing of one line per row, titles on one line, names
    shortened) the key names (rank 0) narrow only once every column ranked above key_after is
    left out, and narrower than their name width only when nothing is left to leave out."""
    cells = [max((len(row[i]) for row in rows), default=0) for i in range(len(columns))]
    natural = [max(c, len(column.title)) for c, column in zip(cells, columns, strict=True)]
    least = [
        _least(column, n, c, wrap) for column, n, c in zip(columns, natural, cells, strict=True)
    ]
    order = sorted((i for i, c in enumerate(columns) if c.rank > 0), key=lambda i: -columns[i].rank)
    dropped: set[int] = set()
    while True:
        shown = [i for i in range(len(columns)) if i not in dropped]
        widths = {i: natural[i] for i in shown}
        if width is None:
            break
        excess = sum(widths.values()) + gap * (len(shown) - 1) + edge - width
        keys_narrow = wrap or all(columns[i].rank <= key_after for i in shown)
        # Titles wrap before names narrow, the widest first; a number never narrows.
        for i in sorted(shown, key=lambda i: (columns[i].name_width is not None, -widths[i])):
            if excess <= 0:
                break
            if not keys_narrow and columns[i].rank == 0 and columns[i].name_width is not None:
                continue  # a key name is shortened last
            cut = min(excess, natural[i] - least[i])
            widths[i] -= cut
            excess -= cut
        if excess <= 0:
            break
        if order:
            dropped.add(order.pop(0))
            continue
        for i in sorted(shown, key=lambda i: widths[i], reverse=True):
            if excess > 0 and columns[i].name_width is not None:  # the names get narrower still
                cut = min(excess, widths[i] - 1)
                widths[i] -= cut
                excess -= cut
        break
    return Layout(
        tuple(shown),
        tuple(widths[i] for i in shown),
        tuple(columns[i].title for i in sorted(dropped)),
    )


def shorten_middle(text: str, width: int) -> str:
    """text in at most width characters: its head and tail around an ellipsis."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    tail = (width - 1) // 2
    return text[: width - 1 - tail] + ELLIPSIS + (text[-tail:] if tail else "")


def plain_lines(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], layout: Layout, gap: int = 2
) -> list[str]:
    """The title line and a line per row, cells aligned in the layout's widths, names longer
    than their column shortened in the middle (one line per row, never wrapped)."""
    lines = []
    for row in [[column.title for column in columns], *rows]:
        parts = []
        for i, w in zip(layout.shown, layout.widths, strict=True):
            cell = shorten_middle(row[i], w)
            parts.append(cell.rjust(w) if columns[i].right else cell.ljust(w))
        lines.append((" " * gap).join(parts).rstrip())
    return lines


def left_out_note(layout: Layout, width: int | None) -> str | None:
    """A line naming the columns left out, or None when every column is shown."""
    if not layout.left_out:
        return None
    return f"(left out to fit {width} columns: {', '.join(layout.left_out)})"


def wrapped(text: str, width: int | None) -> list[str]:
    """text in lines of at most width characters, broken at spaces (one line when None)."""
    if width is None or len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_on_hyphens=False) or [text]


def _pieces(word: str, width: int, marks: str = "/-_") -> list[tuple[str, bool]]:
    """word in pieces of at most width characters, cut after its first mark that does ("/"
    before "-" before "_"), and only where no mark does, every width characters; each with
    whether it begins a part too long for a line (which then begins a line)."""
    if len(word) <= width:
        return [(word, False)]
    if not marks:
        return [(word[i : i + width], i == 0) for i in range(0, len(word), width)]
    parts = re.findall(rf"[^{re.escape(marks[0])}]*{re.escape(marks[0])}|.+$", word)
    pieces = []
    for part in parts:
        inner = _pieces(part, width, marks[1:])
        pieces += [(inner[0][0], len(part) > width), *inner[1:]]
    return pieces


def line_starts(text: str, width: int) -> list[int]:
    """Where each line after the first begins when text is wrapped in width columns: at a
    space, or in a word too long for a line after a "/" (a path), else a "-" or "_", and only
    where none is left, mid-word; a word or a part of a path too long for a line begins one.
    A number, shorter than any line, is never cut."""
    starts: list[int] = []
    begin = 0
    for match in re.finditer(r"\S+", text):
        at = match.start()
        pieces = _pieces(match[0], width)
        if len(pieces) > 1:
            pieces[0] = (pieces[0][0], True)
        for piece, fresh in pieces:
            end = at + len(piece)
            if (end - begin > width or fresh) and at > begin:
                starts.append(at)
                begin = at
            at = end
    return starts


def fold(text: str, width: int | None) -> list[str]:
    """text in lines of at most width characters (see line_starts); one line when None."""
    if width is None or len(text) <= width:
        return [text]
    bounds = [0, *line_starts(text, width), len(text)]
    return [text[a:b].rstrip() for a, b in itertools.pairwise(bounds)]


def fold_text(text: Text, width: int | None) -> list[Text]:
    """A Rich Text folded as fold folds a string, its styles kept."""
    if width is None or len(text) <= width:
        return [text]
    lines = list(text.divide(line_starts(text.plain, width)))
    for line in lines:
        line.rstrip()
    return lines


def rich_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    width: int | None,
    *,
    title: str | None = None,
) -> tuple[Table, Layout]:
    """A boxed Rich table of rows fitted to width: numbers on one line, names and titles
    wrapped in their column."""
    from rich.table import Table

    layout = fit(columns, rows, width, gap=BOX_GAP, edge=BOX_EDGE)
    table = Table(header_style="bold", title=title, title_justify="left")
    for i, w in zip(layout.shown, layout.widths, strict=True):
        column = columns[i]
        table.add_column(
            column.title,
            justify="right" if column.right else "left",
            width=w,  # numbers fit whole (see fit), titles and names wrap
            overflow="fold",
        )
    for row in rows:
        # A name is folded here, at its spaces and a path's "/": Rich would cut mid-word.
        table.add_row(
            *(
                "\n".join(fold(row[i], w)) if columns[i].name_width is not None else row[i]
                for i, w in zip(layout.shown, layout.widths, strict=True)
            )
        )
    return table, layout
