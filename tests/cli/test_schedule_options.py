"""``--schedule`` and its settings on the command line: a run's config and history keep them;
a setting of another schedule is refused by name."""

from __future__ import annotations

import json
from pathlib import Path

from dnn_tui.config import load
from tests.helpers.cli import Cli

SMALL = ("--dataset", "digits", "--limit", "100", "--hidden", "8", "--device", "cpu")


def test_a_step_schedule_is_saved_and_followed(cli: Cli, tmp_path: Path) -> None:
    done = cli(
        "train", *SMALL, "--epochs", "3", "--lr", "0.01", "--schedule", "step",
        "--step-size", "1", "--gamma", "0.5", "--out", tmp_path / "run", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [epoch["lr"] for epoch in history["epochs"]] == [0.01, 0.005, 0.0025]
    train = load(tmp_path / "run" / "config.toml").train
    assert (train.schedule, train.step_size, train.gamma) == ("step", 1, 0.5)
    # The epoch table's lr column: each epoch's lr in the dashboard's format.
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.startswith("epoch"))
    end = header.index(" lr ") + len(" lr")  # numbers are right-aligned under their title
    rows = [line for line in lines if line[:5].strip().isdigit()]
    assert [row[:end].split()[-1] for row in rows] == ["0.01", "0.005", "0.0025"]


def test_a_setting_of_another_schedule_is_refused(cli: Cli, tmp_path: Path) -> None:
    done = cli("train", *SMALL, "--schedule", "cosine", "--gamma", "0.5", cwd=tmp_path)
    assert done.returncode == 2
    assert "--gamma: only used by schedules step, plateau (the schedule is cosine)" in done.stderr
    assert list(tmp_path.iterdir()) == []
