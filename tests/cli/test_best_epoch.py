"""One meaning of best: on a run whose top validation accuracy comes from another epoch than
its best one (lowest validation loss, the weights kept), ``runs``, ``compare`` (table and CSV),
the session summary and a sweep's record and comparison all name the best epoch's figures,
and the top validation accuracy only under its own name."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from rich.console import Console

from dnn_tui.app.session_summary import run_lines
from dnn_tui.commands.sweep import print_summary
from dnn_tui.config import RunConfig
from dnn_tui.sweeps.local import Ended, outcome
from dnn_tui.sweeps.planning import PlannedRun, summarize
from dnn_tui.training.numbers import fmt_acc
from tests.helpers.cli import Cli
from tests.helpers.run_files import SPLIT_BEST, make_split_best


def test_runs_names_the_best_epoch_and_the_top_val_acc_apart(cli: Cli, tmp_path: Path) -> None:
    make_split_best(tmp_path / "runs" / "split")
    done = cli("runs", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (entry,) = json.loads(done.stdout)
    assert entry["best_epoch"] == SPLIT_BEST.best_epoch
    assert entry["best_val_acc"] == SPLIT_BEST.best_val_acc
    assert entry["test_acc"] == SPLIT_BEST.test_acc
    assert entry["max_val_acc"] == SPLIT_BEST.max_val_acc

    table = cli("runs", cwd=tmp_path).stdout
    row = next(line for line in table.splitlines() if line.startswith("split"))
    assert f"★{SPLIT_BEST.best_epoch}" in row.split()
    assert fmt_acc(SPLIT_BEST.best_val_acc) in row and fmt_acc(SPLIT_BEST.max_val_acc) not in row


def test_compare_shows_the_best_epoch_and_the_top_val_acc_by_name(cli: Cli, tmp_path: Path) -> None:
    run = make_split_best(tmp_path / "split")
    done = cli("compare", run, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    header = next(line for line in done.stdout.splitlines() if "best epoch" in line)
    row = next(line for line in done.stdout.splitlines() if str(run.name) in line)
    cells = [cell.strip() for cell in row.split("│")]
    titles = [cell.strip() for cell in header.split("┃")]
    by_title = dict(zip(titles, cells, strict=False))
    assert by_title["best epoch"] == str(SPLIT_BEST.best_epoch)
    assert by_title["best val acc"] == fmt_acc(SPLIT_BEST.best_val_acc)
    assert by_title["test acc"] == fmt_acc(SPLIT_BEST.test_acc)
    assert by_title["top val acc"] == fmt_acc(SPLIT_BEST.max_val_acc)

    text = cli("compare", run, "--csv", "-", cwd=tmp_path).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["epoch"]) for r in rows if r["best"] == "1"] == [SPLIT_BEST.best_epoch]
    assert {r["best"] for r in rows} == {"0", "1"}


def test_the_session_summary_names_the_best_epoch_then_the_top_val_acc(tmp_path: Path) -> None:
    run = make_split_best(tmp_path / "split")
    lines = [line.plain for line in run_lines(run)]
    best = next(line for line in lines if line.startswith("best epoch"))
    assert best.startswith(f"best epoch: {SPLIT_BEST.best_epoch} (val loss 0.1000, val acc 81.1%)")
    top = f"top val acc {fmt_acc(SPLIT_BEST.max_val_acc)} at epoch {SPLIT_BEST.top_epoch}"
    assert best.endswith(top)
    assert any(line.startswith(f"test accuracy: {fmt_acc(SPLIT_BEST.test_acc)}") for line in lines)


def test_a_sweep_records_and_compares_the_best_epoch(tmp_path: Path) -> None:
    make_split_best(tmp_path / "1-lr=0.1")
    planned = PlannedRun("1-lr=0.1", "baseline", {"lr": "0.1"}, RunConfig())
    entry = {"values": {"lr": "0.1"}, **outcome(tmp_path, Ended(planned, 0), stopping=False)}
    assert entry["best_epoch"] == SPLIT_BEST.best_epoch
    assert entry["best_val_acc"] == SPLIT_BEST.best_val_acc
    assert entry["max_val_acc"] == SPLIT_BEST.max_val_acc
    assert entry["test_acc"] == SPLIT_BEST.test_acc

    (row,) = summarize([entry])
    assert row.val == (SPLIT_BEST.best_val_acc, None)
    console = Console(width=120, file=io.StringIO())
    print_summary([row], ["lr"], console)
    shown = console.file.getvalue()
    assert fmt_acc(SPLIT_BEST.best_val_acc) in shown
    assert fmt_acc(SPLIT_BEST.max_val_acc) not in shown
