"""``dnn-tui eval``: reload a run's saved weights and evaluate them on a test split."""

from __future__ import annotations

import argparse
from pathlib import Path

from dnn_tui.commands.options import check_used, choices, given_options
from dnn_tui.config import DATASETS, DEVICES, validate, with_options
from dnn_tui.training.status import EXIT_OK


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
    evaluate.set_defaults(handler=_eval, parser=evaluate)


def _eval(args: argparse.Namespace) -> int:
    from dnn_tui.data import load_dataset
    from dnn_tui.model import build_mlp
    from dnn_tui.rundir.files import WEIGHTS_FILE, RunError, load_run, load_weights
    from dnn_tui.training.engine import evaluate, resolve_device

    saved = load_run(args.run)
    if saved.weights is None:
        raise RunError(f"{saved.path / WEIGHTS_FILE}: missing; the run saved no weights")
    weights = load_weights(saved.weights)
    recorded = saved.history.get("dataset") or {}
    options = given_options(args, ("dataset", "data_dir", "idx_images", "idx_labels", "device"))
    if args.dataset is None and saved.config.data.dataset == "auto":
        # The data the run trained on (digits when auto fell back), even if MNIST came since.
        options["dataset"] = recorded.get("name", "auto")
    config = validate(with_options(saved.config, options))
    check_used(config, options)
    device = resolve_device(config.train.device)

    data = load_dataset(config.data, seed=config.train.seed)
    expected = (recorded.get("input_dim"), recorded.get("classes"))
    if None not in expected and expected != (data.input_dim, data.classes):
        raise RunError(
            f"{data.name}: {data.input_dim} inputs and {data.classes} classes, but the model of "
            f"{saved.path} takes {expected[0]} inputs and gives {expected[1]} classes"
        )
    model = build_mlp(config.model, data.input_dim, data.classes)
    try:
        model.load_state_dict(weights)
    except RuntimeError as error:
        first = str(error).splitlines()[0]
        raise RunError(
            f"{saved.weights}: weights do not fit config.toml's model ({first})"
        ) from None
    metrics = evaluate(model.to(device), data.x_test.to(device), data.y_test.to(device))

    from dnn_tui.fileio import visible
    from dnn_tui.training.report import fmt_float, make_console

    console = make_console()
    console.print(
        f"{visible(saved.path)}: test accuracy {metrics['acc']:.4f} (loss {metrics['loss']:.4f}) "
        f"on {data.name}, {len(data.y_test)} samples",
        soft_wrap=True,
    )
    if data.name == recorded.get("name") and saved.history.get("test"):
        recorded_acc = saved.history["test"].get("acc")
        console.print(f"the run recorded test accuracy {fmt_float(recorded_acc, '.4f')}")
    return EXIT_OK
