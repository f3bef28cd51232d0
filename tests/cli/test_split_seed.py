"""Config files written before the split had its own seed repeat their runs exactly, and new
runs record their split seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dnn_tui.config import load
from tests.helpers.cli import REPO, Cli, read_history

BEFORE = REPO / "tests" / "data" / "before-split-seed"
"""A digits run (training seed 3) as dnn-tui recorded it before split_seed existed."""

COMPARED = ("train_loss", "train_acc", "val_loss", "val_acc")


def test_an_old_config_repeats_its_recorded_run(cli: Cli, tmp_path: Path) -> None:
    recorded = json.loads((BEFORE / "history.json").read_text())
    assert "split_seed" not in (BEFORE / "config.toml").read_text()

    done = cli(
        "train", "--config", BEFORE / "config.toml", "--out", tmp_path / "again", cwd=tmp_path
    )

    assert done.returncode == 0, done.stderr
    again = read_history(tmp_path / "again")
    assert again["dataset"] == {**recorded["dataset"], "split_seed": 3}
    for old, new in zip(recorded["epochs"], again["epochs"], strict=True):
        for key in COMPARED:
            assert new[key] == pytest.approx(old[key], rel=1e-6, abs=1e-9), (old["epoch"], key)
    assert again["test"] == pytest.approx(recorded["test"], rel=1e-6)
    written = load(tmp_path / "again" / "config.toml")
    assert (written.data.split_seed, written.train.seed) == (3, 3)
    assert "split_seed = 3" in (tmp_path / "again" / "config.toml").read_text()


def test_a_split_seed_on_the_command_line_reaches_config_and_history(
    cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    done = cli(
        "train", "--dataset", "digits", "--limit", 100, "--epochs", 1, "--hidden", "8",
        "--seed", 4, "--split-seed", 2, "--out", out, cwd=tmp_path,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert read_history(out)["dataset"]["split_seed"] == 2
    config = load(out / "config.toml")
    assert (config.data.split_seed, config.train.seed) == (2, 4)


def test_a_negative_split_seed_is_refused_by_name(cli: Cli, tmp_path: Path) -> None:
    done = cli("train", "--dataset", "digits", "--split-seed", "-1", cwd=tmp_path)
    assert done.returncode == 1
    assert "split_seed: must be an integer from 0" in done.stderr
