"""``dnn-tui sweep``: a grid of runs, several at once, then a comparison (seeds averaged)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnn_tui.commands.options import (
    RUN_OPTIONS,
    CommandError,
    UsageError,
    add_run_options,
    choices,
    config_from_args,
    flag,
    print_warning,
)
from dnn_tui.commands.suite import SUITES
from dnn_tui.config import ConfigError, RunConfig
from dnn_tui.fileio import shorten, shorten_path, visible
from dnn_tui.presets import load_preset
from dnn_tui.training.status import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, Status

if TYPE_CHECKING:
    from rich.console import Console

    from dnn_tui.sweeps.planning import Row

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def register(commands: argparse._SubParsersAction) -> None:
    sweep = commands.add_parser(
        "sweep",
        help="run a grid of runs, several at once, then compare them",
        epilog="Example: dnn-tui sweep --preset deep-sigmoid --grid activation=sigmoid,tanh,relu "
        "--grid init=default,xavier,he --epochs 5. Values of hidden and dropout are separated "
        "by / (--grid hidden=100,50/200/none). Each run is a run directory in the sweep folder, "
        "beside sweep.json. Ctrl-C, SIGTERM or SIGHUP stops every run after its current step "
        "(each saved as stopped); a second one ends them at once. Exit codes: 0 every run "
        "ended with a result (completed, early-stopped or diverged), 1 some run failed, "
        "2 usage error, 130 stopped.",
    )
    sweep.add_argument("file", metavar="SWEEP.toml", nargs="?", help="a sweep file: base + [grid]")
    sweep.add_argument("--suite", choices=SUITES, metavar=choices(SUITES), help="each preset")
    sweep.add_argument(
        "--grid", action="append", default=[], metavar="KEY=V1,V2", help="a run option's values"
    )
    add_run_options(sweep)
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", help="the sweep folder (new or empty)")
    where.add_argument(
        "--runs", metavar="DIR", default="runs", help="make the sweep folder in DIR (default: runs)"
    )
    sweep.add_argument(
        "--max-runs",
        type=int,
        metavar="N",
        help="the most runs the grid may make (default: 10,000; at most 100,000)",
    )
    sweep.add_argument("--jobs", type=int, metavar="N", help="runs at once (default: the cores)")
    sweep.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="run each run as a Ray task "
        "(no ADDRESS: a Ray instance on this machine; auto: the running cluster)",
    )
    sweep.add_argument("--ray-cpus", type=float, default=1.0, metavar="N", help="CPUs a Ray task")
    sweep.add_argument("--ray-gpus", type=float, default=0.0, metavar="N", help="GPUs a Ray task")
    sweep.add_argument(
        "--dashboard",
        action="store_true",
        help="run the sweep in a process of its own (log: SWEEP_DIR/sweep.log) and show it in "
        "the dashboard: its runs live, then their comparison; quitting leaves the sweep going",
    )
    sweep.set_defaults(handler=_sweep)


def _bases(args: argparse.Namespace) -> tuple[str, list[tuple[str | None, RunConfig]], list]:
    """The sweep's label, its base configs (fixed options applied) and the sweep file's grid."""
    from dnn_tui.sweeps.planning import load_sweep_file

    sources = [s for s in ("file", "suite", "preset", "config") if getattr(args, s) is not None]
    if len(sources) > 1:
        given = " and ".join("a sweep file" if s == "file" else f"--{s}" for s in sources)
        raise UsageError(f"give one of a sweep file, --suite, --preset or --config, not {given}")
    axes: list = []
    bases: list[tuple[str | None, RunConfig | None]]
    if args.suite is not None:
        bases = [(name, load_preset(name)) for name in SUITES[args.suite]]
        label = args.suite
    elif args.file is not None:
        config, axes = load_sweep_file(args.file)
        bases, label = [(config.preset, config)], Path(args.file).stem
    else:
        bases = [(args.preset, None)]
        label = args.preset or (Path(args.config).stem if args.config else "custom")
    out = []
    for name, base in bases:
        warn = print_warning
        if args.suite:
            warn = lambda t, n=name: print_warning(f"preset {n}: {t}")  # noqa: E731
        try:
            out.append((name, config_from_args(args, base=base, warn=warn)))
        except ConfigError as error:
            raise ConfigError(f"preset {name}: {error}" if args.suite else str(error)) from None
    return label, out, axes


def _plan(args: argparse.Namespace) -> tuple[str, list, list]:
    from dnn_tui.sweeps.planning import (
        DEFAULT_MAX_RUNS,
        MAX_SWEEP_RUNS,
        GridError,
        GridTooLarge,
        expand,
        parse_grid,
    )

    limit = DEFAULT_MAX_RUNS if args.max_runs is None else args.max_runs
    if not 1 <= limit <= MAX_SWEEP_RUNS:
        raise UsageError(f"--max-runs: must be 1 to {MAX_SWEEP_RUNS:,}, got {shorten(limit)}")
    label, bases, axes = _bases(args)
    try:
        axes = axes + [parse_grid(text) for text in args.grid]
        given = {name for name in RUN_OPTIONS if getattr(args, name, None) is not None}
        for axis in axes:
            if axis.name in given:
                raise GridError(f"{axis.name}: also given as {flag(axis.name)}; give it once")
        if not axes and args.suite is None:
            raise GridError("give at least one KEY=V1,V2 (or a sweep file with a [grid] table)")
        return label, expand(bases, axes, limit), axes
    except GridTooLarge as error:
        raise UsageError(str(error)) from None
    except GridError as error:
        if args.file is not None and not args.grid:
            raise ConfigError(f"{shorten_path(args.file)}: grid.{error}") from None
        raise UsageError(f"--grid {error}") from None


def _folder(args: argparse.Namespace, label: str, runs: list, axes: list) -> Path:
    """The sweep folder, claimed (``claim_sweep_dir``): two sweeps never share one."""
    from dnn_tui.rundir.recorder import make_new_dir
    from dnn_tui.sweeps.planning import SweepClaimError, claim_sweep_dir, new_state

    if args.out is None:
        root = make_new_dir(f"sweep-{label}", Path(args.runs))
    elif not args.out.strip():
        raise CommandError("--out: the sweep folder must not be empty")
    else:
        root = Path(args.out)
    try:
        claim_sweep_dir(root, new_state(runs, axes))
    except SweepClaimError as error:
        raise CommandError(str(error)) from None
    return root


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event, kill: threading.Event, say) -> Iterator[None]:
    def handle(_signum: int, _frame: object) -> None:
        if stop.is_set():
            kill.set()
            say("dnn-tui: ending every run now")
        else:
            stop.set()
            say("dnn-tui: stopping every run after its current step (again: at once)")

    previous = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _sweep(args: argparse.Namespace) -> int:
    from dnn_tui.training.threads import available_cores

    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs: must be at least 1, got {args.jobs}")
    if not args.ray_cpus > 0 or not args.ray_gpus >= 0:  # also refuses nan
        raise UsageError("--ray-cpus must be above 0 and --ray-gpus at least 0")
    label, runs, axes = _plan(args)
    cores = available_cores()
    jobs = args.jobs or max(1, min(cores, len(runs)))
    # The most threads a run takes (its OMP_NUM_THREADS): jobs x threads fits the cores. A
    # run's own --threads N is taken as it is; auto moves below this with the load.
    threads = max(1, cores // jobs)
    if args.ray is not None:
        from dnn_tui.sweeps.ray_tasks import ray_module

        ray_module()  # says how to install Ray before anything is made
    root = _folder(args, label, runs, axes)
    if args.dashboard:
        return _with_dashboard(root, lambda: _drive(args, label, runs, axes, root, jobs, threads))
    return _drive(args, label, runs, axes, root, jobs, threads)


def _threads_text(runs: list, cap: int) -> str:
    """``up to 2 torch threads each`` (auto), or the number the runs ask for."""
    asked = {run.config.train.threads for run in runs}
    if asked == {"auto"}:
        return f"up to {cap} torch thread{'s' if cap > 1 else ''} each"
    if len(asked) == 1:
        (count,) = asked
        return f"{count} torch thread{'s' if count != 1 else ''} each"
    return f"torch threads as each run asks (auto: up to {cap})"


def _with_dashboard(root: Path, drive_sweep: Callable[[], int]) -> int:
    """Drive the sweep in a forked process of its own session (so a closed terminal does
    not end it), its output in sweep.log; show it in the dashboard here."""
    import os
    import sys
    import traceback

    log = os.open(root / "sweep.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    if os.fork() == 0:  # nothing has started a thread yet: forking is safe
        code = EXIT_ERROR
        try:
            os.setsid()
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.dup2(log, 1)
            os.dup2(log, 2)
            code = drive_sweep()
        except BaseException:  # the log says why; the dashboard shows the sweep as it is
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(log)
    from dnn_tui.app.app import run_app

    return run_app(RunConfig(), run_root=root, sweep=root)


def _drive(
    args: argparse.Namespace,
    label: str,
    runs: list,
    axes: list,
    root: Path,
    jobs: int,
    threads: int,
) -> int:
    """Run the sweep's runs, report each as it ends, print the comparison; the exit code."""
    from dnn_tui.sweeps.local import LocalBackend, drive
    from dnn_tui.sweeps.planning import new_state
    from dnn_tui.training.report import make_console

    console = make_console()
    if args.ray is not None:
        from dnn_tui.sweeps.ray_tasks import RayBackend

        threads = max(1, int(args.ray_cpus))
        backend: Any = RayBackend(root, args.ray, args.ray_cpus, args.ray_gpus, threads, args.jobs)
        where = f"Ray tasks ({args.ray_cpus:g} CPU, {args.ray_gpus:g} GPU each)"
    else:
        backend = LocalBackend(root, jobs, threads)
        where = f"{jobs} at once"
    console.print(
        f"sweep of {len(runs)} runs, {where}, {_threads_text(runs, threads)}: {visible(root)}",
        markup=False,
    )
    state = new_state(
        runs, axes, backend="ray" if args.ray else "local", jobs=jobs, threads=threads
    )
    stop, kill = threading.Event(), threading.Event()

    def say(text: str) -> None:
        console.print(text, style="yellow", markup=False)

    with _stop_on_signals(stop, kill, say):
        state = drive(root, runs, state, backend, stop=stop, kill=kill, report=_progress(console))
    if hasattr(backend, "close"):
        backend.close()
    from dnn_tui.sweeps.planning import summarize, with_ensembles

    console.print(
        f"\n== sweep {visible(label)}: comparison ({visible(root)}) ==", style="bold", markup=False
    )
    rows = with_ensembles(root, summarize(state["runs"]))
    print_summary(rows, [axis.name for axis in axes], console)
    if state["status"] == Status.STOPPED:
        return EXIT_INTERRUPTED
    return EXIT_OK if state["status"] == Status.COMPLETED else EXIT_ERROR


def _progress(console: Console):
    from dnn_tui.training.numbers import fmt_acc

    def report(entry: Mapping[str, Any], done: int, total: int) -> None:
        text = f"[{done}/{total}] {entry['dir']}: {entry['status']}"
        if entry.get("best_val_acc") is not None:
            best = entry.get("best_epoch")
            text += f", best epoch {best}, val acc {fmt_acc(entry['best_val_acc'])}"
        if entry.get("seconds") is not None:
            text += f" ({entry['seconds']:.1f} s)"
        if entry.get("error"):
            text += f": {entry['error']}"
        console.print(visible(text), markup=False, overflow="fold")  # errors come from run files

    return report


def print_summary(rows: list[Row], axes: list[str], console: Console) -> None:
    """The comparison: one row per grid point (seeds averaged: mean ± standard deviation, and
    with several seeds the test accuracy of their ensemble), fitted to the console's width."""
    from dnn_tui.training.columns import Column, left_out_note, rich_table
    from dnn_tui.training.numbers import fmt_acc, fmt_acc_spread
    from dnn_tui.training.report import width_of

    columns = []
    presets = any(row.base for row in rows) and len({row.base for row in rows}) > 1
    if presets:
        columns.append(Column("preset", 0, name_width=8, right=False))
    names = [name for name in axes if name != "seed"]
    columns += [Column(name, 0, name_width=6, right=False) for name in names]
    columns += [Column("runs", 4), Column("best val acc", 0), Column("test acc", 1)]
    ensembles = any(row.ensemble is not None for row in rows)
    if ensembles:
        columns.append(Column("ensemble test acc", 2))
    columns.append(Column("status", 3, name_width=9, right=False))
    cells = []
    for row in rows:
        line = [visible(row.base)] if presets else []
        line += [visible(row.values.get(name, "")) for name in names]
        line += [str(row.runs), fmt_acc_spread(*(row.val or (None, None)))]
        line += [fmt_acc_spread(*(row.test or (None, None)))]
        if ensembles:
            line.append(fmt_acc(row.ensemble))
        line.append(", ".join(f"{n} {s}" for s, n in row.statuses.items()))
        cells.append(line)
    width = width_of(console)
    table, layout = rich_table(columns, cells, width)
    console.print(table)
    note = left_out_note(layout, width)
    if note:
        console.print(note, markup=False, overflow="fold")
