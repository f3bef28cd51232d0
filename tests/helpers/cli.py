"""The command line as the tests drive it: ``python -m dnn_tui`` in a subprocess, as a user's
shell runs it, or ``dnn_tui.cli.main`` in this process (the fixture ``cli``, tests/conftest.py),
where only parsing, messages and exit codes are under test; and the reading of what a run left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.helpers.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]

Cli = Callable[..., subprocess.CompletedProcess[str]]


def cli_env() -> dict[str, str]:
    """A user's shell environment: the checkout importable, no forced colour, one torch thread."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        env.pop(name, None)
    # One torch thread, as in-process tests have (tests/conftest.py): on a busy 2-core machine
    # a second OpenMP thread makes small steps wait for a time slice, many times slower.
    env["OMP_NUM_THREADS"] = "1"
    return env


def cli_command(*args: object) -> list[str]:
    """The argv of ``python -m dnn_tui ARGS`` with this interpreter."""
    return [sys.executable, "-m", "dnn_tui", *map(str, args)]


def run_cli(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI to its end with stdout and stderr captured (both are pipes, not terminals)."""
    return subprocess.run(
        cli_command(*args), cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=300
    )


def read_history(run_dir: Path) -> dict:
    """history.json, refusing NaN and Infinity (the file must be strict JSON)."""

    def refuse(name: str) -> None:
        raise AssertionError(f"history.json holds {name}")

    return json.loads((run_dir / "history.json").read_text(), parse_constant=refuse)


def epochs_done(run_dir: Path) -> int:
    """Epochs in a run's history.json; 0 while there is none yet."""
    try:
        return len(read_history(run_dir)["epochs"])
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


LONG_RUN = ("--dataset", "digits", "--limit", 400, "--batch-size", 10, "--hidden", "32,16")
"""A run on 320 digits in batches of 10: a few hundredths of a second an epoch, so a test
that stops it or follows it sees many epochs soon."""


def start_train(out: Path, epochs: int) -> subprocess.Popen[str]:
    """A headless ``train`` of LONG_RUN into out, in its own process (stderr kept)."""
    return subprocess.Popen(
        cli_command("train", *LONG_RUN, "--epochs", epochs, "--out", out),
        cwd=out.parent,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_run_files(
    run_dir: Path, process: subprocess.Popen, epochs: int = 0, timeout: float = 120.0
) -> None:
    """Wait until the run in process has written history.json with at least epochs epochs;
    fail at once, with its stderr, if the process ends first."""

    def ready() -> bool:
        if process.poll() is not None:
            stderr = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"the run ended (exit {process.returncode}) first: {stderr}")
        return (run_dir / "history.json").is_file() and epochs_done(run_dir) >= epochs

    wait_for(ready, f"{epochs} epoch(s) in {run_dir}/history.json", timeout)
