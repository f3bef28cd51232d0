"""``dnn-tui export RUN_DIR... --tensorboard DIR``: saved runs as TensorBoard event files, one
subfolder of DIR a run, named by the run's folder.

Every run directory is read by the one loader (``rundir.files.load_run``); a damaged one is
named with the reason, the others are still exported, and the exit code is then 1. A
subfolder is made new for each run (``NAME-2``, ``NAME-3`` ... when the name is taken: two
runs of the same folder name, or an earlier export), so an export never mixes its records
with others'.
"""

from __future__ import annotations

import argparse
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dnn_tui.commands.options import say_run_error
from dnn_tui.fileio import file_kind, visible
from dnn_tui.training.columns import fold, output_width
from dnn_tui.training.status import EXIT_ERROR, EXIT_OK, say

if TYPE_CHECKING:
    from dnn_tui.rundir.files import SavedRun

RUN_MARKERS = ("config.toml", "history.json", "sweep.json")
"""Files of a run or a sweep folder: an export is never written into one."""
MAX_SUFFIX = 10_000
"""Subfolders named ``NAME-2`` to this at most: beyond, a folder full of exports is refused."""


def register(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export",
        help="export saved runs for other tools: TensorBoard event files",
        epilog="Each run goes to a new subfolder of DIR named by its folder (NAME-2 ... when "
        "taken). A damaged run directory is named with the reason; the other runs are still "
        'exported, and the exit code is then 1. Needs tensorboardX: pip install "dnn-tui'
        '[tensorboard]".',
    )
    export.add_argument(
        "runs", metavar="RUN_DIR", nargs="+", type=Path, help="run directories to export"
    )
    export.add_argument(
        "--tensorboard",
        metavar="DIR",
        type=Path,
        required=True,
        help="write TensorBoard event files into DIR (made if missing), a subfolder a run",
    )
    export.set_defaults(handler=_export)


class ExportRefused(Exception):
    """The export folder cannot be used."""


def export_folder(path: Path) -> Path:
    """The export folder, made if missing; refused when it is something else than a folder
    (a file, a link, a FIFO) or when it is a run's or a sweep's folder."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        path.mkdir(parents=True)
        return path
    if stat.S_ISLNK(info.st_mode) and path.is_dir():
        return export_folder(path.resolve())
    if not stat.S_ISDIR(info.st_mode):
        raise ExportRefused(f"{path}: {file_kind(info.st_mode)}: the export needs a folder")
    marker = next((m for m in RUN_MARKERS if (path / m).exists()), None)
    if marker is not None:
        raise ExportRefused(
            f"{path}: the folder holds a run or a sweep ({marker}): export into another folder"
        )
    return path


def run_name(run: Path) -> str:
    """The subfolder name of a run: its folder's name (``.`` named by where it is)."""
    return run.name if run.name not in ("", ".", "..") else run.resolve().name or "run"


def claim_subfolder(root: Path, name: str) -> Path:
    """A new subfolder of root: ``name``, or ``name-2``, ``name-3`` ... when taken (mkdir, so
    two exports at once never share one)."""
    for n in range(1, MAX_SUFFIX + 1):
        folder = root / (name if n == 1 else f"{name}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise ExportRefused(f"{root}: {name}-2 to {name}-{MAX_SUFFIX} are all taken")


def _export(args: argparse.Namespace) -> int:
    from dnn_tui.analysis.tensorboard import WriterMissing, check_writer

    try:
        check_writer()
        root = export_folder(args.tensorboard)
    except (WriterMissing, ExportRefused) as error:
        say(f"dnn-tui: error: {visible(error)}")
        return EXIT_ERROR
    failed = export_runs(args.runs, root)
    return EXIT_ERROR if failed else EXIT_OK


def export_runs(paths: Sequence[Path], root: Path) -> int:
    """Export each run into its subfolder of root, saying where on stdout; a run that does not
    load or write is named on stderr and the others go on. Returns the number that failed."""
    from dnn_tui.rundir.files import RunError, load_run

    failed = 0
    for path in paths:
        try:
            run = load_run(path)
            _export_one(run, root)
        except RunError as error:
            say_run_error(error)
            failed += 1
        except (OSError, ExportRefused) as error:
            line = f"dnn-tui: error: {visible(path)}: not exported: {visible(error)}"
            say(line)
            failed += 1
    return failed


def _export_one(run: SavedRun, root: Path) -> None:
    from dnn_tui.analysis.tensorboard import write_events

    name = run_name(run.path)
    folder = claim_subfolder(root, name)
    try:
        epochs = write_events(run, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # the folder this export made, nothing else
        raise
    taken = "" if folder.name == name else f" ({name} was taken)"
    line = f"{visible(run.path)} -> {visible(folder)}: {epochs} epochs{taken}"
    print("\n".join(fold(line, output_width())))
