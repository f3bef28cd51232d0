"""Running ``python -m dnn_tui`` in a subprocess, as a user's shell would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

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
