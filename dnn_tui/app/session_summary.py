"""What the dashboard leaves in the terminal when it exits: a few lines per run it started.

Runs without Textual: ``run_app`` calls ``print_session`` after the app has left
the alternate screen, so the lines stay in the terminal's scrollback, as
``dnn-tui train`` leaves its summary (same words, same number formats). What is
printed is read back from each run directory's history.json, the record that
stays, not from what the screen last showed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from rich.console import Console
from rich.text import Text

from dnn_tui.training.report import fmt_float, plural


def run_lines(run_dir: Path, failure: str | None = None) -> list[Text]:
    """The summary of one run directory (history.json read back), ``train``'s words."""
    from dnn_tui.rundir.files import RUNNING, RunError, load_run
    from dnn_tui.rundir.liveness import read_liveness

    if not run_dir.exists():
        return [Text(f"run {run_dir}: stopped before its first step; nothing was saved")]
    try:
        run = load_run(run_dir)
    except RunError as error:
        return [Text(f"run {run_dir}: {failure or error}", style="red")]
    history = run.history
    epochs = history.get("epochs") or []
    status = str(history.get("status"))
    if status == RUNNING:
        owner = read_liveness(run_dir)
        if failure is None and owner is not None and owner.pid != os.getpid() and owner.alive():
            status = f"running in its own process (dnn-tui watch {run_dir})"
        else:
            status = "failed" if failure else "interrupted"
    seconds = sum(record.get("seconds") or 0.0 for record in epochs)
    ok = status in ("completed", "early_stopped") or status.startswith("running")
    lines = [
        Text.assemble(
            ("run ", "bold"), (run.config.preset or "custom", "bold cyan"), f": {run_dir}"
        ),
        Text.assemble(
            ("status: ", "bold"),
            (status, "bold green" if ok else "bold red"),
            f" after {plural(len(epochs), 'epoch')} ({seconds:.1f} s of epochs)",
        ),
    ]
    if failure:
        lines.append(Text(f"failed: {failure}", style="red"))
    if history.get("diverged"):
        where = history["diverged"]
        lines.append(
            Text(
                f"diverged: a non-finite value at epoch {where.get('epoch')}, step "
                f"{where.get('step')}, first in {where.get('layer')}",
                style="red",
            )
        )
    best_epoch = history.get("best_epoch")
    best = next((r for r in epochs if r.get("epoch") == best_epoch), None)
    if best is not None:
        lines.append(
            Text(
                f"best epoch: {best_epoch} (val loss {fmt_float(best.get('val_loss'), '.4f')}"
                f", val acc {fmt_float(best.get('val_acc'), '.4f')})"
            )
        )
    test = history.get("test")
    if test:
        lines.append(
            Text.assemble(
                ("test accuracy: ", "bold"),
                (fmt_float(test.get("acc"), ".4f"), "bold"),
                f" (test loss {fmt_float(test.get('loss'), '.4f')})",
            )
        )
    return lines


def wait_until(done: Callable[[], bool], timeout: float) -> None:
    """Wait (at most timeout seconds) until done() says so: the run's thread has saved its
    files and ended."""
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.02)


def print_session(runs: Iterable[tuple[Path, str | None]], console: Console) -> None:
    """Print every run of the session (run directory, failure message or None), oldest first."""
    for index, (run_dir, failure) in enumerate(runs):
        if index:
            console.print("")
        for line in run_lines(run_dir, failure):
            console.print(line, soft_wrap=True)
