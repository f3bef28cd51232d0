"""``compare --csv FILE`` writes only a new or a regular file, atomically, never through a link,
and never over a run's or a sweep's own files; everything else is refused by name (exit 1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dnn_tui import cli
from dnn_tui.analysis.comparison import write_tidy_csv
from dnn_tui.fileio import WriteRefused
from tests.helpers.untrusted_runs import hostile_run


def compare_csv(
    capsys: pytest.CaptureFixture[str], run: Path, target: Path | str
) -> tuple[int, str]:
    code = cli.main(["compare", str(run), "--csv", str(target)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_special_files_and_links_are_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = hostile_run(tmp_path, "run")
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    link = tmp_path / "link.csv"
    link.symlink_to(outside)
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "nowhere.csv")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for target, words in (
        (link, "a symbolic link"),
        (dangling, "a symbolic link"),
        (fifo, "a FIFO"),
        (Path("/dev/null"), "a character device"),
        (tmp_path, "a directory"),
    ):
        code, text = compare_csv(capsys, run, target)
        assert code == 1, target
        assert words in text and "only a new or regular file is written" in text, text
    assert outside.read_text() == "keep me" and link.is_symlink() and dangling.is_symlink()
    assert not (tmp_path / "nowhere.csv").exists()
    assert fifo.is_fifo()


def test_a_run_s_own_files_are_never_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = hostile_run(tmp_path, "run")
    before = {name: (run / name).read_bytes() for name in ("history.json", "config.toml")}
    (run / "notes.csv").write_text("mine")
    for name in ("history.json", "config.toml", "history.csv", "events.jsonl", "notes.csv"):
        code, text = compare_csv(capsys, run, run / name)
        assert code == 1, name
        assert "the folder holds a run or a sweep" in text and name in text
    assert {name: (run / name).read_bytes() for name in before} == before
    assert (run / "notes.csv").read_text() == "mine"
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "sweep.json").write_text("{}")
    code, text = compare_csv(capsys, run, sweep / "sweep.json")
    assert code == 1 and (sweep / "sweep.json").read_text() == "{}"
    # A new file beside a run, and any regular file elsewhere, are written.
    code, _ = compare_csv(capsys, run, run / "new.csv")
    assert code == 0 and (run / "new.csv").read_text().startswith("run,preset,")
    elsewhere = tmp_path / "old.csv"
    elsewhere.write_text("old")
    code, _ = compare_csv(capsys, run, elsewhere)
    assert code == 0 and elsewhere.read_text().startswith("run,preset,")


def test_a_target_swapped_for_a_link_before_the_rename_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    target = tmp_path / "out.csv"
    real_fsync = os.fsync

    def swap(fd: int) -> None:  # between the first check and the rename
        real_fsync(fd)
        target.symlink_to(outside)

    monkeypatch.setattr(os, "fsync", swap)
    with pytest.raises(WriteRefused, match="a symbolic link"):
        write_tidy_csv(target, "run\n")
    assert outside.read_text() == "keep me" and target.is_symlink()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
