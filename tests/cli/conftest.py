"""Fixtures of the command-line tests: the CLI runners and runs shared by several tests.

``cli`` runs ``dnn_tui.cli.main`` in this process, the way a shell would see it (argv in,
stdout, stderr and an exit code out): parsing, usage errors, messages and exit codes need no
new interpreter, and a new one costs about a second of imports. ``cli_process`` runs
``python -m dnn_tui`` in a subprocess, for the smoke tests of the real entry point. The
shared runs are real ``train`` processes on tiny offline data (scikit-learn's digits, the
2-D moons), made once a session.
"""

from __future__ import annotations

import contextlib
import subprocess
import warnings
from pathlib import Path

import pytest

from dnn_tui.cli import main
from tests.helpers.cli import Cli, run_cli

SHELL_ONLY = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS")
"""Variables a user's shell would not set (helpers.cli.cli_env drops them for a subprocess)."""


def _as_python_shows(caught: list[warnings.WarningMessage]) -> str:
    return "".join(
        warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line) for w in caught
    )


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``dnn-tui ARGS`` in this process, from the directory cwd.

    A warning the command raises is written to its stderr as the interpreter's default
    filters would show it (pytest would otherwise keep it for its summary), so a test of
    "one line on stderr" still fails on a stray warning.
    """
    for name in SHELL_ONLY:
        monkeypatch.delenv(name, raising=False)

    def run(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
        argv = [str(arg) for arg in args]
        capsys.readouterr()  # what the test printed before is not the command's
        with contextlib.chdir(cwd), warnings.catch_warnings(record=True) as caught:
            warnings.resetwarnings()
            warnings.simplefilter("default")  # the interpreter's defaults, outside __main__:
            for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
                warnings.simplefilter("ignore", category)
            warnings.simplefilter("ignore", ResourceWarning)
            code = main(argv)
        out = capsys.readouterr()
        return subprocess.CompletedProcess(argv, code, out.out, out.err + _as_python_shows(caught))

    return run


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
