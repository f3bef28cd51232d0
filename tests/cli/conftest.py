"""Fixtures of the command-line tests: the CLI runner and runs shared by several tests.

The runs use tiny offline data (scikit-learn's digits, the 2-D moons) and are
shared across tests (session scope) to keep the whole folder fast.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .support import Cli, run_cli


@pytest.fixture(scope="session")
def cli() -> Cli:
    return run_cli


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The current directory of the shared runs."""
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="session")
def digits_run(workdir: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Two epochs on 300 digits, into an explicit --out."""
    out = workdir / "digits"
    done = run_cli(
        "train", "--dataset", "digits", "--limit", 300, "--epochs", 2, "--out", out, cwd=workdir
    )
    return out, done


@pytest.fixture(scope="session")
def moons_run(workdir: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Three epochs on the moons, into the default run directory (./runs/<time>-custom)."""
    before = set((workdir / "runs").glob("*"))
    done = run_cli(
        "train",
        "--dataset",
        "moons",
        "--hidden",
        "16,8",
        "--batch-size",
        200,
        "--epochs",
        3,
        cwd=workdir,
    )
    created = sorted(set((workdir / "runs").glob("*")) - before)
    assert len(created) == 1, (created, done.stderr)
    return created[0], done
