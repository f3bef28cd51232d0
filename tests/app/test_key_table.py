"""The lab's keys are described once (``dnn_tui.app.keys``): the bindings, the help's table and
the docs' table all come from the same rows."""

from __future__ import annotations

import re
from pathlib import Path

from dnn_tui.app import keys
from dnn_tui.app.app import DnnApp
from dnn_tui.app.screens.help import HELP
from dnn_tui.app.screens.lab import LabScreen

DOCS = Path(__file__).resolve().parents[2] / "docs" / "dashboard.md"
KEY_NAMES = {"plus": "+", "minus": "-", "question_mark": "?"}
"""Textual's names of keys that the table writes as they are typed."""


def test_the_markdown_table_has_a_line_per_row() -> None:
    lines = keys.keys_markdown().splitlines()
    assert lines[:2] == ["| key | what it does |", "|---|---|"]
    assert lines[2:] == [f"| {row.keys} | {row.does} |" for row in keys.LAB_KEYS]
    assert lines[2] == (
        "| `ctrl+r` | start a run with the form's settings (works even while typing) |"
    )
    assert keys.keys_markdown(()) == "| key | what it does |\n|---|---|"


def test_the_help_shows_the_table() -> None:
    assert f"\n\n{keys.keys_markdown()}\n\n" in HELP


def test_every_binding_comes_from_a_row_that_names_its_key() -> None:
    assert keys.bindings() == LabScreen.BINDINGS
    assert DnnApp.BINDINGS == keys.bindings(where="app") == list(keys.QUIT.bindings)
    for row in keys.LAB_KEYS:
        for binding in row.bindings:
            for key in binding.key.split(","):
                assert f"`{KEY_NAMES.get(key, key)}`" in row.keys, (key, row.keys)


def test_the_keys_that_start_a_run_come_first_in_the_footer() -> None:
    shown = [binding.key for binding in keys.bindings() if binding.show]
    assert shown[:2] == ["ctrl+r", "b"]
    assert shown.index("space") < shown.index("g") < shown.index("escape")


def test_the_docs_hold_the_same_table() -> None:
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(r"<!-- keys:lab -->\n(.*?)\n<!-- /keys:lab -->", text, re.S)
    assert found is not None, "docs/dashboard.md: no <!-- keys:lab --> table"
    assert found.group(1).strip() == keys.keys_markdown()
