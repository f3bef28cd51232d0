"""``dnn-tui lr-find``: the range test from the command line, its figure and its JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.cli import Cli

SMALL = ("--dataset", "digits", "--limit", "200", "--hidden", "16", "--device", "cpu")


def test_json_holds_the_lrs_losses_and_suggestion(cli: Cli, tmp_path: Path) -> None:
    done = cli(
        "lr-find",
        *SMALL,
        "--min-lr",
        "1e-5",
        "--max-lr",
        "1",
        "--steps",
        "40",
        "--json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["lrs"] == pytest.approx(np.geomspace(1e-5, 1.0, 40).tolist(), rel=1e-12)
    assert len(found["losses"]) == len(found["smoothed"]) == 40
    assert found["suggestion"] in found["lrs"]
    assert list(tmp_path.iterdir()) == []  # no run directory


def test_the_figure_fits_80_columns_and_names_the_suggestion(cli: Cli, tmp_path: Path) -> None:
    done = cli("lr-find", *SMALL, "--steps", "60", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "★" in done.stdout
    assert lines[-1].startswith("suggested lr ")


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("--min-lr", "0"), "min_lr"),
        (("--max-lr", "x"), "max_lr"),
        (("--min-lr", "1", "--max-lr", "0.1"), "max_lr"),
        (("--steps", "5"), "steps"),
    ],
)
def test_bad_range_settings_are_usage_errors(
    cli: Cli, tmp_path: Path, args: tuple[str, ...], name: str
) -> None:
    done = cli("lr-find", *SMALL, *args, cwd=tmp_path)
    assert done.returncode == 2
    assert f"error: {name}:" in done.stderr
