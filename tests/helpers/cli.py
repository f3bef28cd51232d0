"""The command line as the tests drive it: ``python -m dnn_tui`` in a subprocess, as a user's
shell runs it, or ``dnn_tui.cli.main`` in this process (the fixture ``cli``, tests/conftest.py),
where only parsing, messages and exit codes are under test; and the reading of what a run left."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.helpers.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]

Cli = Callable[..., subprocess.CompletedProcess[str]]


SHELL_ONLY = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS")
"""Variables of the test runner's terminal that a user's piped shell would not pass on."""


def cli_env() -> dict[str, str]:
    """A user's shell environment: the checkout importable, no forced colour, one torch thread."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    for name in SHELL_ONLY:
        env.pop(name, None)
    # One torch thread, as in-process tests have (tests/conftest.py): on a busy 2-core machine
    # a second OpenMP thread makes small steps wait for a time slice, many times slower.
    env["OMP_NUM_THREADS"] = "1"
    return env


def cli_command(*args: object) -> list[str]:
    """The argv of ``python -m dnn_tui ARGS`` with this interpreter."""
    return [sys.executable, "-m", "dnn_tui", *map(str, args)]


def run_cli(
    *args: object, cwd: Path, columns: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI to its end with stdout and stderr captured (both are pipes, not terminals);
    with columns, COLUMNS says how wide the output may be (as a user's shell would export it)."""
    env = cli_env()
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run(
        cli_command(*args), cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@contextlib.contextmanager
def _shell_environment(columns: int | None = None) -> Iterator[None]:
    """os.environ without SHELL_ONLY for the time of a command, as cli_env gives a subprocess
    (COLUMNS set to columns when given)."""
    saved = {name: os.environ.pop(name) for name in SHELL_ONLY if name in os.environ}
    if columns is not None:
        os.environ["COLUMNS"] = str(columns)
    try:
        yield
    finally:
        os.environ.pop("COLUMNS", None)
        os.environ.update(saved)


def run_in_process(
    *args: object, cwd: Path, columns: int | None = None
) -> subprocess.CompletedProcess[str]:
    """``dnn-tui ARGS`` run by ``dnn_tui.cli.main`` in this process, from the directory cwd,
    with stdout and stderr captured (not terminals, as in a pipe).

    What a shell would see, without a new interpreter (about a second of imports, more for
    torch): the exit code main returns (``__main__`` only hands it to SystemExit), the
    output, and the warnings the command raised, written to its stderr as the interpreter's
    default filters show them (pytest would keep them for its summary otherwise), so a test
    of "one line on stderr" still fails on a stray warning. With columns, COLUMNS is set.
    """
    from dnn_tui.cli import main

    argv = [str(arg) for arg in args]
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.chdir(cwd),
        _shell_environment(columns),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.resetwarnings()
        warnings.simplefilter("default")  # the interpreter's defaults, outside __main__
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
            warnings.simplefilter("ignore", category)
        warnings.simplefilter("ignore", ResourceWarning)
        code = main(argv)
    shown = "".join(
        warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line) for w in caught
    )
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue() + shown)


def read_history(run_dir: Path) -> dict:
    """history.json, refusing NaN and Infinity (the file must be strict JSON)."""

    def refuse(name: str) -> None:
        raise AssertionError(f"history.json holds {name}")

    return json.loads((run_dir / "history.json").read_text(), parse_constant=refuse)


def epochs_done(run_dir: Path) -> int:
    """Epochs a run finished, as its readers see them (history.json joined with the epoch
    log); 0 while there is none yet."""
    from dnn_tui.rundir.files import RunError
    from dnn_tui.rundir.files import read_history as read_joined

    try:
        return len(read_joined(run_dir / "history.json")["epochs"])
    except RunError:
        return 0


LONG_RUN = ("--dataset", "digits", "--limit", 400, "--batch-size", 10, "--hidden", "32,16")
"""A run on 320 digits in batches of 10: a few hundredths of a second an epoch, so a test
that stops it or follows it sees many epochs soon."""


def start_cli(
    *args: object, cwd: Path, stdout: int = subprocess.PIPE, stderr: int = subprocess.PIPE
) -> subprocess.Popen[str]:
    """``dnn-tui ARGS`` in its own process, in cwd, its output read as text."""
    return subprocess.Popen(
        cli_command(*args), cwd=cwd, env=cli_env(), stdout=stdout, stderr=stderr, text=True
    )


def start_train(out: Path, epochs: int) -> subprocess.Popen[str]:
    """A headless ``train`` of LONG_RUN into out, in its own process (stderr kept)."""
    train = ("train", *LONG_RUN, "--epochs", epochs, "--out", out)
    return start_cli(*train, cwd=out.parent, stdout=subprocess.DEVNULL)


def wait_for_run_files(
    run_dir: Path, process: subprocess.Popen, epochs: int = 0, timeout: float = 120.0
) -> None:
    """Wait until the run in process has written history.json and at least epochs epochs;
    fail at once, with its stderr, if the process ends first."""

    def ready() -> bool:
        if process.poll() is not None:
            stderr = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"the run ended (exit {process.returncode}) first: {stderr}")
        return (run_dir / "history.json").is_file() and epochs_done(run_dir) >= epochs

    wait_for(ready, f"{epochs} epoch(s) in {run_dir}/history.json", timeout)
