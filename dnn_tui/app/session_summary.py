"""What the dashboard leaves in the terminal when it exits: a few lines per run it started.

Runs without Textual: ``run_app`` calls ``print_session`` after the app has left
the alternate screen, so the lines stay in the terminal's scrollback, as
``dnn-tui train`` leaves its summary (same words, same number formats). What is
printed is read back from each run directory's history.json, the record that
stays, not from what the screen last showed. Folder names, presets and failures are shown with
their control characters made visible (``fileio.visible``), as Text, never as markup.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from rich.console import Console
from rich.text import Text

from dnn_tui.fileio import visible
from dnn_tui.training.columns import fold_text
from dnn_tui.training.report import summary_lines
from dnn_tui.training.status import Status


def run_lines(run_dir: Path, failure: str | None = None) -> list[Text]:
    """The summary of one run directory (history.json read back), ``train``'s words."""
    from dnn_tui.rundir.files import RunError, load_run
    from dnn_tui.rundir.liveness import read_liveness

    if not run_dir.exists():
        return [Text(f"run {visible(run_dir)}: stopped before its first step; nothing was saved")]
    try:
        run = load_run(run_dir)
    except RunError as error:
        return [Text(f"run {visible(run_dir)}: {visible(failure or error)}", style="red")]
    history = run.history
    epochs = history.get("epochs") or []
    status = str(history.get("status"))
    if status == Status.RUNNING:
        owner = read_liveness(run_dir)
        if failure is None and owner is not None and owner.pid != os.getpid() and owner.alive():
            status = f"running in its own process (dnn-tui watch {visible(run_dir)})"
        else:
            status = Status.FAILED if failure else Status.INTERRUPTED
    seconds = sum(record.get("seconds") or 0.0 for record in epochs)
    preset = visible(run.config.preset or "custom")
    header = Text.assemble(("run ", "bold"), (preset, "bold cyan"), f": {visible(run_dir)}")
    return [
        header,
        *summary_lines(
            status,
            epochs,
            f"({seconds:.1f} s of epochs)",
            best_epoch=history.get("best_epoch"),
            test=history.get("test"),
            diverged=history.get("diverged"),
            failure=failure,
            continued_from=_continued_from(history.get("resumed")),
        ),
    ]


def _continued_from(resumed: object) -> int | None:
    """The checkpoint epoch the run was last continued from (history.json's ``resumed``)."""
    if isinstance(resumed, list) and resumed and isinstance(resumed[-1], dict):
        epoch = resumed[-1].get("epoch")
        return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None
    return None


def wait_until(done: Callable[[], bool], timeout: float) -> None:
    """Wait (at most timeout seconds) until done() says so: the run's thread has saved its
    files and ended."""
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.02)


def print_session(runs: Iterable[tuple[Path, str | None]], console: Console) -> None:
    """Print every run of the session (run directory, failure message or None), oldest first,
    each line folded at the console's width as the headless tables fold their names (at
    spaces, a path after a "/"; numbers whole)."""
    for index, (run_dir, failure) in enumerate(runs):
        if index:
            console.print("")
        for line in run_lines(run_dir, failure):
            for part in fold_text(line, console.width):
                console.print(part, soft_wrap=True)
