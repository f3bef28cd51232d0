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
    SUITES,
    load_preset,
    same_experiment,
    suite_presets,
)
from dnn_tui.rundir.launch import run_headless
from dnn_tui.training.status import EXIT_OK

if TYPE_CHECKING:
    from dnn_tui.data import Dataset


def register(commands: argparse._SubParsersAction) -> None:
    suite = commands.add_parser(
        "suite",
        help="run a named list of presets, then compare them",
        epilog="suites: "
        + "; ".join(f"{k}: {', '.join(v)}" for k, v in SUITES.items())
        + " (batch is batching's former name). The exit code is the worst of the runs' "
        "(3 when one diverged).",
    )
    suite.add_argument(
        "suite", nargs="?", choices=[*SUITES, *SUITE_ALIASES], metavar=choices(SUITES)
    )
    suite.add_argument("--list", action="store_true", help="list the suites and their presets")
    add_run_options(suite, source=False)
    add_out_options(suite)
    suite.set_defaults(handler=_suite)


def _cached(
    datasets: dict[tuple[DataConfig, int], Dataset], config: RunConfig
) -> Callable[[], Dataset]:
    """A loader of config's data that loads each (data, seed) once for the whole suite."""

    def load() -> Dataset:
        from dnn_tui.data import load_data

        key = (config.data, config.train.seed)
        if key not in datasets:
            datasets[key] = load_data(config)
        return datasets[key]

    return load


def _list_suites() -> int:
    for name, presets in SUITES.items():
        print(f"{name:<15} {', '.join(presets)}")
    return EXIT_OK


def _suite(args: argparse.Namespace) -> int:
    from dnn_tui.rundir.recorder import make_new_dir
    from dnn_tui.training.report import make_console

    if args.list:
        return _list_suites()
    if args.suite is None:
        raise UsageError("name a suite (dnn-tui suite --list shows them)")
    args.suite = SUITE_ALIASES.get(args.suite, args.suite)
    configs: dict[str, RunConfig] = {}
    for name in suite_presets(args.suite):  # every config is checked before the first run starts
        try:
            own = load_preset(name)
            config = config_from_args(
                args,
                base=own,
                warn=lambda text, name=name: print_warning(f"preset {name}: {text}"),
            )
        except ConfigError as error:
            raise ConfigError(f"preset {name}: {error}") from None
        # Options that change its experiment (--epochs 3) make it NAME (edited) in its config.
        if not same_experiment(config, own):
            config = replace(config, preset=name + EDITED)
        configs[name] = config
    if args.out is None:
        root = make_new_dir(f"suite-{args.suite}")
    else:  # each run's directory in it is claimed (and checked) as it starts
        root = Path(args.out)
        if str(args.out).strip() == "":
            raise CommandError("--out: the suite's directory must not be empty")
        if root.exists() and not root.is_dir():
            raise CommandError(f"{root}: --out must be a directory, and this is a file")
    console = make_console()
    datasets: dict[tuple[DataConfig, int], Dataset] = {}
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
    return code
