"""``dnn-tui train``: one headless run, an epoch table on stdout, the run directory on disk.

Also the headless run itself (``run_headless``), which ``suite`` uses for each of its presets.
SIGINT and SIGTERM stop the run after its current step and save what it did.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dnn_tui.commands.options import (
    RUN_OPTIONS,
    CommandError,
    UsageError,
    add_run_options,
    config_from_args,
    given_options,
)
from dnn_tui.config import ConfigError

if TYPE_CHECKING:
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
    train.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue the run in RUN_DIR from its checkpoint (its latest epoch kept), in that "
        "directory; only --epochs, --lr, --clip-norm, --early-stopping and --threads may change",
    )
    train.set_defaults(handler=_train)


def add_out_options(
    parser: argparse.ArgumentParser,
    out_help: str = "run directory (default: runs/<time>-<preset>); new or empty",
) -> None:
    """``--out`` and ``--force``, as ``train`` and ``suite`` take them."""
    parser.add_argument("--out", metavar="DIR", help=out_help)
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace a finished run in --out (never a running one, nor other files)",
    )


def _train(args: argparse.Namespace) -> int:
    from dnn_tui.data import load_data
    from dnn_tui.rundir.launch import run_headless
    from dnn_tui.training.report import make_console

    if args.resume is not None:
        return _resume(args)
    config = config_from_args(args)
    folder = claim_folder(args.out, args.force, config.preset)
    console = make_console()
    outcome = run_headless(config, folder, lambda: load_data(config), console)
    if outcome.error:
        raise CommandError(f"the run failed: {outcome.error}")
    return outcome.exit_code


def claim_folder(out: str | None, force: bool, preset: str | None) -> Folder:
    """The run directory: --out claimed (refused when taken), or a new one under ./runs."""
    from dnn_tui.rundir.recorder import ClaimError, claim_new_run_dir, claim_run_dir

    try:
        if out is None:
            return claim_new_run_dir(preset)
        return claim_run_dir(out, force=force)
    except ClaimError as error:
        raise CommandError(str(error)) from None


def _resume(args: argparse.Namespace) -> int:
    """``--resume RUN_DIR``: the run goes on in its own directory (``rundir.resumption``)."""
    from dnn_tui.data import load_data
    from dnn_tui.rundir.launch import run_headless
    from dnn_tui.rundir.resumption import ResumeRefused, prepare_resumption
    from dnn_tui.training.report import make_console

    for name in ("preset", "config", "out"):
        if getattr(args, name) is not None:
            raise UsageError(f"--{name}: not with --resume (the run keeps its own)")
    if args.force:
        raise UsageError("--force: not with --resume (it never replaces a run)")
    try:
        changes = given_options(args, RUN_OPTIONS)
        resumption = prepare_resumption(args.resume, changes)
    except ResumeRefused as error:
        raise CommandError(str(error)) from None
    except ConfigError as error:
        raise UsageError(str(error)) from None
    config = resumption.config
    outcome = run_headless(
        config, resumption.folder, lambda: load_data(config), make_console(), resumption
    )
    if outcome.error:
        raise CommandError(f"the run failed: {outcome.error}")
    return outcome.exit_code
