"""Text from files and paths reaches a terminal only with its control characters made visible
(``fileio.visible``): property tests of the neutraliser and of the error line."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from dnn_tui.fileio import CONTROLS, error_line, shorten_path, visible

ESCAPES = st.sampled_from(
    [
        "\x1b]0;owned\x07",  # retitles the window
        "\x1b]52;c;ZXZpbA==\x07",  # writes the clipboard
        "\x1b[2J",  # clears the screen
        "\x9b31m",  # CSI as one C1 character
        "\x9d0;t\x9c",  # OSC and ST as C1 characters
        "\x7f",
        "\r\n\t\x00",
    ]
)
HOSTILE = st.lists(st.one_of(st.text(), ESCAPES)).map("".join)
"""Any text, with escape sequences mixed in."""


def is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc" or ord(char) in CONTROLS


@settings(max_examples=1000)
@given(HOSTILE)
def test_visible_lets_no_control_character_through(text: str) -> None:
    shown = visible(text)
    assert not any(is_control(char) for char in shown)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown


@settings(max_examples=1000)
@given(HOSTILE)
def test_visible_is_idempotent_and_keeps_printable_text(text: str) -> None:
    shown = visible(text)
    assert visible(shown) == shown
    if not any(is_control(char) for char in text):
        assert shown == text


@settings(max_examples=1000)
@given(HOSTILE)
def test_error_lines_and_paths_carry_no_control_character(text: str) -> None:
    for line in (
        error_line(ValueError(text)),
        error_line(FileNotFoundError(2, "No such file or directory", text)),
        error_line(RuntimeError(text)),
        shorten_path(text),
    ):
        assert not any(is_control(char) for char in line)


def test_escapes_are_written_the_documented_way() -> None:
    assert visible("a\x1b]0;t\x07b") == "a\\x1b]0;t\\x07b"
    assert visible("\x9b\x7f\n") == "\\x9b\\x7f\\x0a"
    assert visible("\u202e") == "\\u202e"
    assert visible(123) == "123"
