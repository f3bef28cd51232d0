"""``dnn-tui train``: run directory, exit codes, messages, signals. A real process where the
process is under test (the shared run, --help, exit 3, signals: e2e); parsing and errors run
in-process."""

from __future__ import annotations

import csv
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dnn_tui.training.lessons import gradient_reading
from dnn_tui.training.numbers import fmt_acc, fmt_norm, fmt_weight_norm
from tests.helpers.cli import Cli, cli_command, cli_env, read_history, wait_for_run_files

TIMING = ("seconds", "samples_per_s")
"""Epoch-record fields that measure the machine, not the run."""


def assert_clean_output(done: subprocess.CompletedProcess[str]) -> None:
    """Piped output is plain text: no escape codes or other control characters, no traceback."""
    for stream in (done.stdout, done.stderr):
        assert "\x1b" not in stream
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", stream)
        assert "Traceback" not in stream


def test_train_writes_the_run_directory(digits_run) -> None:
    out, done = digits_run
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "config.toml",
        "control.jsonl",
        "epochs.jsonl",
        "evaluation.json",
        "events.jsonl",
        "history.csv",
        "history.json",
        "liveness.json",
        "model.safetensors",
    ]
    history = read_history(out)
    assert history["schema"] == 3
    assert history["status"] == "completed"
    assert history["dataset"] == {
        "name": "digits",
        "train": 300,
        "val": 180,
        "test": 180,
        "input_dim": 64,
        "classes": 10,
        "split_seed": 0,
    }
    assert history["layers"] == ["fc1", "fc2", "fc3", "fc4"]
    assert [record["epoch"] for record in history["epochs"]] == [1, 2]
    assert history["activations"]["layers"] == ["act1", "act2", "act3"]
    assert len(history["initial"]["act_std"]) == 3  # before the first step
    assert len(history["initial"]["weight_norm"]) == 4
    for record in history["epochs"]:
        assert len(record["grad_norm"]) == 4
        assert len(record["weight_norm"]) == len(record["update_ratio"]) == 4
        assert len(record["weight_hist"]) == len(record["weight_hist_max"]) == 4
        assert len(record["act_std"]) == len(record["act_dead"]) == 3
        assert record["act_saturated"] is None  # ReLU units die, they do not saturate
        assert 0.0 <= record["val_acc"] <= 1.0
    assert history["best_epoch"] in (1, 2)
    assert 0.0 <= history["test"]["acc"] <= 1.0
    assert history["diverged"] is None
    with (out / "history.csv").open() as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == ["1", "2"]


def test_train_prints_a_row_per_epoch_and_a_summary(digits_run) -> None:
    out, done = digits_run
    assert_clean_output(done)
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.split()[:1] == ["epoch"])
    assert "val acc" in header and "grad fc1" in header and "grad fc4" in header
    assert "std act1" in header and "std act3" in header
    rows = [line.split() for line in lines if re.match(r"\s+\d+\s+\d", line)]
    assert [row[0] for row in rows] == ["1", "2"]
    history = read_history(out)
    for row, record in zip(rows, history["epochs"], strict=True):  # gradient norms, activation std
        assert row[5:7] == [fmt_norm(record["grad_norm"][0]), fmt_norm(record["grad_norm"][-1])]
        assert row[7:9] == [fmt_norm(record["act_std"][0]), fmt_norm(record["act_std"][-1])]
    assert f"test accuracy: {fmt_acc(history['test']['acc'])}" in done.stdout
    assert f"run directory: {out}" in done.stdout
    assert "status: completed" in done.stdout
    # The layers in words: the gradient bands by the lesson's rule, the weight norms.
    last = history["epochs"][-1]
    reading = gradient_reading(history["layers"], last["grad_norm"], last["update_ratio"])
    assert f"gradients, epoch 2: {reading}" in done.stdout
    assert f"weights, epoch 2: ‖W‖ fc1 {fmt_weight_norm(last['weight_norm'][0])}," in done.stdout


def test_the_default_run_directory_is_under_runs(moons_run) -> None:
    out, done = moons_run
    assert done.returncode == 0, done.stderr
    assert out.parent.name == "runs"
    assert re.fullmatch(r"\d{8}-\d{6}-custom", out.name)
    assert len(read_history(out)["epochs"]) == 3


def test_the_saved_config_repeats_the_run(digits_run, cli: Cli, tmp_path: Path) -> None:
    out, _ = digits_run
    again = tmp_path / "again"
    done = cli("train", "--config", out / "config.toml", "--out", again, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    first, second = read_history(out), read_history(again)
    for history in (first, second):
        for record in history["epochs"]:
            for field in TIMING:
                record.pop(field)
    assert second == first
    assert (again / "config.toml").read_text() == (out / "config.toml").read_text()


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--lr", "-1"], "lr"),
        (["--lr", "fast"], "lr"),
        (["--lr", "nan"], "lr"),
        (["--hidden", "10,x"], "hidden"),
        (["--hidden", "0"], "hidden"),
        (["--dropout", "1.5"], "dropout"),
        (["--hidden", "10,10", "--dropout", "0.1,0.1,0.1"], "dropout"),
        (["--activation", "swish"], "activation"),
        (["--optimizer", "lbfgs"], "optimizer"),
        (["--batch-size", "0"], "batch_size"),
        (["--epochs", "0"], "epochs"),
        (["--clip-norm", "0"], "clip_norm"),
        (["--init-std", "-1"], "init_std"),
        (["--dataset", "imagenet"], "dataset"),
        (["--dataset", "idx"], "idx_images"),
        (["--preset", "no-such-preset"], "no-such-preset"),
    ],
)
def test_an_invalid_option_value_is_a_usage_error(cli: Cli, tmp_path: Path, args, field) -> None:
    """Like an unknown option: exit 2, the usage, then one line naming the field."""
    done = cli("train", *args, "--out", tmp_path / "run", cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert done.stderr.startswith("usage: dnn-tui train ")
    last = done.stderr.splitlines()[-1]
    assert last.startswith("dnn-tui train: error: ")
    assert field in last
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()  # refused before anything was claimed


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--config", "missing.toml"], "missing.toml"),
        (["--dataset", "idx", "--idx-images", "img.idx", "--idx-labels", "lab.idx"], "img.idx"),
    ],
)
def test_a_file_that_cannot_be_read_exits_1_with_one_line(
    cli: Cli, tmp_path: Path, args, field
) -> None:
    done = cli("train", *args, "--out", tmp_path / "run", cwd=tmp_path)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("dnn-tui: error: ")
    assert field in lines[0]
    if field == "img.idx":  # the data is read after the claim: the folder keeps the failure
        assert field in read_history(tmp_path / "run")["error"]
    else:  # refused before anything was claimed
        assert not (tmp_path / "run").exists()


def test_an_invalid_config_file_names_the_file_and_key(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("[model]\nwidth = 3\n")
    done = cli("train", "--config", "bad.toml", cwd=tmp_path)
    assert done.returncode == 1
    assert re.fullmatch(r"dnn-tui: error: bad\.toml: model\.width: unknown key.*\n", done.stderr)


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--no-such-option"],
        ["train", "--preset", "baseline", "--config", "x.toml"],
        ["train", "--lr"],
        ["compare"],
        ["eval"],
        ["suite", "no-such-suite"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(cli: Cli, tmp_path: Path, args) -> None:
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "usage: dnn-tui" in done.stderr
    assert "Traceback" not in done.stderr


def test_help_and_version_exit_0(cli_process: Cli, tmp_path: Path) -> None:
    """Through a real ``python -m dnn_tui``: __main__ turns main's code into the exit status."""
    done = cli_process("train", "--help", cwd=tmp_path)
    assert done.returncode == 0
    for option in ("--preset", "--batch-size", "--clip-norm", "--no-batchnorm", "--out"):
        assert option in done.stdout
    assert cli_process("--version", cwd=tmp_path).stdout.startswith("dnn-tui ")
    usage = cli_process("frobnicate", cwd=tmp_path)  # and a usage error's 2 (the rest: in-process)
    assert usage.returncode == 2 and "usage: dnn-tui" in usage.stderr


def test_a_diverging_run_exits_3(cli_process: Cli, tmp_path: Path) -> None:
    """Through a real process: the exit status of a run that diverged."""
    out = tmp_path / "run"
    done = cli_process(
        "train",
        "--preset",
        "exploding",
        "--dataset",
        "moons",
        "--epochs",
        2,
        "--out",
        out,
        cwd=tmp_path,
    )
    assert done.returncode == 3, done.stderr
    assert_clean_output(done)
    history = read_history(out)
    assert history["status"] == "diverged"
    assert set(history["diverged"]) == {"epoch", "step", "layer", "clip_norm", "lr"}
    assert "status: diverged" in done.stdout
    assert "--clip-norm" in done.stdout  # a remedy


@pytest.mark.e2e
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_stops_the_run_and_keeps_its_files(tmp_path: Path, signum: int) -> None:
    """Ctrl-C, kill, and a closed SSH session (SIGHUP) all stop the run after its step."""
    out = tmp_path / "run"
    log = tmp_path / "stdout.txt"
    args = ["train", "--dataset", "digits", "--batch-size", 10, "--epochs", 1000, "--out", out]
    with log.open("w") as stdout:
        process = subprocess.Popen(
            cli_command(*args),
            cwd=tmp_path,
            env=cli_env(),
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for_run_files(out, process, epochs=1)
            process.send_signal(signum)
            _, stderr = process.communicate(timeout=60)
        finally:
            process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    history = read_history(out)
    assert history["status"] == "stopped"
    assert 1 <= len(history["epochs"]) < 1000
    assert history["best_epoch"] is not None
    assert history["partial_epoch"]["events"][-1]["kind"] == "stop"
    assert (out / "model.safetensors").is_file()
    assert (out / "history.csv").is_file()
    output = log.read_text()
    assert "stop requested" in output
    assert "status: stopped" in output
