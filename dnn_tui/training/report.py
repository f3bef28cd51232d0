"""The headless report: ``dnn-tui train`` prints what the engine tells it.

Runs without any UI. ``Report`` is an event sink: a header when the run starts,
one aligned row per epoch, notices and control changes as lines, and a summary at
the end. On a terminal Rich adds colour and a transient progress line; when stdout
is a file or a pipe the same text comes out plain, with no control characters, so
a log stays readable.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from dnn_tui.config import describe
from dnn_tui.fileio import visible
from dnn_tui.training.columns import Column, Layout, fit, fold, left_out_note, output_width
from dnn_tui.training.events import (
    ControlApplied,
    EpochEnded,
    Event,
    Notice,
    RunFinished,
    RunResumed,
    RunStarted,
    StepMeasured,
)
from dnn_tui.training.lessons import gradient_reading
from dnn_tui.training.numbers import (
    fmt_acc,
    fmt_loss,
    fmt_lr,
    fmt_norm,
    fmt_rate,
    fmt_seconds,
    fmt_weight_norm,
)
from dnn_tui.training.status import ENDED_WELL, Status

PIPE_WIDTH = 10_000
"""Line width when stdout is not a terminal and COLUMNS is not set: so wide that no line or
table is ever wrapped (nothing printed here fills the width: tables take their content's
width)."""

_NOTICE_STYLES = {"information": "cyan", "warning": "yellow", "error": "bold red"}
BEST_SUFFIX = "  *"
"""Ends the row of an epoch with the lowest val loss so far."""
SHORT_PATIENCE = "  wait {waited}/{patience}"
"""Early stopping's count where its words do not fit the width."""
DIVERGED_ADVICE = "try clipping (--clip-norm 1.0) or a lower --lr"
"""What ``train`` adds to a divergence (the dashboard offers its remedies on a panel)."""


class ReportConsole(Console):
    """A Console that goes quiet when its reader goes away (``train ... | head``): the run
    carries on to its end and writes its files, it only stops printing. (Rich's default
    raises SystemExit, which would end the run.)"""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            # Later writes (and the interpreter's final flush) go nowhere instead of failing.
            os.dup2(devnull, self.file.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        finally:
            os.close(devnull)


def make_console() -> Console:
    """A stdout console: colour on a terminal, plain unwrapped text in a pipe or file.

    Markup is off: paths and descriptions are printed as they are, brackets included. A pipe
    gets COLUMNS' width when it is set (``COLUMNS=80 dnn-tui train ... | tee log``).
    """
    console = ReportConsole(highlight=False, markup=False)
    if not console.is_terminal:
        console.width = output_width(console.file) or PIPE_WIDTH
    return console


def width_of(console: Console) -> int | None:
    """The width a console's tables fit, None when unlimited (a pipe without COLUMNS)."""
    return None if console.width >= PIPE_WIDTH else console.width


def print_folded(console: Console, text: str, style: str = "") -> None:
    """text (a path, a line naming one) in lines of the console's width, folded at spaces and
    after a path's "/" (``columns.fold``); one line in a pipe without COLUMNS."""
    for line in fold(text, width_of(console)):
        console.print(line, style=style, soft_wrap=True, markup=False, highlight=False)


def plural(count: int, word: str) -> str:
    """``1 epoch``, ``2 epochs``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def patience_words(last: int | None, best: int | None, patience: int) -> str | None:
    """What early stopping has counted after epoch ``last`` (the best epoch ``best``): "2 of 3
    epochs without improvement"; None when early stopping is off or no epoch ended."""
    if patience <= 0 or last is None:
        return None
    waited = last - best if best is not None else last
    return f"{waited} of {patience} epochs without improvement"


def top_val_epoch(epochs: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The epoch with the top validation accuracy (the first of equals), or None."""
    scored = [r for r in epochs if isinstance(r.get("val_acc"), int | float)]
    scored = [r for r in scored if math.isfinite(r["val_acc"])]
    return max(scored, key=lambda r: r["val_acc"], default=None)


_BAD = {Status.PRUNED: "bold magenta"}
"""A status that is no failure though the run did not run its course: a pruner's stop."""


def summary_lines(
    status: str,
    epochs: Sequence[Mapping[str, Any]],
    took: str,
    *,
    best_epoch: int | None,
    test: Mapping[str, Any] | None,
    diverged: Mapping[str, Any] | None,
    failure: str | None = None,
    advice: str | None = None,
    continued_from: int | None = None,
) -> list[Text]:
    """A run's closing lines, in the same words wherever a run ends: ``train``'s report and
    what the dashboard leaves in the terminal. The status (green when the run ended well or
    goes on elsewhere) after its epochs and ``took`` (how long, as the caller measured it),
    then why it failed or where it diverged (with ``advice``), the best epoch and the test
    accuracy. A run continued from its checkpoint (``continued_from``: that epoch) counts
    its epochs from the first, whether epochs holds them all or only those of this session."""
    good = status in ENDED_WELL or status.startswith(Status.RUNNING)
    numbers = [r["epoch"] for r in epochs if isinstance(r.get("epoch"), int)]
    count = max(numbers) if numbers else len(epochs)
    since = f" (continued from epoch {continued_from})" if continued_from is not None else ""
    lines = [
        Text.assemble(
            ("status: ", "bold"),
            (visible(status), "bold green" if good else _BAD.get(status, "bold red")),
            f" after {plural(count, 'epoch')}{since} {took}",
        )
    ]
    if failure:
        lines.append(Text(f"failed: {visible(failure)}", style="red"))
    if diverged:
        where = (
            f"diverged: a non-finite value at epoch {diverged.get('epoch')}, step "
            f"{diverged.get('step')}, first in {visible(diverged.get('layer'))}"
        )
        lines.append(Text(f"{where}; {advice}" if advice else where, style="red"))
    best = next((r for r in epochs if r.get("epoch") == best_epoch), None)
    if best is not None:
        line = (
            f"best epoch: {best_epoch} (val loss {fmt_loss(best.get('val_loss'))}"
            f", val acc {fmt_acc(best.get('val_acc'))})"
        )
        top = top_val_epoch(epochs)
        if top is not None and top.get("val_acc") != best.get("val_acc"):
            line += f"; top val acc {fmt_acc(top.get('val_acc'))} at epoch {top['epoch']}"
        lines.append(Text(line))
    elif best_epoch is not None and continued_from is not None and best_epoch <= continued_from:
        lines.append(Text(f"best epoch: {best_epoch} (before the run was continued)"))
    if test and best_epoch is not None:  # the test measures the best epoch's kept weights
        lines.append(
            Text.assemble(
                ("test accuracy: ", "bold"),
                (fmt_acc(test.get("acc")), "bold"),
                f" (test loss {fmt_loss(test.get('loss'))})",
            )
        )
    return lines


def layer_lines(layers: Sequence[str], record: Mapping[str, Any]) -> list[Text]:
    """What an epoch record says of its layers, in words: the gradient bands of the stack by the
    lesson's rule, and each layer's weight norm and update ratio (when measured)."""
    norms = record.get("grad_norm")
    if not layers or not isinstance(norms, list) or len(norms) != len(layers):
        return []
    epoch = record.get("epoch")
    values = [v if isinstance(v, int | float) else math.inf for v in norms]
    ratios = record.get("update_ratio")
    if not isinstance(ratios, list) or len(ratios) != len(layers):
        ratios = None
    lines = [Text(f"gradients, epoch {epoch}: {gradient_reading(layers, values, ratios)}")]
    weights = record.get("weight_norm")
    if isinstance(weights, list) and len(weights) == len(layers):
        cells = ", ".join(
            f"{name} {fmt_weight_norm(w)}" for name, w in zip(layers, weights, strict=True)
        )
        line = f"weights, epoch {epoch}: ‖W‖ {cells}"
        if ratios is not None:
            line += "; update ratio " + ", ".join(fmt_norm(r) for r in ratios)
        lines.append(Text(line))
    return lines


class Report:
    """An event sink that prints the run as it goes (see the module docstring)."""

    def __init__(self, console: Console | None = None, run_dir: Path | None = None) -> None:
        self.console = console if console is not None else make_console()
        self.run_dir = run_dir
        self._layers: tuple[str, ...] = ()
        self._hidden = 0
        self._epochs = 0
        self._patience = 0
        self._scheduled = False
        """A run with an lr schedule gets an lr column (the lr of each epoch)."""
        self._records: dict[int, dict[str, Any]] = {}
        self._continued_from: int | None = None
        self._notices: set[str] = set()
        self._live: Live | None = None
        self._layout = Layout((), (), ())

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepMeasured):
            self._progress(event)
        elif isinstance(event, Notice):
            self._notice(event.text, event.level)
        elif isinstance(event, RunStarted):
            self._started(event)
        elif isinstance(event, EpochEnded):
            self._epoch(event)
        elif isinstance(event, ControlApplied):
            self._control(event)
        elif isinstance(event, RunResumed):
            self._continued_from = event.epoch
            self._print(
                f"continued after epoch {event.epoch} (its checkpoint), to epoch {event.epochs}"
            )
        elif isinstance(event, RunFinished):
            self.close()
            self._finished(event)

    def silence(self) -> None:
        """Print nothing more (its output cannot be written): the progress line stops too, and
        what is left in stdout's buffer goes nowhere (a failing flush at exit would change the
        exit status)."""
        if isinstance(self.console, ReportConsole):
            self.console.on_broken_pipe()
        self.console.quiet = True
        live, self._live = self._live, None
        if live is not None:
            with contextlib.suppress(OSError):
                live.stop()

    def close(self) -> None:
        """Remove the progress line (safe to call more than once)."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    # --- the parts ----------------------------------------------------------------------

    def _print(self, text: Text | str) -> None:
        # Wrapped at the console's width (a pipe without COLUMNS has no width to wrap at).
        self.console.print(text, markup=False, overflow="fold")

    def _notice(self, text: str, level: str) -> None:
        self._notices.add(text)
        label = "note" if level == "information" else level
        self._print(Text(f"{label}: {visible(text)}", style=_NOTICE_STYLES.get(level, "")))

    def _started(self, event: RunStarted) -> None:
        config, data = event.config, event.dataset
        self._layers = event.layers
        self._hidden = len(config.model.hidden)
        self._epochs = config.train.epochs
        self._patience = config.train.early_stopping
        self._scheduled = config.train.schedule != "none"
        name = visible(config.preset or "custom")  # a config file's words: shown, never obeyed
        self._print(Text.assemble(("run ", "bold"), (name, "bold cyan"), f": {describe(config)}"))
        self._print(
            f"data: {data.get('name')}: {data.get('train')} train, {data.get('val')} val, "
            f"{data.get('test')} test samples; {data.get('input_dim')} inputs, "
            f"{data.get('classes')} classes"
        )
        self._print(
            f"model: {event.total_params:,} parameters on {event.device}; "
            f"{plural(self._epochs, 'epoch')} of {plural(event.steps_per_epoch, 'step')}"
        )
        if event.dataset_note and event.dataset_note not in self._notices:
            self._notice(event.dataset_note, "warning")
        self._print("(* = the lowest val loss so far: the weights that are kept)")
        self._layout = self._fit()
        note = left_out_note(self._layout, width_of(self.console))
        if note is not None:
            self._print(Text(note, style="dim"))
        self._print("")
        self._print(Text(self._header(), style="bold"))

    def _columns(self) -> list[Column]:
        """The columns, the most useful kept longest: loss and acc are the training split's (as
        Keras prints them), the gradient norms are the first and the last Linear layer's, the
        activation std the first and the last hidden layer's (act1 ... actN)."""
        first, last = (self._layers[0], self._layers[-1]) if self._layers else ("first", "last")
        act_first, act_last = "act1", f"act{max(self._hidden, 1)}"
        return [
            Column("epoch", 0),
            Column("loss", 2),
            Column("acc", 3),
            Column("val loss", 1),
            Column("val acc", 1),
            *([Column("lr", 3)] if self._scheduled else []),
            Column(f"grad {first}", 4),
            Column(f"grad {last}", 4),
            Column(f"std {act_first}", 7),
            Column(f"std {act_last}", 8),
            Column("clip%", 6),
            Column("sec", 5),
        ]

    def _fit(self) -> Layout:
        """The columns that fit the console with room for the row's mark (the widest number
        of each column decides its width, so the layout holds for every epoch)."""
        widest = [str(self._epochs), "2.49e7", "100.0%", "2.49e7", "100.0%"]
        widest += ["3.13e-5"] if self._scheduled else []
        widest += ["1.5e-10"] * 4 + ["100", "0.013"]
        room = len(SHORT_PATIENCE.format(waited=self._patience, patience=self._patience))
        return fit(
            self._columns(),
            [widest],
            width_of(self.console),
            edge=max(len(BEST_SUFFIX), room if self._patience > 0 else 0),
            wrap=False,
        )

    def _header(self) -> str:
        columns = self._columns()
        return "  ".join(
            columns[i].title.rjust(w)
            for i, w in zip(self._layout.shown, self._layout.widths, strict=True)
        )

    def _epoch(self, event: EpochEnded) -> None:
        record = event.record
        epoch = int(record["epoch"])
        self._records[epoch] = record
        norms = record.get("grad_norm") or [None]
        stds = record.get("act_std") or [None]
        clipped = record.get("clipped_fraction")
        cells = [
            str(epoch),
            fmt_loss(record.get("train_loss")),
            fmt_acc(record.get("train_acc")),
            fmt_loss(record.get("val_loss")),
            fmt_acc(record.get("val_acc")),
            *([fmt_lr(record.get("lr"))] if self._scheduled else []),
            fmt_norm(norms[0]),
            fmt_norm(norms[-1]),
            fmt_norm(stds[0]),
            fmt_norm(stds[-1]),
            "-" if clipped is None else f"{100 * clipped:.0f}",
            fmt_seconds(record.get("seconds")),
        ]
        shown = zip(self._layout.shown, self._layout.widths, strict=True)
        row = Text("  ".join(cells[i].rjust(w) for i, w in shown))
        if any(cell in ("nan", "inf", "-inf") for cell in cells):
            row.stylize("red")
        if event.best_epoch == epoch:
            row.append(BEST_SUFFIX, style="green")
        waiting = patience_words(epoch, event.best_epoch, self._patience)
        if waiting is not None and event.best_epoch != epoch:
            width = width_of(self.console)
            if width is not None and len(row) + 2 + len(waiting) > width:
                waited = epoch - event.best_epoch if event.best_epoch is not None else epoch
                waiting = SHORT_PATIENCE.format(waited=waited, patience=self._patience).strip()
            row.append(f"  {waiting}", style="yellow")
        self._print(row)

    def _progress(self, event: StepMeasured) -> None:
        if not self.console.is_terminal:
            return
        parts = [
            f"epoch {event.epoch}/{self._epochs}",
            f"step {event.step}/{event.steps_per_epoch}",
            f"loss {fmt_loss(event.loss)}",
            f"acc {fmt_acc(event.acc)}",
            f"grad {fmt_norm(event.grad_norm_total)}",
            f"{fmt_rate(event.samples_per_s)} samples/s",
        ]
        while len(parts) > 1 and len("  ".join(parts)) > self.console.width - 1:
            parts.pop()  # whole parts are left out, never a number cut
        text = Text("  ".join(parts), style="dim", no_wrap=True, overflow="ellipsis")
        if self._live is None:
            self._live = Live(text, console=self.console, transient=True, auto_refresh=False)
            self._live.start()
        self._live.update(text, refresh=True)

    def _control(self, event: ControlApplied) -> None:
        value = event.value
        if event.kind == "stop":
            what = "stop requested; the run ends after this step"
        elif event.kind == "pause":
            what = "paused" if value else "resumed"
        elif event.kind == "clipping":
            what = "clipping on" if value else "clipping off"
        elif event.kind == "clip_norm":
            what = f"clipping threshold {value:g}"
        elif event.kind == "lr":
            what = f"learning rate {value:g}"
        elif event.kind == "step":
            what = "one step of the paused run"
        else:
            what = f"{event.kind} = {value!r}"
        self._print(Text(f"control: epoch {event.epoch}, step {event.step}: {what}", "yellow"))

    def _finished(self, event: RunFinished) -> None:
        self._print("")
        lines = summary_lines(
            event.status,
            list(self._records.values()),
            f"in {event.seconds:.1f} s",
            best_epoch=event.best_epoch,
            test=event.test,
            diverged=event.diverged,
            advice=DIVERGED_ADVICE,
            continued_from=self._continued_from,
        )
        if self._records:
            lines += layer_lines(self._layers, self._records[max(self._records)])
        for line in lines:
            self._print(line)
        if self.run_dir is not None:
            self._print(f"run directory: {visible(self.run_dir)}")
