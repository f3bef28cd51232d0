"""At 80 columns every headless table and line fits, and no number is cut: columns are left
out by rank, names are wrapped or shortened, and the numbers are the files' values written as
the dashboard writes them (``training.numbers``)."""

from __future__ import annotations

import io
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from dnn_tui import config as cfg
from dnn_tui.rundir.readings import best_val_acc
from dnn_tui.training.columns import Column, fit, plain_lines
from dnn_tui.training.events import EpochEnded
from dnn_tui.training.numbers import fmt_acc, fmt_acc_spread, fmt_loss, fmt_norm
from dnn_tui.training.report import Report
from tests.helpers.cli import Cli, read_history
from tests.helpers.run_files import make_run, record, started

WIDTH = 80
LONG = "a-run-folder-whose-name-goes-on-and-on-past-any-terminal-width-" + "x" * 40
PRESETS = ("baseline", "l2", "dropout", "bottleneck")
TINY = 1.6e-5


def assert_fits(text: str, width: int = WIDTH) -> list[str]:
    """The lines of text: none wider than width, no number cut by an ellipsis."""
    lines = text.splitlines()
    wide = [line for line in lines if len(line) > width]
    assert not wide, f"{len(wide)} lines over {width}: {wide[:3]}"
    cut = [line for line in lines if re.search(r"\d…|…\d|[.%]…", line)]
    assert not cut, cut
    return lines


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """runs/ holding the regularization suite's four runs and a copy of one with a very long
    folder name."""
    root = tmp_path / "runs"
    for preset in PRESETS:
        make_run(root / "suite" / preset, preset)
    make_run(root / LONG, "l2")
    return root


def make_tiny(path: Path) -> Path:
    """A finished run whose losses are about 1e-5 (a model that learned its data by heart)."""
    make_run(path)
    history = json.loads((path / "history.json").read_text())
    for record_ in history["epochs"]:
        record_["train_loss"], record_["val_loss"] = TINY / 2, TINY
    (path / "history.json").write_text(json.dumps(history))
    return path


def test_runs_gives_one_whole_line_per_run_at_80_columns(cli: Cli, folder: Path) -> None:
    done = cli("runs", folder, cwd=folder.parent, columns=WIDTH)
    assert done.returncode == 0, done.stderr
    lines = assert_fits(done.stdout)
    assert lines[0].split()[0] == "run"
    rows = lines[1 : 1 + len(PRESETS) + 1]  # one line per run, never two
    assert len([line for line in rows if line.startswith(("suite/", "a-run"))]) == len(rows)
    long_row = next(line for line in rows if line.startswith("a-run"))
    assert "…" in long_row.split()[0] and long_row.split()[0].endswith("x" * 5)
    for row in rows:
        name = row.split()[0]
        path = folder / LONG if name.startswith("a-run") else folder / name
        history = read_history(path)
        assert fmt_acc(best_val_acc(history)) in row.split()
        assert fmt_acc(history["test"]["acc"]) in row.split()
    assert any(line.startswith("(left out to fit 80 columns:") for line in lines)


def test_runs_keeps_every_column_when_wide(cli: Cli, folder: Path) -> None:
    done = cli("runs", folder, cwd=folder.parent, columns=200)
    header = done.stdout.splitlines()[0].split()
    titles = ["run", "preset", "dataset", "status", "epochs", "best", "val acc", "test", "age"]
    assert header == " ".join(titles).split()
    assert LONG in done.stdout and "left out" not in done.stdout


def test_compare_fits_80_columns_with_a_long_folder(cli: Cli, folder: Path) -> None:
    runs = [folder / "suite" / p for p in PRESETS] + [folder / LONG]
    done = cli("compare", *runs, cwd=folder.parent, columns=WIDTH)
    assert done.returncode == 0, done.stderr
    lines = assert_fits(done.stdout)
    rows = [line for line in lines if re.match(r"│ \S │", line)]
    assert len(rows) == len(runs)
    shown = {line.split("│")[4].strip() for line in rows}  # best val acc
    assert shown == {fmt_acc(best_val_acc(read_history(run))) for run in runs}
    assert "(left out to fit 80 columns:" in done.stdout
    # The long folder is wrapped in its column, whole.
    assert LONG in "".join(line.split("│")[-2].strip() for line in lines if "│" in line)


def test_compare_writes_a_tiny_loss_as_the_dashboard_does(cli: Cli, tmp_path: Path) -> None:
    run = make_tiny(tmp_path / "tiny")
    done = cli("compare", run, cwd=tmp_path, columns=150)
    assert done.returncode == 0, done.stderr
    assert_fits(done.stdout, 150)
    assert fmt_loss(TINY) == "1.6e-5"
    (row,) = [line for line in done.stdout.splitlines() if re.match(r"│ \S │", line)]
    assert "1.6e-5" in row and "8.0e-6" in row and "0.0000" not in row


def test_compare_per_class_fits(cli: Cli, tmp_path: Path, digits_run) -> None:
    run, _ = digits_run
    copy = shutil.copytree(run, tmp_path / LONG)
    done = cli("compare", "--per-class", run, copy, cwd=tmp_path, columns=WIDTH)
    assert done.returncode == 0, done.stderr
    assert_fits(done.stdout)
    evaluation = json.loads((run / "evaluation.json").read_text())
    assert fmt_acc(evaluation["acc"]) in done.stdout


def test_eval_fits_with_a_long_path(cli: Cli, tmp_path: Path, digits_run) -> None:
    run, _ = digits_run
    copy = shutil.copytree(run, tmp_path / LONG)
    done = cli("eval", copy, cwd=tmp_path, columns=WIDTH)
    assert done.returncode == 0, done.stderr
    assert_fits(done.stdout)
    joined = done.stdout.replace("\n", "")
    assert str(copy) in joined  # folded, whole
    recorded = fmt_acc(read_history(run)["test"]["acc"])
    assert f"the run recorded test accuracy {recorded}" in done.stdout


def test_eval_confusion_of_10_classes_fits(cli: Cli, tmp_path: Path, digits_run) -> None:
    run, _ = digits_run
    copy = shutil.copytree(run, tmp_path / LONG)
    done = cli("eval", copy, "--confusion", cwd=tmp_path, columns=WIDTH)
    assert done.returncode == 0, done.stderr
    lines = assert_fits(done.stdout)
    evaluation = json.loads((run / "evaluation.json").read_text())
    at = next(i for i, line in enumerate(lines) if line.split()[:1] == ["true"])
    assert lines[at].split()[1:11] == [str(c) for c in range(10)]  # every class shown
    rows = [line.split() for line in lines[at + 1 : at + 11]]
    assert [row[-2] for row in rows] == [fmt_acc(a) for a in evaluation["per_class_acc"]]


def test_eval_ensemble_fits(cli: Cli, tmp_path: Path, digits_run) -> None:
    run, _ = digits_run
    copy = shutil.copytree(run, tmp_path / LONG)
    done = cli("eval", "--ensemble", run, copy, cwd=tmp_path, columns=WIDTH)
    assert done.returncode == 0, done.stderr
    lines = assert_fits(done.stdout)
    score = json.loads(cli("eval", "--ensemble", run, copy, "--json", cwd=tmp_path).stdout)
    ensemble = next(line for line in lines if re.match(r"ensemble +\d", line))
    whole = score["ensemble"]
    assert ensemble.split()[1:] == [fmt_acc(whole["acc"]), fmt_loss(whole["loss"])]


def test_train_lines_fit_and_show_the_history(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / LONG
    done = cli(
        "train",
        *("--dataset", "digits", "--limit", 200, "--epochs", 2, "--early-stopping", 1),
        *("--out", out),
        cwd=tmp_path,
        columns=WIDTH,
    )
    assert done.returncode == 0, done.stderr
    lines = assert_fits(done.stdout)
    header = next(line for line in lines if line.split()[:1] == ["epoch"])
    titles = re.split(r"\s{2,}", header.strip())
    assert titles[:5] == ["epoch", "loss", "acc", "val loss", "val acc"]
    rows = [line.split() for line in lines if re.match(r"\s+\d+\s+\d", line)]
    history = read_history(out)
    for row, epoch in zip(rows, history["epochs"], strict=True):
        assert row[1:5] == [
            fmt_loss(epoch["train_loss"]),
            fmt_acc(epoch["train_acc"]),
            fmt_loss(epoch["val_loss"]),
            fmt_acc(epoch["val_acc"]),
        ]
        assert row[5] == fmt_norm(epoch["grad_norm"][0])
    assert str(out) in done.stdout.replace("\n", "")


def test_train_rows_write_a_tiny_loss_whole_at_80_columns() -> None:
    out = io.StringIO()
    report = Report(Console(file=out, width=WIDTH, force_terminal=False))
    report(started())
    report(EpochEnded(record(1, loss=TINY), 1, 3))
    row = out.getvalue().splitlines()[-1]
    assert len(row) <= WIDTH
    assert row.split()[:2] == ["1", "1.6e-5"] and row.endswith("*")


def test_the_suite_closing_tables_fit(cli: Cli, tmp_path: Path) -> None:
    done = cli(
        "suite",
        "ensemble",
        *("--dataset", "digits", "--limit", 200, "--epochs", 1, "--out", tmp_path / LONG),
        cwd=tmp_path,
        columns=WIDTH,
    )
    assert done.returncode == 0, done.stderr
    lines = assert_fits(done.stdout)
    closing = lines[lines.index("== suite ensemble: comparison ==") :]
    rows = [line for line in closing if re.match(r"│ \S │", line)]
    assert len(rows) == 3
    runs = [tmp_path / LONG / f"baseline-seed{seed}" for seed in range(3)]
    shown = {line.split("│")[4].strip() for line in rows}
    assert shown == {fmt_acc(best_val_acc(read_history(run))) for run in runs}
    assert "== suite ensemble: ensemble ==" in closing


def test_the_sweep_summary_fits(tmp_path: Path) -> None:
    from dnn_tui.commands.sweep import print_summary
    from dnn_tui.sweeps.planning import Row

    rows = [
        Row(
            base=preset,
            values={"lr": lr, "hidden": "512,256,128,64,32"},
            runs=3,
            statuses={"completed": 3},
            val=(0.9123, 0.0041),
            test=(0.9057, None),
            ensemble=0.9201,
        )
        for preset in ("baseline", "deep-relu-he-with-a-long-name")
        for lr in ("0.001", "0.0001")
    ]
    console = Console(width=WIDTH, file=io.StringIO())
    print_summary(rows, ["lr", "hidden", "seed"], console)
    lines = assert_fits(console.file.getvalue())
    assert sum(fmt_acc_spread(0.9123, 0.0041) in line for line in lines) == len(rows)
    assert fmt_acc_spread(0.9123, 0.0041) == "91.2% ± 0.4"


def test_fit_leaves_out_the_highest_rank_first_and_shortens_the_key_last() -> None:
    columns = [Column("name", 0, name_width=8, right=False), Column("a", 1), Column("b", 2)]
    rows = [["x" * 30, "1.00", "2.00"]]
    assert fit(columns, rows, None).shown == (0, 1, 2)
    layout = fit(columns, rows, 36, wrap=False)
    assert layout.shown == (0, 1) and layout.left_out == ("b",)
    narrow = fit(columns, rows, 20, wrap=False)
    assert narrow.shown == (0,) and narrow.widths == (20,)
    (line,) = plain_lines(columns, rows, layout)[1:]
    assert len(line) <= 36 and line.endswith("1.00")


def test_early_stopping_counts_in_short_words_at_80_columns() -> None:
    out = io.StringIO()
    report = Report(Console(file=out, width=WIDTH, force_terminal=False))
    config = cfg.with_options(started().config, {"early_stopping": 3, "epochs": 10})
    report(replace(started(), config=config))
    for epoch, best in ((1, 1), (2, 1)):
        report(EpochEnded(record(epoch), best, 10))
    first, second = out.getvalue().splitlines()[-2:]
    assert first.endswith("*") and second.endswith("wait 1/3")
    assert len(first) <= WIDTH and len(second) <= WIDTH


def test_presets_fit_when_columns_is_set(cli: Cli, tmp_path: Path) -> None:
    done = cli("presets", cwd=tmp_path, columns=WIDTH)
    assert done.returncode == 0, done.stderr
    assert_fits(done.stdout)
    assert cli("presets", cwd=tmp_path).stdout.splitlines()[0].startswith("baseline  ")


def subcommands() -> list[str]:
    """Every command the parser knows, as ``dnn-tui --help`` lists them."""
    import argparse

    from dnn_tui.cli import build_parser

    (commands,) = (a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return list(commands.choices)


@pytest.mark.parametrize("command", ["", *subcommands()])
def test_help_fits_80_columns(cli: Cli, tmp_path: Path, command: str) -> None:
    done = cli(*filter(None, [command]), "--help", cwd=tmp_path, columns=WIDTH)
    assert done.returncode == 0, done.stderr
    lines = assert_fits(done.stdout)
    assert lines[0].startswith("usage: dnn-tui")
    # A long list of choices is named in the usage and spelled out, whole, in its help.
    text = " ".join(done.stdout.split())
    if "--dataset" in text:
        assert "--dataset DATASET" in text
        assert "DATASET is one of: auto, mnist, fashion-mnist, kmnist, digits" in text


def test_help_lists_short_choices_in_the_usage_when_wide(cli: Cli, tmp_path: Path) -> None:
    done = cli("train", "--help", cwd=tmp_path, columns=200)
    assert "[--dataset {auto,mnist,fashion-mnist," in done.stdout
    assert "[--device {auto,cpu,cuda,mps}]" in cli("train", "--help", cwd=tmp_path).stdout


def test_errors_fold_at_spaces_and_at_a_paths_slashes(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path.joinpath(*[f"folder-{i:02d}" for i in range(12)], "run")
    done = cli("eval", missing, cwd=tmp_path, columns=WIDTH)
    assert done.returncode != 0
    lines = assert_fits(done.stderr)
    assert len(lines) > 1 and lines[0].startswith("dnn-tui: ")
    assert all(line.endswith(("/", ":")) or " " in line for line in lines[:-1])
    assert str(missing) in "".join(lines)  # folded, whole
    usage = cli("train", "--dataset", "x" * 30, "--activaton", "relu", cwd=tmp_path, columns=40)
    assert usage.returncode == 2
    assert_fits(usage.stderr, 40)
    assert "did you mean '--activation'?" in " ".join(usage.stderr.split())
    assert len(cli("eval", missing, cwd=tmp_path).stderr.splitlines()) == 1  # a pipe: one line


def test_compare_folds_a_long_path_at_its_slashes(cli: Cli, tmp_path: Path) -> None:
    run = Path(*[f"folder-{i:02d}" for i in range(10)], "run")
    make_run(tmp_path / run)
    done = cli("compare", run, cwd=tmp_path, columns=WIDTH)
    lines = assert_fits(done.stdout)
    cells = [line.split("│")[-2].strip() for line in lines if line.count("│") > 2]
    name = next(i for i, cell in enumerate(cells) if cell.startswith("folder-00/"))
    pieces = cells[name : cells.index("", name) if "" in cells[name:] else None]
    assert len(pieces) > 1 and all(piece.endswith("/") for piece in pieces[:-1])


def test_a_continued_run_counts_all_its_epochs(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / LONG
    first = ("--dataset", "digits", "--limit", 200, "--epochs", 3, "--out", out)
    assert cli("train", *first, cwd=tmp_path).returncode == 0
    done = cli("train", "--resume", out, "--epochs", 6, cwd=tmp_path, columns=WIDTH)
    assert done.returncode == 0, done.stderr
    lines = assert_fits(done.stdout)
    history = read_history(out)
    assert len(history["epochs"]) == 6
    (status,) = [line for line in lines if line.startswith("status:")]
    assert status.startswith("status: completed after 6 epochs (continued from epoch 3) in ")


def test_a_best_epoch_before_the_continuation_is_named() -> None:
    from dnn_tui.training.report import summary_lines

    epochs = [{"epoch": e, "val_loss": 1.0, "val_acc": 0.5} for e in (4, 5, 6)]
    lines = [
        line.plain
        for line in summary_lines(
            "completed",
            epochs,
            "in 1.0 s",
            best_epoch=2,
            test={"acc": 0.75, "loss": 0.5},
            diverged=None,
            continued_from=3,
        )
    ]
    assert lines == [
        "status: completed after 6 epochs (continued from epoch 3) in 1.0 s",
        "best epoch: 2 (before the run was continued)",
        f"test accuracy: {fmt_acc(0.75)} (test loss {fmt_loss(0.5)})",
    ]


def test_the_dashboards_closing_summary_fits(tmp_path: Path) -> None:
    from dnn_tui.app.session_summary import print_session

    deep = make_run(tmp_path.joinpath(*[f"folder-{i:02d}" for i in range(8)], LONG))
    continued = make_run(tmp_path / "continued", resumed=[{"epoch": 3, "epochs": 20}])
    console = Console(width=WIDTH, file=io.StringIO())
    print_session([(deep, "a failure " * 20), (continued, None)], console)
    lines = assert_fits(console.file.getvalue())
    assert str(deep) in "".join(lines)  # folded, whole
    assert lines[1].endswith("/") and lines[2].endswith("/")  # at its "/"s
    assert lines[3].endswith("-")  # a name longer than a line: at a "-"
    history = read_history(continued)
    epochs = len(history["epochs"])
    assert f"status: completed after {epochs} epochs (continued from epoch 3)" in "\n".join(lines)


def test_eval_trace_and_boundary_fit_with_a_long_path(
    cli: Cli, tmp_path: Path, digits_run, moons_run
) -> None:
    for run, extra in ((digits_run[0], ("--trace",)), (moons_run[0], ("--boundary",))):
        copy = shutil.copytree(run, tmp_path / LONG / run.name)
        done = cli("eval", copy, *extra, cwd=tmp_path, columns=WIDTH)
        assert done.returncode == 0, done.stderr
        lines = assert_fits(done.stdout)
        assert str(copy) in "".join(lines)  # folded, whole
        assert lines[0].endswith("/")  # at the path's "/"


def test_export_fits_with_a_long_path(cli: Cli, tmp_path: Path, digits_run) -> None:
    pytest.importorskip("tensorboardX")
    copy = shutil.copytree(digits_run[0], tmp_path / "runs" / LONG)
    done = cli("export", copy, "--tensorboard", tmp_path / "tb", cwd=tmp_path, columns=WIDTH)
    assert done.returncode == 0, done.stderr
    lines = assert_fits(done.stdout)
    epochs = len(read_history(copy)["epochs"])
    assert "".join(lines) == f"{copy} ->{tmp_path / 'tb' / LONG}: {epochs} epochs"


def test_compare_importance_fits(cli: Cli, tmp_path: Path) -> None:
    runs = [
        {
            "dir": f"run-{i}",
            "values": {"lr": lr, "early_stopping": patience},
            "status": "completed",
            "best_val_loss": 0.5 + float(lr) * 3 + 0.01 * int(patience) + 0.001 * i,
        }
        for i, (lr, patience) in enumerate(
            (lr, patience) for lr in ("0.1", "0.01", "0.001") for patience in ("0", "5")
        )
    ]
    grid = {"lr": ["0.1", "0.01", "0.001"], "early_stopping": ["0", "5"]}
    state = {"schema": 1, "status": "completed", "grid": grid, "runs": runs}
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "sweep.json").write_text(json.dumps(state))
    for width in (WIDTH, 50):
        done = cli("compare", tmp_path / "sweep", "--importance", cwd=tmp_path, columns=width)
        assert done.returncode == 0, done.stderr
        lines = assert_fits(done.stdout, width)
        shares = [line.split() for line in lines if re.search(r"\d%$", line)]
        assert [share[0] for share in shares] == ["lr", "early_stopping"]
        assert lines[-1].split()[:2] == ["lr", "early_stopping"]  # the figure's axes


def test_a_sweep_with_a_long_folder_fits(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "sweeps" / LONG
    done = cli(
        "sweep",
        *("--dataset", "digits", "--limit", 200, "--epochs", 1, "--grid", "lr=0.01,0.1"),
        *("--jobs", 1, "--out", out),
        cwd=tmp_path,
        columns=WIDTH,
    )
    assert done.returncode == 0, done.stderr
    lines = assert_fits(done.stdout)
    assert str(out) in "".join(lines)  # folded at its "/" and "-", whole
    title = next(i for i, line in enumerate(lines) if line.startswith("== sweep"))
    assert "".join(lines[title : title + 5]).startswith(f"== sweep custom: comparison({out})")
