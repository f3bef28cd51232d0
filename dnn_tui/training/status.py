"""How a run ends: its status, and the exit code of the process that ran it.

Runs without any UI and without torch.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from enum import StrEnum

from dnn_tui.fileio import error_line
from dnn_tui.training.columns import fold, output_width


class Status(StrEnum):
    """A run's status as history.json, events and every view spell it."""

    RUNNING = "running"
    """Still going (or killed without a chance to end: readers then show INTERRUPTED)."""
    COMPLETED = "completed"
    EARLY_STOPPED = "early_stopped"
    STOPPED = "stopped"
    """Stopped from the keyboard, a signal or a watcher, after a step."""
    DIVERGED = "diverged"
    """A non-finite loss or gradient ended it before the optimizer step."""
    PRUNED = "pruned"
    """Stopped by a search's pruner at an epoch end: its validation loss lagged the others'."""
    FAILED = "failed"
    """An error ended it; the error is recorded."""
    INTERRUPTED = "interrupted"
    """Never written: what readers show for a run that says running but whose process is gone."""


RECORDED = tuple(s for s in Status if s is not Status.INTERRUPTED)
"""Every status a history.json may hold."""
ENDED_WELL = frozenset({Status.COMPLETED, Status.EARLY_STOPPED})
"""A run that ran its course (every epoch, or until early stopping kept its best): summaries
show it green, and its process exits with EXIT_OK."""
ENDED_ON_ITS_OWN = ENDED_WELL | {Status.DIVERGED, Status.PRUNED}
"""Ends of a run that are results, diverging and pruning included (they answer a sweep's
question: that learning rate is too high, or worse than the others at that epoch); stopped,
failed and interrupted are not. A sweep whose runs all
ended so is completed."""

EXIT_OK = 0
"""Completed or early-stopped."""
EXIT_ERROR = 1
"""Invalid input or a failure: one line on stderr, no traceback."""
EXIT_USAGE = 2
"""A usage error, as argparse reports it."""
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130
"""Stopped by Ctrl-C, SIGTERM, SIGHUP or a watcher."""


def exit_code(status: str, interrupted: bool = False) -> int:
    """The exit code of a process whose run ended with status (interrupted: a signal came)."""
    if status == Status.FAILED:
        return EXIT_ERROR
    if interrupted or status == Status.STOPPED:
        return EXIT_INTERRUPTED
    return EXIT_DIVERGED if status == Status.DIVERGED else EXIT_OK


def say(text: str) -> None:
    """One line on stderr, folded at its width (at spaces, a path after a "/"); nothing when
    stderr is gone too (``2>&1 | head``)."""
    with contextlib.suppress(OSError, ValueError):
        print("\n".join(fold(text, output_width(sys.stderr))), file=sys.stderr, flush=True)


def run_guarded(command: Callable[[], int]) -> int:
    """Run a command; every failure becomes one line on stderr, never a traceback."""
    try:
        return command()
    except KeyboardInterrupt:
        say("dnn-tui: interrupted")
        return EXIT_INTERRUPTED
    except Exception as error:  # every failure is one line, never a traceback
        say(f"dnn-tui: error: {error_line(error)}")
        return EXIT_ERROR
