"""The command line: ``dnn-tui [tui|train|presets|compare|eval|suite] ...``.

Everything but ``tui`` runs without any UI; ``tui`` imports the dashboard lazily,
so this module never pulls in Textual. torch is imported only by the commands
that train or evaluate, so ``--help``, ``presets`` and ``compare`` start fast.

Exit codes: 0 completed or early-stopped; 1 invalid input or a failure (one line
on stderr, no traceback); 2 usage error; 3 diverged; 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnn_tui import __version__
from dnn_tui.config import (
    ACTIVATIONS,
    DATASETS,
    DEVICES,
    INITS,
    OPTIMIZERS,
    ConfigError,
    DataConfig,
    RunConfig,
    describe,
    format_option,
    load,
    option_value,
    parse_option,
    validate,
    with_options,
)
from dnn_tui.presets import list_presets, load_preset

if TYPE_CHECKING:
    from rich.console import Console

    from dnn_tui.data import Dataset
    from dnn_tui.runs import SavedRun

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130

SUITES: dict[str, tuple[str, ...]] = {
    "regularization": ("baseline", "l2", "dropout", "bottleneck"),
    "gradients": ("deep-sigmoid", "deep-relu-he", "deep-tanh-xavier"),
    "batch": ("full-batch", "baseline", "small-batch"),
    "clipping": ("exploding", "exploding-clipped"),
    "depth": ("shallow", "baseline"),
}
"""``dnn-tui suite NAME``: presets run one after the other, then compared."""


class CommandError(Exception):
    """A command cannot do what was asked; the message says why and what to do instead."""


def _choices(values: Sequence[str]) -> str:
    return "{" + ",".join(values) + "}"


RUN_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("dataset", _choices(DATASETS), "the data; auto = MNIST, or digits when offline"),
    ("data_dir", "DIR", "download/cache folder of the torchvision datasets"),
    ("idx_images", "FILE", "IDX images file (--dataset idx)"),
    ("idx_labels", "FILE", "IDX labels file (--dataset idx)"),
    ("limit", "N", "keep at most N training samples; 0 = all"),
    ("hidden", "100,50,20", "hidden layer widths"),
    ("activation", _choices(ACTIVATIONS), "activation of the hidden layers"),
    ("init", _choices(INITS), "weight initialisation"),
    ("init_std", "F", "standard deviation of --init normal"),
    ("dropout", "P[,P...]", "dropout after every hidden layer, or one value per layer"),
    ("batchnorm", "", "BatchNorm1d between each Linear and its activation"),
    ("l2", "LAMBDA", "L2 penalty on the Linear weights"),
    ("optimizer", _choices(OPTIMIZERS), "the optimizer (momentum = SGD with momentum 0.9)"),
    ("lr", "F", "learning rate"),
    ("batch_size", "N|full", "samples per step; full = full-batch gradient descent"),
    ("epochs", "N", "passes over the training set"),
    ("early_stopping", "PATIENCE", "stop after PATIENCE epochs without a better val loss; 0 = off"),
    ("clip_norm", "MAX", "clip the global gradient norm to MAX; off = no clipping"),
    ("seed", "N", "random seed (same seed, same numbers on CPU)"),
    ("device", _choices(DEVICES), "where to train"),
)
"""Flat option name, metavar, help; the values are checked by config.validate, not argparse."""


# --- building the parser --------------------------------------------------------------------


def _add_run_options(parser: argparse.ArgumentParser, *, source: bool = True) -> None:
    if source:
        start = parser.add_mutually_exclusive_group()
        start.add_argument("--preset", metavar="NAME", help="start from a preset (dnn-tui presets)")
        start.add_argument(
            "--config", metavar="FILE.toml", type=Path, help="start from a config file"
        )
    group = parser.add_argument_group("run options (override the preset or config file)")
    defaults = RunConfig()
    for name, metavar, text in RUN_OPTIONS:
        flag = "--" + name.replace("_", "-")
        default = format_option(option_value(defaults, name)) or "none"
        if name == "batchnorm":
            group.add_argument(flag, action=argparse.BooleanOptionalAction, help=text)
        else:
            group.add_argument(flag, metavar=metavar, help=f"{text} (default: {default})")


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of every command."""
    parser = argparse.ArgumentParser(
        prog="dnn-tui",
        description="A deep-learning lab in the terminal: train MLPs with PyTorch and watch "
        "their gradients. Without a command it opens the dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"dnn-tui {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    tui = commands.add_parser("tui", help="open the dashboard (the default)")
    _add_run_options(tui)
    tui.add_argument("--start", action="store_true", help="start the run at once")
    tui.set_defaults(handler=_tui)

    train = commands.add_parser(
        "train",
        help="train headless, printing a row per epoch",
        epilog="Ctrl-C (or SIGTERM) stops the run after its current step and saves what it did; "
        "a second Ctrl-C quits at once. Exit codes: 0 completed or early-stopped, 1 invalid "
        "input or failure, 2 usage error, 3 diverged, 130 interrupted.",
    )
    _add_run_options(train)
    train.add_argument(
        "--out", metavar="DIR", type=Path, help="run directory (default: runs/<time>-<preset>)"
    )
    train.set_defaults(handler=_train)

    presets = commands.add_parser("presets", help="list the presets")
    presets.set_defaults(handler=_presets)

    compare = commands.add_parser("compare", help="compare saved runs")
    compare.add_argument("runs", metavar="RUN_DIR", nargs="+", type=Path)
    compare.set_defaults(handler=_compare)

    evaluate = commands.add_parser("eval", help="evaluate a saved model on a test split")
    evaluate.add_argument("run", metavar="RUN_DIR", type=Path)
    evaluate.add_argument(
        "--dataset", metavar=_choices(DATASETS), help="another dataset's test split"
    )
    evaluate.add_argument("--data-dir", metavar="DIR")
    evaluate.add_argument("--idx-images", metavar="FILE")
    evaluate.add_argument("--idx-labels", metavar="FILE")
    evaluate.add_argument("--device", metavar=_choices(DEVICES))
    evaluate.set_defaults(handler=_eval)

    suite = commands.add_parser(
        "suite",
        help="run a named list of presets, then compare them",
        epilog="suites: "
        + "; ".join(f"{k}: {', '.join(v)}" for k, v in SUITES.items())
        + ". The exit code is the worst of the runs' (3 when one diverged).",
    )
    suite.add_argument("suite", choices=SUITES, metavar=_choices(SUITES))
    _add_run_options(suite, source=False)
    suite.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        help="parent of the run directories, one per preset (default: runs/<time>-suite-NAME)",
    )
    suite.set_defaults(handler=_suite)
    return parser


def config_from_args(args: argparse.Namespace, base: RunConfig | None = None) -> RunConfig:
    """RunConfig defaults <- preset or config file (or base) <- the given options; validated."""
    if base is not None:
        config = base
    elif getattr(args, "preset", None):
        config = load_preset(args.preset)
    elif getattr(args, "config", None):
        config = load(args.config)
    else:
        config = RunConfig()
    options: dict[str, Any] = {}
    for name, _, _ in RUN_OPTIONS:
        value = getattr(args, name)
        if value is not None:
            options[name] = value if isinstance(value, bool) else parse_option(name, value)
    return validate(with_options(config, options))


# --- running ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How one headless run ended."""

    status: str
    interrupted: bool
    """A SIGINT or SIGTERM arrived while it ran."""

    @property
    def exit_code(self) -> int:
        if self.interrupted or self.status == "stopped":
            return EXIT_INTERRUPTED
        return EXIT_DIVERGED if self.status == "diverged" else EXIT_OK


@contextlib.contextmanager
def _stop_on_signals(stop: Callable[[], None]) -> Iterator[list[int]]:
    """SIGINT/SIGTERM call stop (the run ends after its current step); a second one interrupts.

    ``stop`` runs in a helper thread: a handler runs between two bytecodes of the main
    thread, which may hold the controls' lock at that moment.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handle(signum: int, _frame: object) -> None:
        if received:
            raise KeyboardInterrupt
        received.append(signum)
        threading.Thread(target=stop, name="dnn-tui-stop", daemon=True).start()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(config: RunConfig, out: Path, data: Dataset, console: Console) -> Outcome:
    """Train config on data into run directory out, printing the report."""
    from dnn_tui.report import Report
    from dnn_tui.runs import RunRecorder
    from dnn_tui.training.controls import RunControls
    from dnn_tui.training.engine import train
    from dnn_tui.training.events import fan_out

    controls = RunControls(config.train.clip_norm, config.train.lr)
    report = Report(console, run_dir=out)
    with _stop_on_signals(controls.stop) as received:
        try:
            result = train(config, data, controls, fan_out(RunRecorder(out), report))
        finally:
            report.close()
    return Outcome(result.status, bool(received))


def _check_out(out: Path) -> None:
    """Fail before the data loads when --out cannot be a run directory."""
    if out.exists() and not out.is_dir():
        raise CommandError(f"{out}: --out must be a directory, and this is a file")


def _load_data(config: RunConfig) -> Dataset:
    from dnn_tui.data import load_dataset

    return load_dataset(config.data, seed=config.train.seed)


# --- the commands -----------------------------------------------------------------------------


def _tui(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    try:
        from dnn_tui.app.app import run_app
    except ImportError as error:
        raise CommandError(
            f"the dashboard cannot start ({error}); use `dnn-tui train` for a headless run"
        ) from None
    return run_app(config, start=args.start, run_root=None)


def _train(args: argparse.Namespace) -> int:
    from dnn_tui.report import make_console
    from dnn_tui.runs import default_run_dir

    config = config_from_args(args)
    out = args.out or default_run_dir(config.preset)
    _check_out(out)
    return _run(config, out, _load_data(config), make_console()).exit_code


def _presets(args: argparse.Namespace) -> int:
    from rich.table import Table

    from dnn_tui.report import make_console

    presets = [(p.name, " ".join(p.description.split())) for p in list_presets()]
    console = make_console()
    if not console.is_terminal:  # one line each, no padding: easy to grep
        width = max((len(name) for name, _ in presets), default=0)
        for name, description in presets:
            console.print(f"{name:<{width}}  {description}", soft_wrap=True)
        return EXIT_OK
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("preset", style="bold cyan", no_wrap=True)
    table.add_column("what it shows")
    for name, description in presets:
        table.add_row(name, description)
    console.print(table)
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    from dnn_tui.report import make_console
    from dnn_tui.runs import load_run

    print_comparison([load_run(path) for path in args.runs], make_console())
    return EXIT_OK


def _eval(args: argparse.Namespace) -> int:
    from dnn_tui.data import load_dataset
    from dnn_tui.model import build_mlp
    from dnn_tui.runs import WEIGHTS_FILE, RunError, load_run, load_weights
    from dnn_tui.training.engine import evaluate, resolve_device

    saved = load_run(args.run)
    if saved.weights is None:
        raise RunError(f"{saved.path / WEIGHTS_FILE}: missing; the run saved no weights")
    weights = load_weights(saved.weights)
    recorded = saved.history.get("dataset") or {}
    options = {
        name: getattr(args, name)
        for name in ("dataset", "data_dir", "idx_images", "idx_labels", "device")
        if getattr(args, name) is not None
    }
    if args.dataset is None and saved.config.data.dataset == "auto":
        # The data the run trained on (digits when auto fell back), even if MNIST came since.
        options["dataset"] = recorded.get("name", "auto")
    config = validate(with_options(saved.config, options))
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

    from dnn_tui.report import fmt_float, make_console

    console = make_console()
    console.print(
        f"{saved.path}: test accuracy {metrics['acc']:.4f} (loss {metrics['loss']:.4f}) "
        f"on {data.name}, {len(data.y_test)} samples",
        soft_wrap=True,
    )
    if data.name == recorded.get("name") and saved.history.get("test"):
        recorded_acc = saved.history["test"].get("acc")
        console.print(f"the run recorded test accuracy {fmt_float(recorded_acc, '.4f')}")
    return EXIT_OK


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
    _check_out(root)
    console = make_console()
    datasets: dict[tuple[DataConfig, int], Dataset] = {}
    code, done = EXIT_OK, []
    for i, (name, config) in enumerate(configs.items(), 1):
        console.print(
            f"\n== suite {args.suite}, run {i} of {len(configs)}: {name} ==", style="bold"
        )
        key = (config.data, config.train.seed)
        if key not in datasets:
            datasets[key] = _load_data(config)
        outcome = _run(config, root / name, datasets[key], console)
        done.append(root / name)
        code = max(code, outcome.exit_code)
        if outcome.exit_code == EXIT_INTERRUPTED:
            break
    console.print(f"\n== suite {args.suite}: comparison ==", style="bold")
    print_comparison([load_run(path) for path in done], console)
    return code


# --- comparing runs -----------------------------------------------------------------------------

_MARKERS = "123456789abcdefghijklmnopqrstuvwxyz"
"""The plot marker of each compared run, best first (``.`` for any beyond these)."""


def _finite(values: Sequence[Any]) -> list[float]:
    return [v for v in values if isinstance(v, int | float) and math.isfinite(v)]


def best_val_acc(run: SavedRun) -> float | None:
    """The highest validation accuracy of any epoch, or None without a finished epoch."""
    values = _finite([record.get("val_acc") for record in run.history["epochs"]])
    return max(values) if values else None


def print_comparison(runs: Sequence[SavedRun], console: Console) -> None:
    """A table of the runs, best validation accuracy first, and their val-accuracy curves."""
    from rich.table import Table

    from dnn_tui.report import fmt_float

    def rank(run: SavedRun) -> float:
        best = best_val_acc(run)
        return -math.inf if best is None else best

    ordered = sorted(runs, key=rank, reverse=True)
    markers = [_MARKERS[i] if i < len(_MARKERS) else "." for i in range(len(ordered))]
    table = Table(header_style="bold")
    table.add_column("#", justify="right")
    table.add_column("run")
    table.add_column("data")
    for title in ("best epoch", "best val acc", "test acc", "train loss", "val loss"):
        table.add_column(title, justify="right")
    table.add_column("status")
    table.add_column("directory", overflow="fold")
    for marker, run in zip(markers, ordered, strict=True):
        last = run.history["epochs"][-1] if run.history["epochs"] else {}
        test = run.history.get("test") or {}
        best = run.history.get("best_epoch")
        table.add_row(
            marker,
            run.config.preset or describe(run.config),
            str((run.history.get("dataset") or {}).get("name", run.config.data.dataset)),
            "-" if best is None else str(best),
            fmt_float(best_val_acc(run), ".4f"),
            fmt_float(test.get("acc"), ".4f"),
            fmt_float(last.get("train_loss"), ".4f"),
            fmt_float(last.get("val_loss"), ".4f"),
            str(run.history.get("status")),
            str(run.path),
        )
    console.print(table)
    curves = [
        (marker, [record.get("val_acc") for record in run.history["epochs"]])
        for marker, run in zip(markers, ordered, strict=True)
    ]
    plot = accuracy_plot(curves)
    if plot:
        console.print("\nvalidation accuracy per epoch (the # column marks each run):")
        console.print(plot, soft_wrap=True)


def accuracy_plot(
    curves: Sequence[tuple[str, Sequence[float | None]]], width: int = 60, height: int = 12
) -> str:
    """Plain-text overlaid curves, one marker character per run, ``*`` where they cross.

    Empty when there is nothing to draw (fewer than two epochs).
    """
    values = [v for _, curve in curves for v in _finite(curve)]
    epochs = max((len(curve) for _, curve in curves), default=0)
    if not values or epochs < 2:
        return ""
    low, high = min(values), max(values)
    if high - low < 1e-3:
        low, high = low - 5e-4, high + 5e-4
    grid = [[" "] * width for _ in range(height)]
    for marker, curve in curves:
        last = len(curve) - 1
        for x in range(width):
            position = x * (epochs - 1) / (width - 1)
            if position > last:
                break
            left = math.floor(position)
            a, b = curve[left], curve[min(left + 1, last)]
            if len(_finite([a, b])) < 2:
                continue
            value = a + (b - a) * (position - left)
            row = round((high - value) / (high - low) * (height - 1))
            grid[row][x] = marker if grid[row][x] in (" ", marker) else "*"
    lines = []
    for i, row in enumerate(grid):
        label = ""
        if i in (0, height // 2, height - 1):
            label = f"{high - (high - low) * i / (height - 1):.4f}"
        lines.append(f"{label:>7} |{''.join(row).rstrip()}")
    lines.append(" " * 8 + "+" + "-" * width)
    lines.append(" " * 8 + f"epoch 1{f'epoch {epochs}':>{width - 7}}")
    return "\n".join(lines)


# --- entry point --------------------------------------------------------------------------------


def _message(error: BaseException) -> str:
    """One line naming what is wrong; OSErrors name their file."""
    if isinstance(error, OSError) and error.filename is not None:
        text = f"{error.filename}: {error.strerror or error}"
    elif type(error).__module__.startswith("dnn_tui") or isinstance(error, ValueError):
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or (words[0].startswith("-") and words[0] not in ("-h", "--help", "--version")):
        words.insert(0, "tui")
    try:
        args = build_parser().parse_args(words)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code not in (0, None) else EXIT_OK
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("dnn-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # every failure is one line, never a traceback
        print(f"dnn-tui: error: {_message(error)}", file=sys.stderr)
        return EXIT_ERROR
