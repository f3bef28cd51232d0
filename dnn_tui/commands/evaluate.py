"""``dnn-tui eval``: reload a run's saved weights and evaluate them on a test split."""

from __future__ import annotations

import argparse
from pathlib import Path

from dnn_tui.commands.options import check_used, choices, flag, given_options
from dnn_tui.config import DATASETS, DEVICES
from dnn_tui.options import OPTIONS_BY_NAME
from dnn_tui.training.status import EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser("eval", help="evaluate a saved model on a test split")
    evaluate.add_argument("run", metavar="RUN_DIR", type=Path, help="a run directory")
    evaluate.add_argument(
        "--dataset", metavar=choices(DATASETS), help="another dataset's test split"
    )
    for name in ("data_dir", "idx_images", "idx_labels"):
        option = OPTIONS_BY_NAME[name]
        evaluate.add_argument(flag(name), metavar=option.metavar, help=option.help)
    evaluate.add_argument(
        "--device", metavar=choices(DEVICES), help="where to evaluate (default: the run's)"
    )
    evaluate.set_defaults(handler=_eval, parser=evaluate)


def _eval(args: argparse.Namespace) -> int:
    from dnn_tui.analysis.restore import restore_run
    from dnn_tui.training.engine import evaluate

    options = given_options(args, ("dataset", "data_dir", "idx_images", "idx_labels", "device"))
    run = restore_run(args.run, options, check=lambda config: check_used(config, options))
    data, device = run.data, run.device
    metrics = evaluate(run.model, data.x_test.to(device), data.y_test.to(device))

    from dnn_tui.fileio import visible
    from dnn_tui.training.report import fmt_float, make_console

    console = make_console()
    console.print(
        f"{visible(run.saved.path)}: test accuracy {metrics['acc']:.4f} "
        f"(loss {metrics['loss']:.4f}) on {data.name}, {len(data.y_test)} samples",
        soft_wrap=True,
    )
    recorded = run.saved.history.get("dataset") or {}
    if data.name == recorded.get("name") and run.saved.history.get("test"):
        recorded_acc = run.saved.history["test"].get("acc")
        console.print(f"the run recorded test accuracy {fmt_float(recorded_acc, '.4f')}")
    return EXIT_OK
