"""``dnn-tui train``: one headless run, an epoch table on stdout, the run directory on disk.

Also the headless run itself (``run_headless``), which ``suite`` uses for each of its presets.
SIGINT and SIGTERM stop the run after its current step and save what it did.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dnn_tui.commands.options import (
    EXIT_DIVERGED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    CommandError,
    add_run_options,
    config_from_args,
    load_data,
)
from dnn_tui.config import RunConfig

if TYPE_CHECKING:
    from rich.console import Console

    from dnn_tui.data import Dataset


def register(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train",
        help="train headless, printing a row per epoch",
        epilog="Ctrl-C (or SIGTERM) stops the run after its current step and saves what it did; "
        "a second Ctrl-C quits at once. Exit codes: 0 completed or early-stopped, 1 invalid "
        "input or failure, 2 usage error, 3 diverged, 130 interrupted.",
    )
    add_run_options(train)
    train.add_argument(
        "--out", metavar="DIR", type=Path, help="run directory (default: runs/<time>-<preset>)"
    )
    train.set_defaults(handler=_train)


@dataclass(frozen=True)
class Outcome:
    """How one headless run ended."""

    status: str
    interrupted: bool
    """A SIGINT or SIGTERM arrived while it ran."""

    @property
    def exit_code(self) -> int:
        if self.interrupted or self.status == "stopped":
            return EXIT_INTERRUPTED
        return EXIT_DIVERGED if self.status == "diverged" else EXIT_OK


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[], None]) -> Iterator[list[int]]:
    """SIGINT/SIGTERM call stop (the run ends after its current step); a second one interrupts.

    ``stop`` runs in a helper thread: a handler runs between two bytecodes of the main
    thread, which may hold the controls' lock at that moment.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handle(signum: int, _frame: object) -> None:
        if received:
            raise KeyboardInterrupt
        received.append(signum)
        threading.Thread(target=stop, name="dnn-tui-stop", daemon=True).start()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_headless(config: RunConfig, out: Path, data: Dataset, console: Console) -> Outcome:
    """Train config on data into run directory out, printing the report."""
    from dnn_tui.recorder import RunRecorder
    from dnn_tui.report import Report
    from dnn_tui.training.controls import RunControls
    from dnn_tui.training.engine import train
    from dnn_tui.training.events import fan_out

    controls = RunControls(config.train.clip_norm, config.train.lr)
    report = Report(console, run_dir=out)
    with stop_on_signals(controls.stop) as received:
        try:
            result = train(config, data, controls, fan_out(RunRecorder(out), report))
        finally:
            report.close()
    return Outcome(result.status, bool(received))


def check_out(out: Path) -> None:
    """Fail before the data loads when --out cannot be a run directory."""
    if out.exists() and not out.is_dir():
        raise CommandError(f"{out}: --out must be a directory, and this is a file")


def _train(args: argparse.Namespace) -> int:
    from dnn_tui.report import make_console
    from dnn_tui.runs import default_run_dir

    config = config_from_args(args)
    out = args.out or default_run_dir(config.preset)
    check_out(out)
    return run_headless(config, out, load_data(config), make_console()).exit_code
