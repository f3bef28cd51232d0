"""``dnn-tui eval``: reload a run's saved weights and evaluate them on a test split."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dnn_tui.commands.options import UsageError, check_used, choices, flag, given_options
from dnn_tui.config import DATASETS, DEVICES
from dnn_tui.options import OPTIONS_BY_NAME
from dnn_tui.training.status import EXIT_OK

if TYPE_CHECKING:
    from rich.console import Console

    from dnn_tui.analysis.ensemble import EnsembleScore


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
    _add_ensemble_arguments(evaluate)
    _add_confusion_arguments(evaluate)
    _add_trace_arguments(evaluate)
    _add_boundary_arguments(evaluate)
    evaluate.set_defaults(handler=_eval, parser=evaluate)


DATA_OPTIONS = ("dataset", "data_dir", "idx_images", "idx_labels", "device")
"""The run options eval takes: where the test split comes from and where the model runs."""


def _eval(args: argparse.Namespace) -> int:
    from dnn_tui.analysis.restore import restore_run
    from dnn_tui.training.engine import evaluate

    if args.trace or args.sample is not None or args.split is not None:
        return _trace(args)
    if args.boundary:
        return _boundary(args)
    if args.confusion or args.counts:
        return _confusion(args)
    if args.ensemble or args.more_runs or args.json:
        return _eval_ensemble(args)
    options = given_options(args, DATA_OPTIONS)
    run = restore_run(args.run, options, check=lambda config: check_used(config, options))
    data, device = run.data, run.device
    metrics = evaluate(run.model, data.x_test.to(device), data.y_test.to(device))

    from dnn_tui.fileio import visible
    from dnn_tui.training.numbers import fmt_acc, fmt_loss
    from dnn_tui.training.report import make_console, print_folded

    console = make_console()
    print_folded(
        console,
        f"{visible(run.saved.path)}: test accuracy {fmt_acc(metrics['acc'])} "
        f"(loss {fmt_loss(metrics['loss'])}) on {data.name}, {len(data.y_test)} samples",
    )
    recorded = run.saved.history.get("dataset") or {}
    if data.name == recorded.get("name") and run.saved.history.get("test"):
        recorded_acc = run.saved.history["test"].get("acc")
        console.print(f"the run recorded test accuracy {fmt_acc(recorded_acc)}")
    return EXIT_OK


# --- ensembles --------------------------------------------------------------------------------


def _add_ensemble_arguments(evaluate: argparse.ArgumentParser) -> None:
    evaluate.add_argument(
        "more_runs", nargs="*", metavar="RUN_DIR", type=Path, help="more runs (with --ensemble)"
    )
    evaluate.add_argument(
        "--ensemble",
        action="store_true",
        help="average the runs' softmax outputs on their shared test split",
    )
    evaluate.add_argument("--json", action="store_true", help="print the result as JSON")


def _eval_ensemble(args: argparse.Namespace) -> int:
    """``eval RUN... --ensemble [--json]``: each member's test accuracy and loss, and the
    ensemble's."""
    if not args.ensemble:
        if not args.more_runs:
            raise UsageError("--json: only with --ensemble or --confusion")
        raise UsageError("several runs: only with --ensemble (average the runs' outputs)")
    from dnn_tui.analysis.ensemble import evaluate_ensemble

    options = given_options(args, DATA_OPTIONS)
    score = evaluate_ensemble(
        [args.run, *args.more_runs], options, check=lambda config: check_used(config, options)
    )
    if args.json:
        sys.stdout.write(json.dumps(score.to_json(), indent=1, allow_nan=False) + "\n")
        return EXIT_OK
    from dnn_tui.training.report import make_console

    print_ensemble(score, make_console())
    return EXIT_OK


def print_ensemble(score: EnsembleScore, console: Console) -> None:
    """Each member's test accuracy and loss, their mean, and the ensemble's."""
    from dnn_tui.fileio import visible
    from dnn_tui.training.columns import Column, fit, plain_lines
    from dnn_tui.training.numbers import fmt_acc, fmt_loss
    from dnn_tui.training.report import width_of

    console.print(
        f"ensemble of {len(score.members)} runs on the test split of {score.dataset} "
        f"({score.count} samples, split seed {score.split_seed})",
        overflow="fold",
        markup=False,
    )
    rows = [(visible(m.run), m.acc, m.loss) for m in score.members]
    rows += [("mean member", score.mean_member_acc, score.mean_member_loss)]
    rows += [("ensemble", score.acc, score.loss)]
    columns = [Column("run", 0, name_width=12, right=False), Column("test acc"), Column("loss")]
    cells = [[name, fmt_acc(acc), fmt_loss(loss)] for name, acc, loss in rows]
    layout = fit(columns, cells, width_of(console), wrap=False)
    for line in plain_lines(columns, cells, layout):
        console.print(line, markup=False, overflow="fold")
    gain = (score.acc - score.mean_member_acc) * 100
    console.print(f"the ensemble is {gain:+.2f} points from the mean member", markup=False)


# --- what a run gets wrong (--confusion) -----------------------------------------------------


def _add_confusion_arguments(evaluate: argparse.ArgumentParser) -> None:
    evaluate.add_argument(
        "--confusion",
        action="store_true",
        help="the confusion matrix (rows: true class, as %% of the row), per-class accuracy "
        "and the most confused pairs; from evaluation.json, or the saved weights (--json: "
        "evaluation.json's fields)",
    )
    evaluate.add_argument(
        "--counts", action="store_true", help="with --confusion: counts instead of percentages"
    )


def _confusion(args: argparse.Namespace) -> int:
    """``eval RUN --confusion [--counts] [--json]``: the stored evaluation, or one computed
    from the saved weights (always when other data is named)."""
    if not args.confusion:
        raise UsageError("--counts: only with --confusion")
    if args.ensemble or args.more_runs:
        raise UsageError("--confusion: one run, without --ensemble")
    from dnn_tui.analysis.errors import TABLE_WIDTH, evaluation_of, report_lines
    from dnn_tui.fileio import visible
    from dnn_tui.rundir.files import dumps_evaluation
    from dnn_tui.training.report import make_console, print_folded, width_of

    options = given_options(args, DATA_OPTIONS)
    evaluation, source = evaluation_of(
        args.run, options, check=lambda config: check_used(config, options)
    )
    if args.json:
        sys.stdout.write(dumps_evaluation(evaluation))
        return EXIT_OK
    console = make_console()
    print_folded(console, visible(args.run))
    width = width_of(console) or TABLE_WIDTH
    for line in report_lines(evaluation, source, counts=args.counts, width=width):
        console.print(line, overflow="fold", markup=False, highlight=False)
    return EXIT_OK


# --- one sample's pass (--trace) --------------------------------------------------------------


def _add_trace_arguments(evaluate: argparse.ArgumentParser) -> None:
    evaluate.add_argument(
        "--trace",
        action="store_true",
        help="one sample's forward and backward pass node by node with the kept weights: "
        "values, gradients, the chain rule for one weight (--json: every number)",
    )
    evaluate.add_argument(
        "--sample", metavar="K", type=int, help="with --trace: the sample's index (default 0)"
    )
    evaluate.add_argument(
        "--split", metavar="test|val|train", help="with --trace: its split (default test)"
    )


def _trace(args: argparse.Namespace) -> int:
    """``eval RUN --trace [--sample K] [--split S] [--json]``."""
    if not args.trace:
        raise UsageError(
            f"{'--sample' if args.sample is not None else '--split'}: only with --trace"
        )
    if args.ensemble or args.more_runs or args.confusion or args.counts:
        raise UsageError("--trace: one run, without --ensemble or --confusion")
    from dnn_tui.analysis.trace import SPLITS, SampleError, pass_lines, trace_run
    from dnn_tui.fileio import visible
    from dnn_tui.training.report import make_console, print_folded

    split = "test" if args.split is None else args.split
    if split not in SPLITS:
        raise UsageError(f"--split: must be one of {', '.join(SPLITS)}, got {visible(split)}")
    if args.sample is not None and args.sample < 0:
        raise UsageError(f"--sample: must be 0 or more, got {args.sample}")
    options = given_options(args, DATA_OPTIONS)
    try:
        traced = trace_run(
            args.run,
            split,
            args.sample or 0,
            options,
            check=lambda config: check_used(config, options),
        )
    except SampleError as error:
        raise UsageError(str(error)) from None
    if args.json:
        sys.stdout.write(json.dumps(traced.record(), indent=1, allow_nan=False) + "\n")
        return EXIT_OK
    console = make_console()
    print_folded(console, visible(args.run))
    for line in pass_lines(traced):
        console.print(line, soft_wrap=True, markup=False, highlight=False)
    return EXIT_OK


# --- decision regions (--boundary) -----------------------------------------------------------


def _add_boundary_arguments(evaluate: argparse.ArgumentParser) -> None:
    evaluate.add_argument(
        "--boundary",
        action="store_true",
        help="2-D data: the predicted class over the plane, with the training points (--json: "
        "x_range, y_range, classes and the grid, rows from high y)",
    )


def _boundary(args: argparse.Namespace) -> int:
    """``eval RUN --boundary [--json]``: the kept weights' decision regions."""
    if args.ensemble or args.more_runs or args.confusion or args.counts:
        raise UsageError("--boundary: one run, without --ensemble, --confusion or --counts")
    from dnn_tui.analysis.boundary import regions_of
    from dnn_tui.analysis.regions import legend_text, plane_caption, regions_text
    from dnn_tui.fileio import visible
    from dnn_tui.training.report import make_console, print_folded

    options = given_options(args, DATA_OPTIONS)
    regions = regions_of(args.run, options, check=lambda config: check_used(config, options))
    if args.json:
        sys.stdout.write(json.dumps(regions.to_json(), allow_nan=False) + "\n")
        return EXIT_OK
    console = make_console()
    colour = console.color_system is not None and not console.no_color
    print_folded(
        console, f"{visible(args.run)}: decision regions on {regions.dataset} (kept weights)"
    )
    console.print(regions_text(regions.grid, regions.points, colour), soft_wrap=True)
    console.print(legend_text(regions.classes, colour), soft_wrap=True)
    console.print(plane_caption(regions.x_range, regions.y_range), markup=False, highlight=False)
    return EXIT_OK
