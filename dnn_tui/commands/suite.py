"""``dnn-tui suite NAME``: a named list of presets run one after the other, then compared."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from dnn_tui.commands.compare import load_runs, print_comparison
from dnn_tui.commands.options import (
    CommandError,
    UsageError,
    add_run_options,
    choices,
    config_from_args,
    print_warning,
)
from dnn_tui.commands.train import add_out_options, claim_folder
from dnn_tui.config import ConfigError, DataConfig, RunConfig
from dnn_tui.fileio import visible
from dnn_tui.presets import (
    EDITED,
    SUITE_ALIASES,
    SUITE_SEEDS,
    SUITES,
    load_preset,
    same_experiment,
    suite_runs,
    suite_text,
)
from dnn_tui.rundir.launch import run_headless
from dnn_tui.training.status import EXIT_OK

if TYPE_CHECKING:
    from rich.console import Console

    from dnn_tui.data import Dataset


def register(commands: argparse._SubParsersAction) -> None:
    suite = commands.add_parser(
        "suite",
        help="run a named list of presets, then compare them",
        epilog="suites: "
        + "; ".join(f"{name}: {suite_text(name)}" for name in SUITES)
        + " (batch is batching's former name). The exit code is the worst of the runs' "
        "(3 when one diverged).",
    )
    suite.add_argument(
        "suite",
        nargs="?",
        choices=[*SUITES, *SUITE_ALIASES],
        metavar=choices(SUITES),
        help="the suite to run (--list shows them)",
    )
    suite.add_argument("--list", action="store_true", help="list the suites and their presets")
    add_run_options(suite, source=False)
    add_out_options(
        suite,
        "the suite's directory, one run directory per preset in it "
        "(default: runs/<time>-suite-<name>)",
    )
    suite.set_defaults(handler=_suite)


def _cached(datasets: dict[DataConfig, Dataset], config: RunConfig) -> Callable[[], Dataset]:
    """A loader of config's data that loads each data config (split seed included) once for
    the whole suite."""

    def load() -> Dataset:
        from dnn_tui.data import load_data

        if config.data not in datasets:
            datasets[config.data] = load_data(config)
        return datasets[config.data]

    return load


def _list_suites() -> int:
    for name in SUITES:
        print(f"{name:<15} {suite_text(name)}")
    return EXIT_OK


def _suite(args: argparse.Namespace) -> int:
    from dnn_tui.rundir.recorder import make_new_dir
    from dnn_tui.training.report import make_console

    if args.list:
        return _list_suites()
    if args.suite is None:
        raise UsageError("name a suite (dnn-tui suite --list shows them)")
    args.suite = SUITE_ALIASES.get(args.suite, args.suite)
    seeds = SUITE_SEEDS.get(args.suite)
    if seeds is not None and args.seed is not None:
        raise UsageError(
            f"--seed: the suite {args.suite} sets the seeds ({', '.join(map(str, seeds))})"
        )
    configs: dict[str, RunConfig] = {}
    for run in suite_runs(args.suite):  # every config is checked before the first run starts
        name = run.preset
        base = load_preset(name)
        if run.seed is not None:
            base = replace(base, train=replace(base.train, seed=run.seed))
        try:
            config = config_from_args(
                args,
                base=base,
                warn=lambda text, name=name: print_warning(f"preset {name}: {text}"),
            )
        except (ConfigError, UsageError) as error:
            raise type(error)(f"preset {name}: {error}") from None
        # Options that change its experiment (--epochs 3) make it NAME (edited) in its config.
        if not same_experiment(config, base):
            config = replace(config, preset=name + EDITED)
        configs[run.name] = config
    if args.out is None:
        root = make_new_dir(f"suite-{args.suite}")
    else:  # each run's directory in it is claimed (and checked) as it starts
        root = Path(args.out)
        if str(args.out).strip() == "":
            raise CommandError("--out: the suite's directory must not be empty")
        if root.exists() and not root.is_dir():
            raise CommandError(f"{root}: --out must be a directory, and this is a file")
    console = make_console()
    datasets: dict[DataConfig, Dataset] = {}
    code, done = EXIT_OK, []
    for i, (name, config) in enumerate(configs.items(), 1):
        console.print(
            f"\n== suite {args.suite}, run {i} of {len(configs)}: {name} ==", style="bold"
        )
        folder = claim_folder(str(root / name), args.force, name)
        outcome = run_headless(config, folder, _cached(datasets, config), console)
        if outcome.error:
            console.print(f"run {name} failed: {visible(outcome.error)}", style="red", markup=False)
        done.append(root / name)
        code = max(code, outcome.exit_code)
        if outcome.interrupted:
            break
    console.print(f"\n== suite {args.suite}: comparison ==", style="bold")
    runs, damaged = load_runs([path for path in done if path.is_dir()])
    if runs:
        print_comparison(runs, console)
    for error in damaged:
        console.print(f"not compared: {visible(error)}", style="red", markup=False)
    if seeds is not None:
        _print_suite_ensemble(args.suite, [run.path for run in runs], console)
    return code


def _print_suite_ensemble(suite: str, runs: list[Path], console: Console) -> None:
    """The suite's runs as one ensemble, or why they are none."""
    from dnn_tui.analysis.ensemble import evaluate_ensemble
    from dnn_tui.commands.evaluate import print_ensemble
    from dnn_tui.rundir.files import RunError

    console.print(f"\n== suite {suite}: ensemble ==", style="bold")
    try:
        print_ensemble(evaluate_ensemble(runs), console)
    except RunError as error:
        console.print(f"no ensemble: {visible(error)}", style="red", markup=False)
