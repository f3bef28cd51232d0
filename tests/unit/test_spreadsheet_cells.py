"""CSV cells are kept from being read as formulas (``fileio.spreadsheet_cell``), in every CSV the
tool writes: the tidy CSV of ``compare --csv`` and the dashboard's export, and history.csv."""

from __future__ import annotations

import csv
import io
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from dnn_tui.analysis.comparison import tidy_csv
from dnn_tui.fileio import FORMULA_STARTS, spreadsheet_cell
from dnn_tui.rundir.files import epoch_csv_row
from tests.helpers.run_files import record

FORMULAS = st.sampled_from(["=", "+", "-", "@", "\t", "\r", "=HYPERLINK(", "-2+3", "@SUM("])
CELLS = st.lists(st.one_of(st.text(), FORMULAS)).map("".join)


def is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text)) and text.strip() == text
    except ValueError:
        return False


@settings(max_examples=1000)
@given(CELLS)
def test_no_cell_starts_a_formula(text: str) -> None:
    cell = spreadsheet_cell(text)
    assert not cell.startswith(FORMULA_STARTS) or is_number(cell)
    assert cell in (text, "'" + text)


@settings(max_examples=1000)
@given(CELLS)
def test_neutralising_twice_changes_nothing(text: str) -> None:
    once = spreadsheet_cell(text)
    assert spreadsheet_cell(once) == once


@settings(max_examples=1000)
@given(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
def test_numbers_are_untouched(number: float) -> None:
    cell = spreadsheet_cell(number)
    assert cell == str(number) and type(number)(cell) == number
    assert spreadsheet_cell(str(number)) == str(number)  # a negative number stays a number


def test_the_owasp_examples() -> None:
    assert spreadsheet_cell("+cmd") == "'+cmd"
    assert spreadsheet_cell('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert spreadsheet_cell("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheet_cell("-2+3+cmd|' /C calc'!A0") == "'-2+3+cmd|' /C calc'!A0"
    assert spreadsheet_cell("\t=1") == "'\t=1" and spreadsheet_cell("\r=1") == "'\r=1"
    assert spreadsheet_cell("-0.5") == "-0.5" and spreadsheet_cell(-1e-05) == "-1e-05"
    assert spreadsheet_cell("runs/+cmd") == "runs/+cmd"


def test_the_tidy_csv_neutralises_run_names_and_presets() -> None:
    history = {"epochs": [record(1, loss=-0.25)]}
    names = ["+cmd", "=1+1", "@SUM(A1)", "-2+3", "\tx", "plain"]
    text = tidy_csv([(name, "=evil()", history) for name in names])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["run"] for row in rows] == ["'+cmd", "'=1+1", "'@SUM(A1)", "'-2+3", "'\tx", "plain"]
    assert {row["preset"] for row in rows} == {"'=evil()"}
    assert {row["train_loss"] for row in rows} == {"-0.25"}  # a negative number stays a number


def test_history_csv_cells_are_numbers_or_neutralised() -> None:
    row = next(csv.reader([epoch_csv_row({**record(1, loss=-0.5), "lr": "=cmd()"})]))
    assert "-0.5" in row and "'=cmd()" in row
