"""``dnn-tui eval``: reload a run's saved weights and evaluate them on a test split."""

from __future__ import annotations

import argparse
from pathlib import Path

from dnn_tui.commands.options import UsageError, check_used, choices, given_options
from dnn_tui.config import DATASETS, DEVICES
from dnn_tui.training.status import EXIT_OK

EVAL_OPTIONS = ("dataset", "data_dir", "idx_images", "idx_labels", "device")
"""The run options eval takes: other data to evaluate on, and where."""


def register(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser("eval", help="evaluate a saved model on a test split")
    evaluate.add_argument("run", metavar="RUN_DIR", type=Path)
    evaluate.add_argument(
        "--dataset", metavar=choices(DATASETS), help="another dataset's test split"
    )
    evaluate.add_argument("--data-dir", metavar="DIR")
    evaluate.add_argument("--idx-images", metavar="FILE")
    evaluate.add_argument("--idx-labels", metavar="FILE")
    evaluate.add_argument("--device", metavar=choices(DEVICES))
    _add_confusion_options(evaluate)
    evaluate.set_defaults(handler=_eval, parser=evaluate)


def _eval(args: argparse.Namespace) -> int:
    from dnn_tui.analysis.restore import restore_run
    from dnn_tui.training.engine import evaluate

    if args.confusion or args.counts or args.json:
        return _confusion(args)
    options = given_options(args, EVAL_OPTIONS)
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


# --- the confusion matrix (--confusion) ------------------------------------------------------


def _add_confusion_options(evaluate: argparse.ArgumentParser) -> None:
    group = evaluate.add_argument_group("what the model gets wrong")
    group.add_argument(
        "--confusion",
        action="store_true",
        help="the confusion matrix (rows: true class, as %% of the row), per-class accuracy "
        "and the most confused pairs; from evaluation.json, or the saved weights",
    )
    group.add_argument(
        "--counts", action="store_true", help="with --confusion: counts instead of percentages"
    )
    group.add_argument(
        "--json", action="store_true", help="with --confusion: evaluation.json's fields as JSON"
    )


def _confusion(args: argparse.Namespace) -> int:
    """``eval --confusion``: the stored evaluation, or one computed from the saved weights
    (always when other data is named)."""
    from dnn_tui.analysis.errors import evaluation_of, report_lines
    from dnn_tui.fileio import visible
    from dnn_tui.rundir.files import dumps_evaluation
    from dnn_tui.training.report import make_console

    if not args.confusion:
        given = "--json" if args.json else "--counts"
        raise UsageError(f"{given} goes with --confusion")
    options = given_options(args, EVAL_OPTIONS)
    evaluation, source = evaluation_of(
        args.run, options, check=lambda config: check_used(config, options)
    )
    if args.json:
        print(dumps_evaluation(evaluation), end="")
        return EXIT_OK
    console = make_console()
    console.print(visible(args.run), soft_wrap=True, markup=False, highlight=False)
    for line in report_lines(evaluation, source, counts=args.counts):
        console.print(line, soft_wrap=True, markup=False, highlight=False)
    return EXIT_OK
