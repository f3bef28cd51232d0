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
from typing import TYPE_CHECKING

from dnn_tui.commands.options import (
    EXIT_DIVERGED,
    EXIT_ERROR,
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
    from dnn_tui.fileio import Folder


def register(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train",
        help="train headless, printing a row per epoch",
        epilog="Ctrl-C, SIGTERM or SIGHUP (a closed SSH session) stops the run after its current "
        "step and saves what it did; a second Ctrl-C quits at once. A closed stdout (| head) "
        "only stops the printing: the run goes on to its end. Exit codes: 0 completed or "
        "early-stopped, 1 invalid input or failure, 2 usage error, 3 diverged, 130 interrupted.",
    )
    add_run_options(train)
    add_out_options(train)
    train.set_defaults(handler=_train)


def add_out_options(parser: argparse.ArgumentParser) -> None:
    """``--out`` and ``--force``, as ``train`` and ``suite`` take them."""
    parser.add_argument(
        "--out", metavar="DIR", help="run directory (default: runs/<time>-<preset>); new or empty"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace the finished run in --out (never a running one, nor other files)",
    )


@dataclass(frozen=True)
class Outcome:
    """How one headless run ended."""

    status: str
    interrupted: bool
    """A SIGINT, SIGTERM or SIGHUP arrived while it ran."""
    error: str | None = None
    """Why it failed (status ``failed``)."""

    @property
    def exit_code(self) -> int:
        if self.status == "failed":
            return EXIT_ERROR
        if self.interrupted or self.status == "stopped":
            return EXIT_INTERRUPTED
        return EXIT_DIVERGED if self.status == "diverged" else EXIT_OK


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Signals that stop a headless run after its current step: Ctrl-C, kill, a hang-up."""


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[], None]) -> Iterator[list[int]]:
    """STOP_SIGNALS call stop (the run ends after its current step); a second one interrupts.

    ``stop`` runs in a helper thread: a handler runs between two bytecodes of the main
    thread, which may hold the controls' lock at that moment.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handle(signum: int, _frame: object) -> None:
        if received and signum == signal.SIGINT:
            raise KeyboardInterrupt
        received.append(signum)
        threading.Thread(target=stop, name="dnn-tui-stop", daemon=True).start()

    previous = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_headless(
    config: RunConfig, folder: Folder, data: Dataset | Callable[[], Dataset], console: Console
) -> Outcome:
    """Train config into the claimed run directory, printing the report; the signals in
    STOP_SIGNALS stop it after its current step."""
    from dnn_tui.launch import record_run
    from dnn_tui.report import Report
    from dnn_tui.training.controls import RunControls

    controls = RunControls(config.train.clip_norm, config.train.lr)
    report = Report(console, run_dir=folder.path)
    try:
        with stop_on_signals(controls.stop) as received:
            result = record_run(config, folder, data, controls, report)
    finally:
        report.close()
    if result is None:
        return Outcome("stopped", True)
    return Outcome(result.status, bool(received), result.error)


def _train(args: argparse.Namespace) -> int:
    from dnn_tui.report import make_console

    config = config_from_args(args)
    folder = claim_folder(args.out, args.force, config.preset)
    console = make_console()
    outcome = run_headless(config, folder, lambda: load_data(config), console)
    if outcome.error:
        raise CommandError(f"the run failed: {outcome.error}")
    return outcome.exit_code


def claim_folder(out: str | None, force: bool, preset: str | None) -> Folder:
    """The run directory: --out claimed (refused when taken), or a new one under ./runs."""
    from dnn_tui.recorder import ClaimError, claim_new_run_dir, claim_run_dir

    try:
        if out is None:
            return claim_new_run_dir(preset)
        return claim_run_dir(out, force=force)
    except ClaimError as error:
        raise CommandError(str(error)) from None
