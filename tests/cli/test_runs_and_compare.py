"""``dnn-tui runs``, ``compare --csv``, damaged runs in ``compare`` and ``eval``, and the suites
list, in-process (the ``cli`` fixture) on the fixed MNIST runs of the regularization suite."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from dnn_tui.rundir.liveness import LIVENESS_FILE, Liveness, current, hostname
from dnn_tui.training.numbers import fmt_gap
from tests.helpers.cli import Cli, read_history

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "regularization-mnist"
PRESETS = ("baseline", "l2", "dropout", "bottleneck")


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """runs/20250102-103000-suite-regularization/<preset> as ``dnn-tui suite`` lays it out."""
    root = tmp_path / "runs" / "20250102-103000-suite-regularization"
    for preset in PRESETS:
        shutil.copytree(FIXTURES / preset, root / preset)
    return root


def damage(run: Path, change) -> None:
    history = json.loads((run / "history.json").read_text())
    change(history)
    (run / "history.json").write_text(json.dumps(history))


def test_compare_csv_to_stdout_has_one_header_and_a_row_per_epoch(
    cli: Cli, suite: Path, tmp_path: Path
) -> None:
    done = cli("compare", *(suite / p for p in PRESETS), "--csv", "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0][:3] == ["run", "preset", "epoch"]
    assert len(rows) == 1 + 80
    assert [row[1] for row in rows[1::20]] == list(PRESETS)
    history = read_history(suite / "l2")
    l2 = [row for row in rows[1:] if row[1] == "l2"]
    assert [float(row[rows[0].index("val_acc")]) for row in l2] == [
        record["val_acc"] for record in history["epochs"]
    ]


def test_compare_csv_to_a_file(cli: Cli, suite: Path, tmp_path: Path) -> None:
    target = tmp_path / "all.csv"
    done = cli("compare", suite / "baseline", suite / "dropout", "--csv", target, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote {target}: 40 rows of 2 runs\n"
    assert len(target.read_text().splitlines()) == 41


def test_compare_shows_gaps_and_the_settings_that_differ(
    cli: Cli, suite: Path, tmp_path: Path
) -> None:
    done = cli("compare", *(suite / p for p in PRESETS), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "settings that differ" in done.stdout
    for setting in ("model.hidden", "model.dropout", "train.l2"):
        assert setting in done.stdout
    for preset in PRESETS:
        epochs = read_history(suite / preset)["epochs"]
        assert fmt_gap(epochs[-1]["train_acc"] - epochs[-1]["val_acc"]) in done.stdout


def test_compare_skips_damaged_runs_names_them_and_exits_1(
    cli: Cli, suite: Path, tmp_path: Path
) -> None:
    damage(suite / "l2", lambda h: h.update(test=[1]))
    damage(suite / "dropout", lambda h: h["epochs"][3].update(val_acc="x"))
    (suite / "bottleneck" / "history.json").unlink()
    os.mkfifo(suite / "bottleneck" / "history.json")
    done = cli("compare", *(suite / p for p in PRESETS), cwd=tmp_path)
    assert done.returncode == 1
    assert str(suite / "baseline") in done.stdout
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"dnn-tui: damaged run: {suite / 'l2' / 'history.json'}: test: "
        "must be a JSON object or null, got [1]",
        f"dnn-tui: damaged run: {suite / 'dropout' / 'history.json'}: epochs[3].val_acc: "
        'must be a number from 0 to 1 or null, got "x"',
        f"dnn-tui: damaged run: {suite / 'bottleneck' / 'history.json'}: "
        "not read: a FIFO, not a regular file",
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda h: h.update(test=[1]), "test"),
        (lambda h: h["epochs"][0].update(val_acc="x"), "epochs[0].val_acc"),
        (lambda h: h.update(dataset="digits"), "dataset"),
    ],
)
def test_eval_names_the_damaged_file_and_field(
    cli: Cli, digits_run, tmp_path: Path, change, field: str
) -> None:
    run = tmp_path / "run"
    shutil.copytree(digits_run[0], run)
    damage(run, change)
    done = cli("eval", run, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith(f"dnn-tui: error: {run / 'history.json'}: {field}: must be")
    assert len(done.stderr.splitlines()) == 1


def test_runs_lists_suites_with_their_status(cli: Cli, suite: Path, tmp_path: Path) -> None:
    root = suite.parent
    shutil.copytree(FIXTURES / "baseline", root / "20250103-090000-baseline")
    damage(root / "20250103-090000-baseline", lambda h: h.update(status="running"))
    now = time.time()
    child = subprocess.Popen(["true"])
    child.wait()
    dead = Liveness(child.pid, hostname(), now, now)
    (root / "20250103-090000-baseline" / LIVENESS_FILE).write_text(dead.to_json())
    shutil.copytree(FIXTURES / "l2", root / "broken")
    damage(root / "broken", lambda h: h.update(epochs={}))

    done = cli("runs", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    listed = {entry["name"]: entry for entry in json.loads(done.stdout)}
    names = [os.path.join(suite.name, preset) for preset in PRESETS]
    assert set(listed) == {*names, "20250103-090000-baseline", "broken"}
    for name, preset in zip(names, PRESETS, strict=True):
        history = read_history(root / name)
        entry = listed[name]
        assert (entry["preset"], entry["dataset"], entry["status"]) == (preset, "idx", "completed")
        assert entry["epochs"] == entry["planned_epochs"] == 20
        best = next(r for r in history["epochs"] if r["epoch"] == history["best_epoch"])
        assert (entry["best_epoch"], entry["best_val_acc"]) == (best["epoch"], best["val_acc"])
        assert entry["max_val_acc"] == max(r["val_acc"] for r in history["epochs"])
        assert entry["test_acc"] == history["test"]["acc"]
        assert entry["age_s"] >= 0
    assert listed["20250103-090000-baseline"]["status"] == "interrupted"
    assert listed["broken"]["status"] == "damaged"
    broken = Path("runs", "broken", "history.json")  # as the folder was named: ./runs
    problem = f"{broken}: epochs: must be a list of epoch records, got {{}}"
    assert listed["broken"]["problem"] == problem
    assert done.stderr == f"dnn-tui: damaged run: {problem}\n"

    table = cli("runs", root, cwd=tmp_path)
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == [
        "run",
        "preset",
        "dataset",
        "status",
        "epochs",
        "best",
        "val",
        "acc",
        "test",
        "age",
    ]
    assert lines[-1].startswith("★ best epoch (lowest val loss")
    row = next(line for line in lines if line.startswith(names[3]))
    assert row.split()[1:5] == ["bottleneck", "idx", "completed", "20/20"]
    assert any("interrupted" in line for line in lines)


def test_runs_in_a_folder_that_is_not_there(cli: Cli, tmp_path: Path) -> None:
    done = cli("runs", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == (
        "dnn-tui: error: runs: no such folder (runs are saved under ./runs by default)\n"
    )


def test_suites_are_listed_and_batch_is_batching(cli: Cli, tmp_path: Path) -> None:
    done = cli("suite", "--list", cwd=tmp_path)
    assert done.returncode == 0
    listed = dict(line.split(None, 1) for line in done.stdout.splitlines())
    assert set(listed) == {
        "regularization",
        "gradients",
        "batching",
        "clipping",
        "depth",
        "ensemble",
    }
    assert listed["batching"] == "full-batch, baseline, small-batch"
    assert listed["ensemble"] == "baseline with seeds 0, 1, 2, then their ensemble"
    out = tmp_path / "suite"
    done = cli(
        "suite",
        "batch",
        "--dataset",
        "digits",
        "--limit",
        60,
        "--epochs",
        1,
        "--out",
        out,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["baseline", "full-batch", "small-batch"]
    nameless = cli("suite", cwd=tmp_path)
    assert nameless.returncode == 2
    assert "dnn-tui suite --list" in nameless.stderr


def test_the_dashboard_refuses_a_runs_folder_that_is_a_file(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "runs").write_text("not a folder")
    done = cli("tui", "--runs", tmp_path / "runs", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == (
        f"dnn-tui: error: {tmp_path / 'runs'}: --runs must be a folder, and this is a file\n"
    )


def test_runs_shows_a_run_gone_before_its_history_as_interrupted(cli: Cli, tmp_path: Path) -> None:
    """Directories that hold only the claim (liveness.json) or the claim and config.toml: the
    process went while loading its data, so the run is interrupted, never damaged."""
    root = tmp_path / "runs"
    child = subprocess.Popen(["true"])
    child.wait()
    now = time.time()
    dead = Liveness(child.pid, hostname(), now, now).to_json()
    claimed = root / "20250104-080000-custom"
    claimed.mkdir(parents=True)
    (claimed / LIVENESS_FILE).write_text(dead)
    configured = root / "20250104-080100-dropout"
    configured.mkdir()
    shutil.copy(FIXTURES / "dropout" / "config.toml", configured)
    (configured / LIVENESS_FILE).write_text(dead)
    loading = root / "20250104-080200-l2"  # this test's own process: alive
    loading.mkdir()
    shutil.copy(FIXTURES / "l2" / "config.toml", loading)
    (loading / LIVENESS_FILE).write_text(current().to_json())

    done = cli("runs", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    listed = {entry["name"]: entry for entry in json.loads(done.stdout)}
    assert {name: entry["status"] for name, entry in listed.items()} == {
        claimed.name: "interrupted",
        configured.name: "interrupted",
        loading.name: "running",
    }
    assert listed[configured.name]["preset"] == "dropout"
    assert (listed[configured.name]["epochs"], listed[configured.name]["planned_epochs"]) == (0, 20)
    assert listed[configured.name]["problem"] is None

    table = cli("runs", cwd=tmp_path)
    assert table.returncode == 0
    rows = {line.split()[0]: line.split() for line in table.stdout.splitlines()[1:]}
    assert rows[claimed.name][1:5] == ["custom", "-", "interrupted", "0"]
    assert rows[configured.name][1:5] == ["dropout", "idx", "interrupted", "0/20"]
    assert "running" in rows[loading.name]
