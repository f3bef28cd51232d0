"""``dnn-tui watch [RUN_DIR]``: the lab screen on a run in another process, its keys steering it.

Without RUN_DIR it opens the newest running run under ``--runs`` (default ./runs). A RUN_DIR
where no run has started yet (not even made yet) is waited for: ``watch`` follows the run
that starts there.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from dnn_tui.commands.options import CommandError
from dnn_tui.fileio import visible
from dnn_tui.training.status import say


def register(commands: argparse._SubParsersAction) -> None:
    watch = commands.add_parser(
        "watch",
        help="show a run of another process live in the dashboard; its keys steer it",
        epilog="The run goes on when the dashboard quits. Keys: space pause/resume, s stop, "
        "c clipping on/off, + and - the clipping threshold, enter in the lr field the "
        "learning rate; each reaches the run at its next step.",
    )
    watch.add_argument(
        "run",
        metavar="RUN_DIR",
        nargs="?",
        help="default: the newest running; one where no run has started yet is waited for",
    )
    watch.add_argument(
        "--runs", metavar="DIR", default="runs", help="where to look for runs (default: runs)"
    )
    watch.set_defaults(handler=_watch)


def newest_running(root: Path) -> Path:
    """The most recently started run under root whose process is alive."""
    from dnn_tui.rundir.files import has_ended
    from dnn_tui.rundir.liveness import LIVENESS_FILE, read_liveness

    best: tuple[float, Path] | None = None
    for record_path in root.glob(f"**/{LIVENESS_FILE}"):
        run_dir = record_path.parent
        record = read_liveness(run_dir)
        if record is None or not record.alive() or has_ended(run_dir):
            continue
        if best is None or record.started > best[0]:
            best = (record.started, run_dir)
    if best is None:
        raise CommandError(f"{root}: no running run found; name one: dnn-tui watch RUN_DIR")
    return best[1]


WAIT_POLL_S = 0.2
"""Seconds between two looks at a folder where no run has started yet."""


def holds_run(run_dir: Path) -> bool:
    """Whether a run has started in run_dir: its event log or its history is there (a claimed
    folder still loading its data holds neither yet)."""
    return any((run_dir / name).is_file() for name in ("events.jsonl", "history.json"))


def wait_for_run(run_dir: Path, poll: float = WAIT_POLL_S) -> None:
    """Return once a run has started in run_dir, saying on stderr that it waits (a ``watch``
    typed just after ``train --out DIR &``, or before it); Ctrl-C leaves (exit 130)."""
    if holds_run(run_dir):
        return
    if run_dir.exists() and not run_dir.is_dir():
        raise CommandError(f"{run_dir}: not a directory")
    say(f"dnn-tui: waiting for a run to start in {visible(run_dir)} (Ctrl-C leaves)")
    while not holds_run(run_dir):
        time.sleep(poll)


def _watch(args: argparse.Namespace) -> int:
    root = Path(args.runs)
    if args.run is None:
        run_dir = newest_running(root)
    else:
        run_dir = Path(args.run)
        wait_for_run(run_dir)
    from dnn_tui.app.app import run_app
    from dnn_tui.config import RunConfig

    return run_app(RunConfig(), run_root=root, watch=run_dir)
