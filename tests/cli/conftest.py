"""Fixtures of the command-line tests: the CLI runners and runs shared by several tests.

``cli`` runs ``dnn_tui.cli.main`` in this process, the way a shell would see it (argv in,
stdout, stderr and an exit code out): parsing, usage errors, messages and exit codes need no
new interpreter, which costs seconds of imports with torch. ``cli_process`` runs
``python -m dnn_tui`` in a subprocess, for the smoke tests of the real entry point. The
shared runs train on tiny offline data (scikit-learn's digits in a real ``train`` process,
the 2-D moons in this one), once a session.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import Cli, run_cli, run_in_process

SHARED_RUNS = {"digits_run", "moons_run"}
"""The session's runs: made once per xdist worker that asks for them."""


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests of the shared runs go to one worker (``--dist loadgroup``), which makes each
    run once instead of once per worker."""
    for item in items:
        if SHARED_RUNS & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("shared-cli-runs"))


@pytest.fixture(scope="session")
def cli() -> Cli:
    """``dnn-tui ARGS`` in this process (helpers.cli.run_in_process)."""
    return run_in_process


@pytest.fixture(scope="session")
def cli_process() -> Cli:
    """``python -m dnn_tui ARGS`` in a subprocess: the real entry point and exit status."""
    return run_cli


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The current directory of the shared runs."""
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="session")
def digits_run(workdir: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Two epochs on 300 digits, into an explicit --out (a real ``train`` process)."""
    out = workdir / "digits"
    done = run_cli(
        "train", "--dataset", "digits", "--limit", 300, "--epochs", 2, "--out", out, cwd=workdir
    )
    return out, done


@pytest.fixture(scope="session")
def moons_run(workdir: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Three epochs on the moons, into the default run directory (./runs/<time>-custom), in
    this process (digits_run is the real process)."""
    before = set((workdir / "runs").glob("*"))
    done = run_in_process(
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
