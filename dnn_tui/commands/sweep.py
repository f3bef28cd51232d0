"""``dnn-tui sweep``: a grid of runs, several at once, then a comparison (seeds averaged)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
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
    _add_search_options(sweep)
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


def _add_search_options(sweep: argparse.ArgumentParser) -> None:
    sweep.add_argument(
        "--search",
        choices=("random", "tpe"),
        metavar="{random,tpe}",
        help="sample --trials runs from the --space (Optuna: random or TPE) instead of a grid",
    )
    sweep.add_argument("--trials", type=int, metavar="N", help="runs a search makes")
    sweep.add_argument(
        "--space",
        action="append",
        default=[],
        metavar="KEY=SPEC",
        help="a searched run option: log:LO..HI, float:LO..HI, int:LO..HI or choice:V1,V2",
    )
    sweep.add_argument(
        "--prune",
        choices=("median", "asha"),
        metavar="{median,asha}",
        help="stop a search's trials whose validation loss lags (median, successive halving)",
    )
    sweep.add_argument(
        "--resume",
        metavar="SWEEP_DIR",
        help="go on with a sweep whose driver was killed: its finished runs are not run again",
    )


def _bases(args: argparse.Namespace) -> tuple[str, list[tuple[str | None, RunConfig]], list]:
    """The sweep's label, its base configs (fixed options applied) and the sweep file's grid
    (its ``[space]`` table, if any, in ``args.space_table``)."""
    from dnn_tui.sweeps.planning import load_sweep

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
        config, axes, args.space_table = load_sweep(args.file)
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


def _plan(args: argparse.Namespace) -> tuple[str, list, list, list]:
    """The sweep's label, its bases, its runs (a search: its dimensions) and its grid axes."""
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
    args.space_table = None
    label, bases, axes = _bases(args)
    if args.search is not None or args.space or args.space_table is not None:
        return label, bases, _search_plan(args, bases, axes), []
    if args.prune or args.trials is not None:
        raise UsageError("--prune and --trials: only with --search")
    try:
        axes = axes + [parse_grid(text) for text in args.grid]
        given = {name for name in RUN_OPTIONS if getattr(args, name, None) is not None}
        for axis in axes:
            if axis.name in given:
                raise GridError(f"{axis.name}: also given as {flag(axis.name)}; give it once")
        if not axes and args.suite is None:
            raise GridError("give at least one KEY=V1,V2 (or a sweep file with a [grid] table)")
        return label, bases, expand(bases, axes, limit), axes
    except GridTooLarge as error:
        raise UsageError(str(error)) from None
    except GridError as error:
        if args.file is not None and not args.grid:
            raise ConfigError(f"{shorten_path(args.file)}: grid.{error}") from None
        raise UsageError(f"--grid {error}") from None


def _search_plan(args: argparse.Namespace, bases: list, axes: list) -> Any:
    """The search's dimensions, each checked on the base config (exit 2 naming the key and
    the rule); a search makes its runs as it goes, so the plan is the space."""
    from dnn_tui.sweeps.planning import MAX_SWEEP_RUNS
    from dnn_tui.sweeps.space import SpaceError, check_space, from_table, parse_dimension

    if args.search is None:
        raise UsageError("--space: give --search random or --search tpe with it")
    if axes or args.grid:
        raise UsageError("--search samples its --space; give no --grid (or [grid] table) with it")
    if args.suite is not None:
        raise UsageError(
            "--search: give one base (--preset, --config or a sweep file), not --suite"
        )
    if args.trials is None or not 1 <= args.trials <= MAX_SWEEP_RUNS:
        raise UsageError(f"--trials: give the runs of the search, 1 to {MAX_SWEEP_RUNS:,}")
    if args.space_table is not None:
        try:
            dims = from_table(args.space_table, f"{shorten_path(args.file)}: space")
        except SpaceError as error:
            raise ConfigError(str(error)) from None
    else:
        dims = []
    try:
        dims += [parse_dimension(text) for text in args.space]
        given = {name for name in RUN_OPTIONS if getattr(args, name, None) is not None}
        for dim in dims:
            if dim.name in given:
                raise SpaceError(f"{dim.name}: also given as {flag(dim.name)}; give it once")
        check_space(bases[0][1], dims)
    except SpaceError as error:
        raise UsageError(f"--space {error}") from None
    return dims


def _search_state(args: argparse.Namespace, dims: list, seed: int) -> dict[str, Any]:
    """sweep.json's fields of a search."""
    from dnn_tui.sweeps.search import OBJECTIVE, STUDY_FILE

    return {
        "search": args.search,
        "space": {dim.name: dim.spec().partition("=")[2] for dim in dims},
        "trials": args.trials,
        "prune": args.prune,
        "seed": seed,
        "study": STUDY_FILE,
        "objective": OBJECTIVE,
    }


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
        search = {"search": args.search} if args.search else {}
        claim_sweep_dir(root, new_state(runs, axes, **search))
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
    if args.resume is not None:
        return _resume(args)
    label, bases, runs, axes = _plan(args)
    search = None
    if args.search is not None:
        dims, runs = runs, []
        search = (bases[0], dims, _search_state(args, dims, bases[0][1].train.seed))
    count = args.trials if search is not None else len(runs)
    cores = available_cores()
    jobs = args.jobs or max(1, min(cores, count))
    # The most threads a run takes (its OMP_NUM_THREADS): jobs x threads fits the cores. A
    # run's own --threads N is taken as it is; auto moves below this with the load.
    threads = max(1, cores // jobs)
    if args.ray is not None:
        from dnn_tui.sweeps.ray_tasks import ray_module

        ray_module()  # says how to install Ray before anything is made
    root = _folder(args, label, runs, axes)
    from dnn_tui.sweeps.resumption import write_bases

    write_bases(root, bases)
    plan = Plan(label, runs, axes, search)
    if args.dashboard:
        return _with_dashboard(root, lambda: _drive(args, plan, root, jobs, threads))
    return _drive(args, plan, root, jobs, threads)


@dataclass(frozen=True)
class Plan:
    """What a sweep runs: its grid's runs and axes, or a search (base, dimensions, fields);
    a resumed sweep adds its state and the runs still going."""

    label: str
    runs: list
    axes: list
    search: tuple | None = None
    state: dict[str, Any] | None = None
    adopted: tuple = ()


def _threads_text(configs: list[RunConfig], cap: int) -> str:
    """``up to 2 torch threads each`` (auto), or the number the runs ask for."""
    asked = {config.train.threads for config in configs}
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


def _drive(args: argparse.Namespace, plan: Plan, root: Path, jobs: int, threads: int) -> int:
    """Run the sweep's runs, report each as it ends, print the comparison; the exit code."""
    from dnn_tui.sweeps.local import LocalBackend, drive
    from dnn_tui.sweeps.planning import new_state
    from dnn_tui.sweeps.resumption import hold_lock
    from dnn_tui.training.report import make_console, print_folded

    console = make_console()
    lock = hold_lock(root)  # held until this process ends: no second driver
    search = _search(root, plan)
    if args.ray is not None:
        from dnn_tui.sweeps.ray_tasks import RayBackend

        threads = max(1, int(args.ray_cpus))
        backend: Any = RayBackend(root, args.ray, args.ray_cpus, args.ray_gpus, threads, args.jobs)
        where = f"Ray tasks ({args.ray_cpus:g} CPU, {args.ray_gpus:g} GPU each)"
    else:
        backend = LocalBackend(root, jobs, threads)
        where = f"{jobs} at once"
    runs, fields = plan.runs, plan.search[2] if plan.search else {}
    if plan.state is None:
        backend_name = "ray" if args.ray else "local"
        state = new_state(
            runs, plan.axes, **fields, backend=backend_name, jobs=jobs, threads=threads
        )
    else:
        state, runs = plan.state, _resumed(root, plan, search, backend, console)
    count = search.trials if search else len(runs)
    kind = f"{search.trials} trials ({plan.search[2]['search']})" if search else f"{count} runs"
    print_folded(
        console,
        f"sweep of {kind}, {where}, {_threads_text(_configs(plan, runs), threads)}: "
        f"{visible(root)}",
    )
    stop, kill = threading.Event(), threading.Event()

    def say(text: str) -> None:
        console.print(text, style="yellow", markup=False)

    with _stop_on_signals(stop, kill, say):
        state = drive(
            root,
            runs,
            state,
            backend,
            stop=stop,
            kill=kill,
            report=_progress(console),
            search=search,
        )
    if hasattr(backend, "close"):
        backend.close()
    os.close(lock)
    from dnn_tui.sweeps.planning import summarize, with_ensembles

    console.print("")
    print_folded(
        console, f"== sweep {visible(plan.label)}: comparison ({visible(root)}) ==", "bold"
    )
    rows = with_ensembles(root, summarize(state["runs"]))
    names = [axis.name for axis in plan.axes] or list(state.get("space") or {})
    print_summary(rows, names, console)
    if state["status"] == Status.STOPPED:
        return EXIT_INTERRUPTED
    return EXIT_OK if state["status"] == Status.COMPLETED else EXIT_ERROR


def _configs(plan: Plan, runs: list) -> list[RunConfig]:
    """The configs the sweep starts runs from (a search: its base)."""
    if plan.search is not None:
        return [plan.search[0][1]]
    return [run.config for run in runs] or [RunConfig()]


def _search(root: Path, plan: Plan) -> Any:
    """The search's study (made or loaded in the sweep folder), None for a grid."""
    if plan.search is None:
        return None
    from dnn_tui.sweeps.search import Search

    base, dims, fields = plan.search
    sampler_seed = fields["seed"] + (len(plan.state["runs"]) if plan.state else 0)
    return Search(
        root, base, dims, fields["trials"], fields["search"], fields["prune"], sampler_seed
    )


def _resumed(root: Path, plan: Plan, search: Any, backend: Any, console: Console) -> list:
    """The runs a resumed sweep starts; the runs still going are handed to the backend."""
    from dnn_tui.sweeps.resumption import read_bases, resume

    state = plan.state
    assert state is not None
    follow = hasattr(backend, "adopt")
    found = resume(root, state, read_bases(root), search, follow_going=follow)
    for run, number in found.adopted:
        backend.adopt(run)
        if search is not None and number is not None:
            search.adopt(run, number)
    state["status"] = Status.RUNNING
    state["resumed"] = int(state.get("resumed") or 0) + 1
    state.pop("ended", None)
    console.print(
        f"resuming: {len(found.adopted)} runs still going (followed), {found.taken} ended "
        f"meanwhile, {found.interrupted + len(found.pending)} interrupted or not started "
        f"({'asked anew' if search else 'run again'})",
        markup=False,
    )
    return found.pending


def _resume(args: argparse.Namespace) -> int:
    """``--resume SWEEP_DIR``: the sweep's plan read back from its folder."""
    from dnn_tui.sweeps.planning import read_state
    from dnn_tui.sweeps.resumption import ResumeError, read_bases
    from dnn_tui.sweeps.space import parse_dimension
    from dnn_tui.training.threads import available_cores

    planned = [
        s
        for s in ("file", "suite", "preset", "config", "search", "trials", "prune")
        if getattr(args, s) is not None
    ]
    planned += [name for name in RUN_OPTIONS if getattr(args, name, None) is not None]
    if planned or args.grid or args.space or args.out is not None:
        given = ", ".join(flag(name) if name in RUN_OPTIONS else name for name in planned)
        raise UsageError(
            "--resume goes on with the sweep as planned; give no plan "
            f"({given or '--grid, --space, --out'})"
        )
    root = Path(args.resume)
    state = read_state(root)
    if state is None:
        raise CommandError(f"{shorten_path(root)}: not a sweep folder (no readable sweep.json)")
    try:
        bases = read_bases(root)
    except ResumeError as error:
        raise CommandError(str(error)) from None
    label = root.name
    if state.get("search"):
        dims = [parse_dimension(f"{k}={v}") for k, v in (state.get("space") or {}).items()]
        fields = {k: state.get(k) for k in ("search", "space", "trials", "prune", "seed")}
        plan = Plan(label, [], [], (bases[0], dims, fields), state)
    else:
        from dnn_tui.sweeps.planning import Axis

        axes = [Axis(k, tuple(v)) for k, v in (state.get("grid") or {}).items()]
        plan = Plan(label, [], axes, None, state)
    cores = available_cores()
    jobs = args.jobs or int(state.get("jobs") or 1)
    threads = max(1, cores // jobs)
    if args.dashboard:
        return _with_dashboard(root, lambda: _drive(args, plan, root, jobs, threads))
    return _drive(args, plan, root, jobs, threads)


def _progress(console: Console):
    from dnn_tui.training.numbers import fmt_acc

    def report(entry: Mapping[str, Any], done: int, total: int) -> None:
        text = f"[{done}/{total}] {entry['dir']}: {entry['status']}"
        if entry.get("pruned_at") is not None:
            text += f" at epoch {entry['pruned_at']}"
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
