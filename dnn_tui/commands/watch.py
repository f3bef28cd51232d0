"""``dnn-tui watch [RUN_DIR]``: the lab screen on a run in another process, its keys steering it.

Without RUN_DIR it opens the newest running run under ``--runs`` (default ./runs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dnn_tui.commands.options import CommandError


def register(commands: argparse._SubParsersAction) -> None:
    watch = commands.add_parser(
        "watch",
        help="show a run of another process live in the dashboard; its keys steer it",
        epilog="The run goes on when the dashboard quits. Keys: space pause/resume, s stop, "
        "c clipping on/off, + and - the clipping threshold, enter in the lr field the "
        "learning rate; each reaches the run at its next step.",
    )
    watch.add_argument("run", metavar="RUN_DIR", nargs="?", help="default: the newest running")
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


def _watch(args: argparse.Namespace) -> int:
    root = Path(args.runs)
    if args.run is None:
        run_dir = newest_running(root)
    else:
        run_dir = Path(args.run)
        if not run_dir.is_dir():
            raise CommandError(f"{run_dir}: no such run directory")
        if not any((run_dir / name).is_file() for name in ("events.jsonl", "history.json")):
            raise CommandError(f"{run_dir}: not a run directory (no events.jsonl or history.json)")
    from dnn_tui.app.app import run_app
    from dnn_tui.config import RunConfig

    return run_app(RunConfig(), run_root=root, watch=run_dir)
