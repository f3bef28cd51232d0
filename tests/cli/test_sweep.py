"""``dnn-tui sweep``: a grid of real runs in processes of their own, on this machine and on Ray.

The runs are tiny (the 2-D moons, one epoch); one combination of the grid is refused by the
engine (batch norm with batches of one sample), so every test also sees a failing run while
the others complete.
"""

from __future__ import annotations

import json
import math
import signal
import statistics
import sys
from pathlib import Path

import pytest

from dnn_tui.cli import main
from dnn_tui.rundir.files import load_run
from dnn_tui.rundir.liveness import is_alive
from dnn_tui.sweeps.planning import SWEEP_FILE, load_sweep_file, summarize
from tests.helpers.cli import (
    Cli,
    epochs_done,
    read_history,
    run_cli,
    start_cli,
)
from tests.helpers.waiting import wait_for

TINY = ("--dataset", "moons", "--limit", 200, "--hidden", 8, "--epochs", 1, "--batchnorm")
GRID = ("--grid", "batch_size=1,50", "--grid", "lr=0.01,0.001")
"""Four runs; the two with batch_size 1 are refused by the engine (batch norm needs 2)."""


def check_grid_of_four(root: Path, stdout: str) -> None:
    """The four run directories, sweep.json, the progress lines and the comparison."""
    state = json.loads((root / SWEEP_FILE).read_text())
    assert state["status"] == "failed"
    assert state["grid"] == {"batch_size": ["1", "50"], "lr": ["0.01", "0.001"]}
    assert [entry["dir"] for entry in state["runs"]] == sorted(
        p.name for p in root.iterdir() if p.is_dir()
    )
    assert len(state["runs"]) == 4
    for entry in state["runs"]:
        run_dir = root / entry["dir"]
        history = read_history(run_dir)
        assert history["status"] == entry["status"]
        assert f"{entry['dir']}: {entry['status']}" in stdout  # its progress line
        if entry["values"]["batch_size"] == "1":
            assert entry["status"] == "failed"
            assert "batch_size: batch norm needs batches of at least 2" in entry["error"]
            assert history["error"] == entry["error"]
            assert history["epochs"] == []
        else:
            assert entry["status"] == "completed", entry
            run = load_run(run_dir)
            assert run.config.train.lr == float(entry["values"]["lr"])
            assert run.config.train.batch_size == 50
            assert run.weights is not None
            accs = [record["val_acc"] for record in history["epochs"]]
            best = next(r for r in history["epochs"] if r["epoch"] == history["best_epoch"])
            assert (entry["best_epoch"], entry["best_val_acc"]) == (best["epoch"], best["val_acc"])
            assert entry["max_val_acc"] == max(accs)
            assert entry["test_acc"] == history["test"]["acc"]
            # Labelled by its grid values, not by the name of the config it started from.
            assert run.config.preset == f"batch_size=50 lr={entry['values']['lr']}"
    assert "comparison" in stdout and "best val acc" in stdout


@pytest.mark.e2e
def test_a_grid_of_four_with_two_jobs(tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    done = run_cli("sweep", *TINY, *GRID, "--jobs", 2, "--out", root, cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # some run failed; the others completed
    assert "Traceback" not in done.stderr
    assert "sweep of 4 runs, 2 at once, up to 1 torch thread each" in done.stdout
    check_grid_of_four(root, done.stdout)
    state = json.loads((root / SWEEP_FILE).read_text())
    assert (state["backend"], state["jobs"], state["threads"]) == ("local", 2, 1)


@pytest.mark.e2e
def test_the_same_grid_on_a_local_ray(tmp_path, monkeypatch, capsys) -> None:
    ray = pytest.importorskip("ray")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        root = tmp_path / "sweep"
        code = main(["sweep", *map(str, (*TINY, *GRID)), "--ray", "--out", str(root)])
    finally:
        ray.shutdown()
    out = capsys.readouterr()
    assert code == 1, out.err
    check_grid_of_four(root, out.out)
    assert json.loads((root / SWEEP_FILE).read_text())["backend"] == "ray"


@pytest.mark.e2e
def test_ctrl_c_stops_every_run_and_starts_no_more(tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    long = ("--dataset", "digits", "--limit", 400, "--batch-size", 10, "--epochs", 1000)
    grid = ("--grid", "lr=0.01,0.001,0.0001", "--jobs", 2)
    driver = start_cli("sweep", *long, *grid, "--out", root, cwd=tmp_path)
    try:
        started = [root / "1-lr=0.01", root / "2-lr=0.001"]
        wait_for(lambda: all(epochs_done(path) >= 1 for path in started), "an epoch of each run")
        driver.send_signal(signal.SIGINT)  # what Ctrl-C sends to the sweep (its runs have
        stdout, stderr = driver.communicate(timeout=60)  # sessions of their own)
    finally:
        driver.kill()
    assert driver.returncode == 130, stderr
    assert "Traceback" not in stderr
    state = json.loads((root / SWEEP_FILE).read_text())
    assert state["status"] == "stopped"
    assert [entry["status"] for entry in state["runs"]] == ["stopped", "stopped", "skipped"]
    for path in started:
        assert read_history(path)["status"] == "stopped"
        assert not is_alive(path)
        assert (path / "model.safetensors").is_file()
    assert not (root / "3-lr=0.0001").exists()
    assert "stopped" in stdout


# --- refused before anything starts ---------------------------------------------------------


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("lr=0.1,abc", "--grid lr: must be"),
        ("lr=0.1,-1", "--grid lr:"),
        ("activation=relu,swish", "--grid activation:"),
        ("learning_rate=0.1", "--grid learning_rate: not a run option"),
        ("lr", "--grid lr: must be KEY=V1,V2"),
        ("lr=0.1,,0.2", "--grid lr: an empty value"),
        ("lr=0.1,0.1", "--grid lr: a value given twice"),
        ("init_std=0.1,0.2", "--grid init_std:"),
        ("hidden=16,8/abc", "--grid hidden: must be comma-separated positive integers"),
    ],
)
def test_bad_grid_values_are_refused_by_name(grid, message, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "--dataset", "moons", "--grid", grid]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # nothing made


def test_an_option_given_both_fixed_and_on_the_grid_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "--lr", "0.1", "--grid", "lr=0.1,0.2"]) == 2
    assert "--grid lr: also given as --lr" in capsys.readouterr().err


def test_without_ray_the_option_says_how_to_install_it(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    assert main(["sweep", "--dataset", "moons", "--grid", "lr=0.1,0.2", "--ray"]) == 1
    assert 'pip install "dnn-tui[ray]"' in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_a_sweep_file_is_read_and_checked_by_file_and_key(cli: Cli, tmp_path: Path) -> None:
    good = tmp_path / "lesson.toml"
    good.write_text(
        'base = "baseline"\n[train]\nepochs = 3\n'
        "[grid]\nhidden = [[16, 8], []]\nseed = [0, 1]\nbatchnorm = [true, false]\n"
    )
    config, axes = load_sweep_file(good)
    assert (config.preset, config.train.epochs) == ("baseline", 3)
    assert [(a.name, a.values) for a in axes] == [
        ("hidden", ("16,8", "none")),
        ("seed", ("0", "1")),
        ("batchnorm", ("true", "false")),
    ]
    cases = {
        "[grid]\nlr = [0.1, -2]\n": "lesson.toml: grid.lr:",
        "[grid]\nrate = [0.1]\n": "lesson.toml: grid.rate: not a run option",
        "[grid]\nlr = 0.1\n": "lesson.toml: grid.lr: must be an array",
        "[train]\nepoch = 3\n[grid]\nlr = [0.1]\n": "lesson.toml: train.epoch: unknown key",
        'base = "nope"\n[grid]\nlr = [0.1]\n': "lesson.toml: base: preset: unknown preset",
        "[train]\nepochs = 3\n": "lesson.toml: grid: missing",
    }
    for text, message in cases.items():
        good.write_text(text)
        done = cli("sweep", good, cwd=tmp_path) if "rate" in text else None
        with pytest.raises(ValueError, match=r"lesson\.toml") as error:
            load_sweep_file(good)
        assert message in str(error.value), (text, str(error.value))
        if done is not None:  # the command line says it in one line, exit 1
            assert done.returncode == 1 and message in done.stderr, done.stderr


def test_the_comparison_averages_over_seeds() -> None:
    entries = [
        {"values": {"lr": lr, "seed": str(s)}, "status": "completed", "best_val_acc": acc}
        for lr, s, acc in [("0.1", 0, 0.8), ("0.1", 1, 0.9), ("0.01", 0, 0.95), ("0.01", 1, 0.97)]
    ]
    rows = summarize(entries)
    assert [row.values for row in rows] == [{"lr": "0.01"}, {"lr": "0.1"}]
    mean, spread = rows[1].val
    assert math.isclose(mean, statistics.fmean([0.8, 0.9]))
    assert math.isclose(spread, statistics.stdev([0.8, 0.9]))
    assert rows[0].runs == 2 and rows[0].statuses == {"completed": 2}
