"""``dnn-tui suite NAME``: a named list of presets run one after the other, then compared."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from dnn_tui.commands.compare import print_comparison
from dnn_tui.commands.options import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    add_run_options,
    choices,
    config_from_args,
    load_data,
)
from dnn_tui.commands.train import check_out, run_headless
from dnn_tui.config import ConfigError, DataConfig, RunConfig
from dnn_tui.presets import load_preset

if TYPE_CHECKING:
    from dnn_tui.data import Dataset

SUITES: dict[str, tuple[str, ...]] = {
    "regularization": ("baseline", "l2", "dropout", "bottleneck"),
    "gradients": ("deep-sigmoid", "deep-relu-he", "deep-tanh-xavier"),
    "batch": ("full-batch", "baseline", "small-batch"),
    "clipping": ("exploding", "exploding-clipped"),
    "depth": ("shallow", "baseline"),
}
"""``dnn-tui suite NAME``: presets run one after the other, then compared."""


def register(commands: argparse._SubParsersAction) -> None:
    suite = commands.add_parser(
        "suite",
        help="run a named list of presets, then compare them",
        epilog="suites: "
        + "; ".join(f"{k}: {', '.join(v)}" for k, v in SUITES.items())
        + ". The exit code is the worst of the runs' (3 when one diverged).",
    )
    suite.add_argument("suite", choices=SUITES, metavar=choices(SUITES))
    add_run_options(suite, source=False)
    suite.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        help="parent of the run directories, one per preset (default: runs/<time>-suite-NAME)",
    )
    suite.set_defaults(handler=_suite)


def _suite(args: argparse.Namespace) -> int:
    from dnn_tui.report import make_console
    from dnn_tui.runs import default_run_dir, load_run

    configs: dict[str, RunConfig] = {}
    for name in SUITES[args.suite]:  # every config is checked before the first run starts
        try:
            configs[name] = config_from_args(args, base=load_preset(name))
        except ConfigError as error:
            raise ConfigError(f"preset {name}: {error}") from None
    root = args.out or default_run_dir(f"suite-{args.suite}")
    check_out(root)
    console = make_console()
    datasets: dict[tuple[DataConfig, int], Dataset] = {}
    code, done = EXIT_OK, []
    for i, (name, config) in enumerate(configs.items(), 1):
        console.print(
            f"\n== suite {args.suite}, run {i} of {len(configs)}: {name} ==", style="bold"
        )
        key = (config.data, config.train.seed)
        if key not in datasets:
            datasets[key] = load_data(config)
        outcome = run_headless(config, root / name, datasets[key], console)
        done.append(root / name)
        code = max(code, outcome.exit_code)
        if outcome.exit_code == EXIT_INTERRUPTED:
            break
    console.print(f"\n== suite {args.suite}: comparison ==", style="bold")
    print_comparison([load_run(path) for path in done], console)
    return code
