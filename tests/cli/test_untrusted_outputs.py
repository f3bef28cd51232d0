"""No output of ``runs``, ``compare``, the error line or the session summary carries a raw
control character from a file or a path: each is run in-process on a run folder whose name,
preset, description and a config value hold escape sequences."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from dnn_tui import cli
from dnn_tui.app.session_summary import print_session
from tests.helpers.untrusted_runs import FOLDER, TITLE, hostile_run, raw_controls


def outputs(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_runs_shows_escapes_in_names_and_presets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile_run(tmp_path)
    for args in ((str(tmp_path),), (str(tmp_path), "--json")):
        code, text = outputs(capsys, "runs", *args)
        assert code == 0
        assert raw_controls(text) == []
    code, text = outputs(capsys, "runs", str(tmp_path))
    assert "run\\x1b]0;owned\\x07[bold red]x[/]" in text  # shown, markup and all


def test_a_damaged_run_is_named_without_its_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = hostile_run(tmp_path)
    (run / "history.json").write_text('{"schema": 2, "status": "\x1b]0;x\x07"')
    for command in ("runs", "compare"):
        _code, text = outputs(capsys, command, str(tmp_path if command == "runs" else run))
        assert "damaged" in text
        assert raw_controls(text) == []


def test_compare_shows_escapes_in_names_presets_and_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = hostile_run(tmp_path)
    plain = tmp_path / "plain"
    shutil.copytree(Path(__file__).parents[1] / "data" / "regularization-mnist" / "l2", plain)
    code, text = outputs(capsys, "compare", str(bad), str(plain))
    assert code == 0
    assert raw_controls(text) == []
    assert "\\x1b]52;c;" in text  # the preset's clipboard write, made visible


def test_the_error_line_shows_escapes_in_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / FOLDER / "gone"
    for args in (
        ("runs", str(missing)),
        ("eval", str(missing)),
        ("train", "--config", str(missing)),
        ("compare", str(missing)),
    ):
        code, text = outputs(capsys, *args)
        assert code != 0, args
        assert raw_controls(text) == [], args
        assert "\\x1b" in text, args


def test_the_session_summary_shows_escapes(tmp_path: Path) -> None:
    run = hostile_run(tmp_path)
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None, force_terminal=False)
    print_session(
        [(run, None), (run, f"failed{TITLE}"), (tmp_path / "gone", None)],
        console,
    )
    assert raw_controls(out.getvalue()) == []
    assert "\\x1b]0;owned\\x07" in out.getvalue()


def test_compare_csv_keeps_formulas_out_of_spreadsheets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    hostile_run(tmp_path, "+cmd")
    hostile_run(tmp_path, "=1+1", source="l2")
    code, _ = outputs(capsys, "compare", "+cmd", "=1+1", "--csv", "tidy.csv")
    assert code == 0
    rows = list(csv.DictReader((tmp_path / "tidy.csv").open(newline="")))
    assert {row["run"] for row in rows} == {"'+cmd", "'=1+1"}
    code = cli.main(["compare", "+cmd", "--csv", "-"])
    assert code == 0 and "\n'+cmd," in capsys.readouterr().out


def test_a_sweep_s_progress_and_summary_show_escapes() -> None:
    from dnn_tui.commands.sweep import _progress, print_summary
    from dnn_tui.sweeps.planning import Row

    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None, force_terminal=False)
    report = _progress(console)
    report({"dir": f"01-lr=0.1{TITLE}", "status": "failed", "error": f"bad{TITLE}"}, 1, 2)
    row = Row(f"base{TITLE}", {"lr": f"0.1{TITLE}"}, 1, {"completed": 1}, None, None)
    other = Row("plain", {"lr": "0.2"}, 1, {"completed": 1}, None, None)
    print_summary([row, other], ["lr"], console)
    assert raw_controls(out.getvalue()) == []
    assert "\\x1b]0;owned\\x07" in out.getvalue()
