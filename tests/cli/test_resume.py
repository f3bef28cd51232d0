"""``train --resume RUN_DIR``: a run goes on from its checkpoint in its own directory, exactly
as if it had never stopped; what cannot be continued is refused, naming the file or option."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import Cli, read_history

RUN = ("--dataset", "digits", "--limit", 600, "--hidden", "32,16", "--dropout", 0.3)
"""A small run whose dropout draws random numbers: the checkpoint must carry their state."""
REPEATED = ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "grad_norm_total")
"""The numbers of an epoch that a repeated run reproduces (not its seconds)."""
LISTS = ("grad_norm", "weight_norm")


def train(cli: Cli, out: Path, *args: object) -> subprocess.CompletedProcess[str]:
    done = cli("train", *RUN, "--threads", 1, "--out", out, *args, cwd=out.parent)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def three_epochs(cli: Cli, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    train(cli, out, "--epochs", 3)
    return out


def assert_same_epochs(a: list[dict], b: list[dict]) -> None:
    assert [r["epoch"] for r in a] == [r["epoch"] for r in b]
    for x, y in zip(a, b, strict=True):
        for key in REPEATED:
            assert x[key] == pytest.approx(y[key], abs=1e-6), (x["epoch"], key)
        for key in LISTS:
            assert x[key] == pytest.approx(y[key], abs=1e-6), (x["epoch"], key)


def test_extending_a_run_gives_the_numbers_of_an_uninterrupted_one(
    cli: Cli, three_epochs: Path, tmp_path: Path
) -> None:
    checkpoint = json.loads((three_epochs / "checkpoint.json").read_text())
    assert checkpoint["epoch"] == 3  # the last epoch's state, written when the run ended
    done = cli("train", "--resume", three_epochs, "--epochs", 6, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "continued after epoch 3" in done.stdout
    whole = tmp_path / "whole"
    train(cli, whole, "--epochs", 6)

    resumed, uninterrupted = read_history(three_epochs), read_history(whole)
    assert resumed["status"] == "completed"
    assert resumed["config"]["train"]["epochs"] == 6
    assert_same_epochs(resumed["epochs"], uninterrupted["epochs"])
    assert resumed["best_epoch"] == uninterrupted["best_epoch"]
    assert resumed["test"]["acc"] == uninterrupted["test"]["acc"]
    assert resumed["initial"] == uninterrupted["initial"]  # the first run's start, kept
    assert resumed["resumed"] == [{"epoch": 3, "epochs": 6, "status": "completed"}]
    rows = (three_epochs / "history.csv").read_text().splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == ["1", "2", "3", "4", "5", "6"]
    lines = (three_epochs / "events.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    ended = [e["record"]["epoch"] for e in events if e["event"] == "EpochEnded"]
    assert ended == [1, 2, 3, 4, 5, 6]
    assert [e["event"] for e in events].count("RunStarted") == 1
    assert [e["event"] for e in events].count("RunFinished") == 1
    resumed_events = [e for e in events if e["event"] == "RunResumed"]
    assert resumed_events == [{"event": "RunResumed", "epoch": 3, "epochs": 6}]


def test_a_new_learning_rate_applies_from_the_next_epoch(
    cli: Cli, three_epochs: Path, tmp_path: Path
) -> None:
    done = cli("train", "--resume", three_epochs, "--epochs", 4, "--lr", 0.01, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    history = read_history(three_epochs)
    assert [r["lr"] for r in history["epochs"]] == [0.001, 0.001, 0.001, 0.01]
    assert "lr = 0.01" in (three_epochs / "config.toml").read_text()


def test_a_completed_run_without_more_epochs_is_refused(
    cli: Cli, three_epochs: Path, tmp_path: Path
) -> None:
    before = (three_epochs / "history.json").read_bytes()
    done = cli("train", "--resume", three_epochs, cwd=tmp_path)
    assert done.returncode == 1
    assert "completed at epoch 3 of 3" in done.stderr and "--epochs N" in done.stderr
    assert (three_epochs / "history.json").read_bytes() == before


def test_an_option_that_cannot_change_is_refused_by_name(
    cli: Cli, three_epochs: Path, tmp_path: Path
) -> None:
    done = cli("train", "--resume", three_epochs, "--epochs", 5, "--hidden", 8, cwd=tmp_path)
    assert done.returncode == 1
    assert "--hidden: cannot change when a run continues" in done.stderr
    done = cli("train", "--resume", three_epochs, "--preset", "baseline", cwd=tmp_path)
    assert done.returncode == 2 and "--preset: not with --resume" in done.stderr


def test_a_damaged_checkpoint_is_refused_naming_the_file(
    cli: Cli, three_epochs: Path, tmp_path: Path
) -> None:
    tensors = three_epochs / "checkpoint.safetensors"
    data = bytearray(tensors.read_bytes())
    data[-1] ^= 0xFF
    tensors.write_bytes(bytes(data))
    done = cli("train", "--resume", three_epochs, "--epochs", 5, cwd=tmp_path)
    assert done.returncode == 1
    assert f"{tensors}: does not match checkpoint.json" in done.stderr
    meta = three_epochs / "checkpoint.json"
    meta.write_text(meta.read_text()[:40])
    done = cli("train", "--resume", three_epochs, "--epochs", 5, cwd=tmp_path)
    assert done.returncode == 1 and f"{meta}: not valid JSON" in done.stderr
    meta.write_text(json.dumps({"schema": 1, "epoch": "3"}))
    done = cli("train", "--resume", three_epochs, "--epochs", 5, cwd=tmp_path)
    assert done.returncode == 1 and f"{meta}: lr: missing" in done.stderr
    assert read_history(three_epochs)["status"] == "completed"  # nothing was changed


def test_a_checkpoint_of_another_config_is_refused(
    cli: Cli, three_epochs: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    done = cli("train", *RUN, "--seed", 7, "--epochs", 1, "--out", other, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for name in ("checkpoint.json", "checkpoint.safetensors"):
        (three_epochs / name).write_bytes((other / name).read_bytes())
    done = cli("train", "--resume", three_epochs, "--epochs", 5, cwd=tmp_path)
    assert done.returncode == 1
    assert f"{three_epochs / 'checkpoint.json'}: identity: a checkpoint of another config" in (
        done.stderr
    )


def test_a_running_run_is_refused(cli: Cli, three_epochs: Path, tmp_path: Path) -> None:
    from dnn_tui.rundir import liveness

    history = read_history(three_epochs)
    history["status"] = "running"
    (three_epochs / "history.json").write_text(json.dumps(history))
    (three_epochs / "liveness.json").write_text(liveness.current().to_json())  # this process
    done = cli("train", "--resume", three_epochs, "--epochs", 5, cwd=tmp_path)
    assert done.returncode == 1
    assert f"its run is still going (pid {os.getpid()}" in done.stderr
    assert len(read_history(three_epochs)["epochs"]) == 3


@pytest.mark.e2e
def test_a_killed_run_resumes_and_completes_each_epoch_once(tmp_path: Path) -> None:
    from tests.helpers.cli import LONG_RUN, run_cli, start_cli
    from tests.helpers.waiting import wait_for

    out = tmp_path / "run"
    train = ("train", *LONG_RUN, "--epochs", 30, "--out", out)
    process = start_cli(*train, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: (out / "checkpoint.json").is_file(), "a checkpoint", 120)
        process.kill()  # SIGKILL: no handler runs, the files stay as they were
        process.wait(timeout=30)
    finally:
        process.kill()
    assert read_history(out)["status"] == "running"
    done = run_cli("train", "--resume", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    history = read_history(out)
    assert history["status"] == "completed"
    assert history["resumed"][0]["status"] == "interrupted"
    assert [r["epoch"] for r in history["epochs"]] == list(range(1, 31))
    logged = [json.loads(line) for line in (out / "epochs.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in logged] == list(range(1, 31))
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    ended = [e["record"]["epoch"] for e in events if e["event"] == "EpochEnded"]
    assert ended == list(range(1, 31))
    assert len((out / "history.csv").read_text().splitlines()) == 31
    assert json.loads((out / "checkpoint.json").read_text())["epoch"] == 30
