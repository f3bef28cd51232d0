"""The training loop: ``train(config, data, controls, emit) -> RunResult``.

Runs without any UI: the dashboard and the headless CLI both pass an ``emit``
callable and a ``RunControls``; the loop reads the controls once per step and
never waits on an observer beyond calling ``emit``.

Seeding, so that a plain PyTorch loop can repeat a run exactly (the tests do):
``torch.manual_seed(seed)`` before the model is built (init and dropout draw
from it), and each epoch's order is ``torch.randperm(n, generator=g)`` with
``g = torch.Generator(device).manual_seed(seed)``. During the epochs subnormal floats are
flushed to zero (``subnormals_flushed`` says why); a plain loop that meets them (a long run
near convergence) repeats the run exactly under the same mode.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dnn_tui.config import ConfigError, RunConfig
from dnn_tui.data import Dataset
from dnn_tui.fileio import error_line
from dnn_tui.graph import build_graph, summary_text, trainable_params
from dnn_tui.model import build_mlp, l2_penalty, linear_layers
from dnn_tui.training.activations import PROBE_SAMPLES
from dnn_tui.training.boundary import BoundaryProbe
from dnn_tui.training.checkpoint import Checkpoint, capture, restore
from dnn_tui.training.controls import RunControls
from dnn_tui.training.evaluation import EVAL_CHUNK, Evaluation, assess
from dnn_tui.training.events import (
    ActivationsMeasured,
    ControlApplied,
    Emit,
    EpochEnded,
    Notice,
    PassTraced,
    RunFinished,
    RunResumed,
    RunStarted,
)
from dnn_tui.training.heap import frozen_heap
from dnn_tui.training.meter import EpochMeter, EpochOutcome, Stopwatch
from dnn_tui.training.probes import ActivationProbe, GradientProbe, WeightProbe
from dnn_tui.training.schedule import LrSchedule
from dnn_tui.training.status import Status
from dnn_tui.training.threads import ThreadPolicy
from dnn_tui.training.trace import trace_pass

REPORT_INTERVAL = 0.1
"""Seconds between StepMeasured events: about 10 a second, whatever the step rate."""
PROBE_INTERVAL = 1.0
"""Least seconds between two activation probes within an epoch (each runs with a report)."""
BOUNDARY_INTERVAL = 0.5
"""Least seconds between two measures of the decision regions (only while a view shows them:
``RunControls.boundary_wanted``); a grid of 48 x 24 points is one small forward pass."""


@dataclass
class RunResult:
    """What a finished run leaves behind (the model holds the restored best weights)."""

    status: str
    """completed | early_stopped | stopped | diverged | failed"""
    history: list[dict[str, Any]]
    best_epoch: int | None
    test: dict[str, float] | None
    diverged: dict[str, Any] | None
    model: nn.Module
    dataset: dict[str, Any]
    layers: tuple[str, ...]
    seconds: float
    weights: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)
    error: str | None = None
    """What went wrong when status is ``failed``."""
    evaluation: Evaluation | None = None
    """The kept weights on the test split, class by class (None without a test split)."""
    partial_epoch: dict[str, Any] | None = None
    """The epoch the run ended in before finishing it: {"epoch", "steps", "events"}."""


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU; an absent device is a ConfigError."""
    cuda = torch.cuda.is_available()
    mps = torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise ConfigError(f"device: {name} is not available on this machine (try --device auto)")
    return torch.device(name)


def make_optimizer(name: str, params: list[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    """The optimizer by name; Adam and AdamW fused where the device supports it (about 1.3x)."""
    if name in ("adam", "adamw"):
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        try:
            return cls(params, lr=lr, fused=True)
        except (RuntimeError, ValueError):
            return cls(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    return torch.optim.RMSprop(params, lr=lr)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Mean cross-entropy and accuracy of model on (x, y), in eval mode."""
    was_training = model.training
    model.eval()
    loss = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    for start in range(0, len(x), EVAL_CHUNK):
        logits = model(x[start : start + EVAL_CHUNK])
        target = y[start : start + EVAL_CHUNK]
        loss += F.cross_entropy(logits, target, reduction="sum")
        correct += (logits.argmax(1) == target).sum()
    model.train(was_training)
    n = max(len(x), 1)
    return {"loss": loss.item() / n, "acc": correct.item() / n}


def batch_bounds(n: int, batch_size: int, batchnorm: bool) -> list[tuple[int, int]]:
    """The (begin, end) of each step's slice of an epoch's shuffled order.

    With batch norm, a last batch of a single sample joins the batch before it: batch
    statistics of one sample are undefined (PyTorch refuses them), and dropping the sample
    would leave it out of every epoch.
    """
    bounds = [(begin, min(begin + batch_size, n)) for begin in range(0, n, batch_size)]
    if batchnorm and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


def check_trainable(config: RunConfig, data: Dataset) -> None:
    """Refuse, before anything starts, settings that cannot train on this data."""
    n = len(data.x_train)
    if n == 0:
        raise ConfigError(f"limit: the training split of {data.name} is empty")
    if config.model.batchnorm:
        if n < 2:
            raise ConfigError(
                f"batchnorm: batch norm needs at least 2 training samples; {data.name} has {n}"
            )
        if config.train.batch_size == 1:
            raise ConfigError(
                "batch_size: batch norm needs batches of at least 2 samples, got 1 "
                "(use a larger batch or turn batch norm off)"
            )


@contextlib.contextmanager
def subnormals_flushed() -> Iterator[None]:
    """Subnormal floats flushed to zero on this thread for the body's duration.

    Late in a long run, Adam's second moments of near-zero gradients fall below float32's
    normal range, where a CPU computes many times slower: the digits baseline's epochs grew
    from 9.0 to 10.5 ms by epoch 6,000 and to 15.4 ms by 20,000. Flushed to zero they cost
    what normal numbers do. The mode is the thread's (the CPU's control register), and is
    given back after the run: code that runs next on the thread sees IEEE floats again.
    """
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def _ignore(_event: object) -> None:
    pass


class _Run:
    """The state of one run; ``train`` is its only user."""

    def __init__(
        self,
        config: RunConfig,
        data: Dataset,
        controls: RunControls,
        emit: Emit,
        forward_probe: bool = True,
        start: Checkpoint | None = None,
    ):
        check_trainable(config, data)
        self.config, self.controls, self.emit = config, controls, emit
        self.device = resolve_device(config.train.device)
        self.data = data
        to = self.device
        self.x, self.y = data.x_train.to(to), data.y_train.to(to)
        self.x_val, self.y_val = data.x_val.to(to), data.y_val.to(to)
        self.x_test, self.y_test = data.x_test.to(to), data.y_test.to(to)

        self.threads = ThreadPolicy(config.train.threads)
        torch.manual_seed(config.train.seed)
        self.model = build_mlp(config.model, data.input_dim, data.classes).to(to)
        self.generator = torch.Generator(device=to).manual_seed(config.train.seed)
        self.layers = tuple(name for name, _ in linear_layers(self.model))
        self.probe = GradientProbe(self.model)
        self.weights = WeightProbe(self.model)
        self.signal = (
            ActivationProbe(self.model, config.model.activation, self.x[:PROBE_SAMPLES])
            if forward_probe
            else None
        )
        self.last_signal = 0.0
        """The clock (``watch.clock``) at the latest activation probe."""
        self.boundary = (
            BoundaryProbe(self.model, self.x, self.y, data.classes) if data.input_dim == 2 else None
        )
        self.last_boundary = -math.inf
        """The clock at the latest measure of the decision regions."""
        self.optimizer = make_optimizer(config.train.optimizer, self.probe.params, config.train.lr)
        self.lr = config.train.lr
        self.schedule = LrSchedule(config.train, self.optimizer)
        self.seen_version = -1  # changes made before the first step apply at the first step

        n = len(self.x)
        bs = config.train.batch_size
        self.batch_size = n if bs == "full" else min(bs, n)
        self.bounds = batch_bounds(n, self.batch_size, config.model.batchnorm)
        self.steps_per_epoch = len(self.bounds)
        self.logits_seen = torch.empty(n, data.classes, device=to)
        """The current epoch's logits, in the order its samples were seen."""
        self.where = (0, 0)
        """(epoch, step) of the step in progress, for the message of a failure."""
        self.partial_epoch: dict[str, Any] | None = None
        self.history: list[dict[str, Any]] = []
        self.best_epoch: int | None = None
        self.best_loss = math.inf
        self.best_state: dict[str, torch.Tensor] | None = None
        # time.perf_counter looked up here, not bound at import: the benchmark can swap it.
        self.watch = Stopwatch(time.perf_counter)
        self.epoch_events: list[dict[str, Any]] = []
        """The controls applied in the current epoch, as its record lists them."""
        self.start = start
        if start is not None:  # last, after everything that draws random numbers
            self.best_state = restore(start, self.model, self.optimizer, self.generator)
            self.best_epoch = start.best_epoch
            self.best_loss = math.inf if start.best_loss is None else start.best_loss
            self.schedule.restore(start.schedule)

    # --- controls ---------------------------------------------------------------------------

    def apply_controls(self, epoch: int, step: int) -> bool:
        """Take the knobs' changes at this step and record each of them; wait while paused.

        True when this step is one a paused run was asked for (``step``): it reports as if a
        report were due, and the run waits again before the next one.
        """
        if self.controls.version == self.seen_version:
            return False
        self.seen_version = self.controls.version
        stepping = False
        for kind, value in self.controls.take_changes():
            if kind == "lr":
                self.lr = value
                for group in self.optimizer.param_groups:
                    group["lr"] = value
            stepping = kind == "step"  # a step is the last change taken (take_changes)
            self.epoch_events.append({"step": step, "kind": kind, "value": value})
            self.emit(ControlApplied(epoch, step, kind, value))
        if self.controls.paused and not self.controls.stop_requested and not stepping:
            self.trace_paused(epoch, step - 1)
            paused_at = self.watch.clock()
            while self.controls.wait_while_paused() is not None:  # another sample asked for
                self.trace_paused(epoch, step - 1)
            self.watch.paused += self.watch.clock() - paused_at
            return self.apply_controls(epoch, step)
        if stepping:
            self.seen_version = -1  # the next step looks again: the run waits before it
        return stepping

    def trace_paused(self, epoch: int, done: int) -> None:
        """Emit one sample's pass with the weights the paused run waits with (the sample
        ``controls.trace_sample`` asks for, wrapped to the split's size, of the test split;
        val or train when the run has none).

        Traced here, on the training thread and between two steps, rather than by the UI
        from a copy of the weights: no optimizer step can change them half way through, and
        a step asked for meanwhile waits until the pass is done.
        """
        splits = ((self.x_test, self.y_test, "test"), (self.x_val, self.y_val, "val"))
        x, y, split = next((s for s in splits if len(s[0])), (self.x, self.y, "train"))
        sample = self.controls.trace_sample % len(x)
        self.emit(PassTraced(epoch, done, trace_pass(self.model, x, y, split, sample)))

    # --- the loop ---------------------------------------------------------------------------

    def run(self) -> RunResult:
        status, diverged, error = Status.COMPLETED, None, None
        try:
            # The start is inside: a failure there (an observer's, the probe's) ends the run as
            # "failed" with its reason too, never leaves its files saying "running".
            self.emit_started()
            self.threads.start()
            with frozen_heap(), subnormals_flushed():
                status, diverged = self.epochs()
        except Exception as failure:  # any failure ends the run as "failed", its files kept
            epoch, step = self.where
            status = Status.FAILED
            if epoch == 0:
                error = f"before the first step: {error_line(failure)}"
            else:
                error = f"epoch {epoch}, step {step}: {error_line(failure)}"
                self.partial_epoch = {
                    "epoch": epoch,
                    "steps": step - 1,
                    "events": self.epoch_events,
                }
        if status == Status.STOPPED and self.controls.failure is not None:
            status, error = Status.FAILED, self.controls.failure
        elif status == Status.STOPPED and self.controls.pruned:
            status = Status.PRUNED
        return self.finish(status, diverged, error)

    def epochs(self) -> tuple[Status, dict[str, Any] | None]:
        """Train epoch after epoch until the last, a stop, divergence or early stopping."""
        patience = self.config.train.early_stopping
        first = 1 if self.start is None else self.start.epoch + 1
        for epoch in range(first, self.config.train.epochs + 1):
            if epoch > 1:
                self.schedule_lr()
            outcome = self.train_epoch(epoch)
            if outcome.status is not Status.COMPLETED:
                self.partial_epoch = {
                    "epoch": epoch,
                    "steps": outcome.steps,
                    "events": self.epoch_events,
                }
                return outcome.status, outcome.diverged
            if patience and self.best_epoch is not None and epoch - self.best_epoch >= patience:
                return Status.EARLY_STOPPED, None
        return Status.COMPLETED, None

    def schedule_lr(self) -> None:
        """Step the lr schedule between two epochs, on the validation loss of the one that
        ended (never after a run's last epoch: its lr stays the one shown at the end)."""
        if self.history:
            loss = self.history[-1]["val_loss"]
        else:  # the first epoch of a continued run: its checkpoint's epoch ended last
            loss = None if self.start is None else self.start.val_loss
        self.lr = self.schedule.epoch_ended(math.nan if loss is None else loss)
        self.controls.follow_lr(self.lr)

    def emit_started(self) -> None:
        if self.data.note and self.start is None:
            self.emit(Notice(self.data.note, "warning"))
        nodes = build_graph(self.config.model, self.data.input_dim, self.data.classes)
        self.emit(
            RunStarted(
                config=self.config,
                dataset=self.data.info(),
                layers=self.layers,
                parameters=self.probe.names,
                summary=summary_text(nodes),
                total_params=trainable_params(nodes),
                device=str(self.device),
                steps_per_epoch=self.steps_per_epoch,
                dataset_note=self.data.note,
            )
        )
        if self.start is not None:  # the figures before the first step are the first run's
            self.emit(RunResumed(self.start.epoch, self.config.train.epochs))
            return
        self.measure_signal(0, 0)
        self.emit(self.weights.measured(0, self.layers))
        self.measure_boundary(0, 0)

    def measure_signal(self, epoch: int, step: int) -> ActivationsMeasured | None:
        """Run the activation probe (when on) and emit what it measured."""
        if self.signal is None:
            return None
        measured = self.signal.measure(epoch, step)
        self.last_signal = self.watch.clock()
        self.emit(measured)
        return measured

    def measure_boundary(self, epoch: int, step: int) -> None:
        """Emit the decision regions when a view shows them (2-D data) and one is due."""
        if self.boundary is None or not self.controls.boundary_wanted:
            return
        now = self.watch.clock()
        if now - self.last_boundary >= BOUNDARY_INTERVAL:
            self.last_boundary = now
            self.emit(self.boundary.measure(epoch, step))

    def train_epoch(self, epoch: int) -> EpochOutcome:
        """One pass over the training set, in the order of a plain PyTorch loop."""
        model, probe, controls = self.model, self.probe, self.controls
        l2 = self.config.train.l2
        self.epoch_events = []
        order = torch.randperm(len(self.x), device=self.x.device, generator=self.generator)
        target = self.y[order]
        meter = EpochMeter(
            epoch,
            self.bounds,
            target,
            self.logits_seen,
            probe,
            controls,
            self.watch,
            REPORT_INTERVAL,  # the run sets its pace, as with PROBE_INTERVAL
        )
        model.train()
        for step, (begin, end) in enumerate(self.bounds, 1):
            self.where = (epoch, step)
            stepping = self.apply_controls(epoch, step)
            if controls.stop_requested:
                self.report(meter, step - 1)
                return EpochOutcome(Status.STOPPED, step - 1)
            # index_select gathers the batch's rows about 3x faster than x[index] (same values).
            logits = model(torch.index_select(self.x, 0, order[begin:end]))
            loss = F.cross_entropy(logits, target[begin:end])
            objective = loss + l2 * l2_penalty(model) if l2 else loss
            for p in probe.params:  # optimizer.zero_grad(set_to_none=True) without its overhead
                p.grad = None
            objective.backward()
            norms, loss_value = probe.measure(loss)  # the step's one host read
            total = math.hypot(*norms)
            if not (math.isfinite(total) and math.isfinite(loss_value)):
                self.report(meter, step - 1)  # show the norms that led up to it
                return self.diverged(epoch, step, probe.first_bad_module(math.isfinite(loss_value)))
            coef = self.clip(total)
            due = stepping or meter.due(step)
            if due:  # a reported step's update is measured: keep the weights it starts from
                self.weights.keep()
            self.optimizer.step()
            meter.add(step, logits, norms, loss_value, total, coef)
            if due:
                self.report(meter, step, stepping)
        return self.end_epoch(meter)

    def clip(self, total: float) -> float:
        """Clip the gradients to the threshold in force; the factor applied (1.0: unchanged)."""
        max_norm = self.controls.effective_clip_norm
        return 1.0 if max_norm is None else self.probe.clip(total, max_norm)

    def diverged(self, epoch: int, step: int, layer: str) -> EpochOutcome:
        """The run ends at this step, before its optimizer step: where, and the settings."""
        where = {
            "epoch": epoch,
            "step": step,
            "layer": layer,
            # The settings in force at the failing step: the remedies start from them.
            "clip_norm": self.controls.effective_clip_norm,
            "lr": self.lr,
        }
        return EpochOutcome(Status.DIVERGED, step - 1, where)

    def report(self, meter: EpochMeter, done: int, stepping: bool = False) -> None:
        """Emit the steps since the latest report (if any); probe the signal when it is due.

        ``stepping``: the one step of a paused run, whose every figure is shown (the signal
        and the weights too: the epoch's end shows them anyway).
        """
        if not meter.pending:
            return
        self.emit(meter.progress(done, self.lr, self.weights.measure()))
        if done < self.steps_per_epoch and (
            stepping or meter.reported - self.last_signal >= PROBE_INTERVAL
        ):
            self.measure_signal(meter.epoch, done)
            if stepping:
                self.emit(self.weights.measured(meter.epoch, self.layers))
        self.measure_boundary(meter.epoch, done)
        self.check_threads()

    def check_threads(self) -> None:
        """Fit the threads to the load (auto), or say that other processes starve the run."""
        note = self.threads.recheck()
        if note is not None:
            self.emit(Notice(note.text, note.level))

    def end_epoch(self, meter: EpochMeter) -> EpochOutcome:
        """Validate, record the epoch and keep the best weights so far; the run goes on."""
        train_seconds = meter.seconds()
        # Like validation, the epoch-end probe is not part of the training steps' time.
        val = evaluate(self.model, self.x_val, self.y_val)
        signal = self.measure_signal(meter.epoch, self.steps_per_epoch)
        record = meter.record(val, self.lr, train_seconds, self.epoch_events)
        if signal is not None:
            record.update(signal.record())
        weights = self.weights.measured(meter.epoch, self.layers)
        record.update(weights.record())
        self.emit(weights)
        self.history.append(record)
        improved = val["loss"] < self.best_loss
        if improved:
            self.best_loss, self.best_epoch = val["loss"], meter.epoch
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        best_weights = self.best_state if improved else None
        epochs = self.config.train.epochs
        checkpoint = self.checkpoint(meter.epoch)
        self.emit(EpochEnded(record, self.best_epoch, epochs, best_weights, checkpoint))
        self.measure_boundary(meter.epoch, self.steps_per_epoch)
        return EpochOutcome(Status.COMPLETED, self.steps_per_epoch)

    def checkpoint(self, epoch: int) -> Checkpoint:
        """The state to go on from after this epoch (the run files keep the latest)."""
        return capture(
            epoch=epoch,
            model=self.model,
            optimizer=self.optimizer,
            generator=self.generator,
            best_state=self.best_state,
            best_epoch=self.best_epoch,
            best_loss=self.best_loss,
            lr=self.lr,
            clip_norm=self.controls.effective_clip_norm,
            schedule=self.schedule.state(),
            val_loss=self.history[-1]["val_loss"] if self.history else None,
        )

    def finish(self, status: str, diverged: dict[str, Any] | None, error: str | None) -> RunResult:
        """Restore the best epoch's weights, evaluate the test split, report."""
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        test, evaluation = None, None
        if len(self.x_test) and self.best_state is not None:  # no kept weights: nothing to test
            try:
                evaluation = assess(
                    self.model, self.x_test, self.y_test, self.data.classes, epoch=self.best_epoch
                )
                test = evaluation.test_metrics()
            except Exception as failure:  # the run failed already, or fails here: keep the rest
                status = Status.FAILED
                error = error or f"evaluating the test split: {error_line(failure)}"
        weights = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        if self.best_state is None and status == Status.FAILED:
            weights = {}  # no epoch finished: the weights of a failed step are worth nothing
        seconds = self.watch.elapsed()
        self.emit(
            RunFinished(
                status,
                self.best_epoch,
                test,
                diverged,
                seconds,
                weights,
                error=error,
                partial_epoch=self.partial_epoch,
                evaluation=evaluation,
            )
        )
        return RunResult(
            status=status,
            history=self.history,
            best_epoch=self.best_epoch,
            test=test,
            diverged=diverged,
            model=self.model,
            dataset=self.data.info(),
            layers=self.layers,
            seconds=seconds,
            weights=weights,
            error=error,
            evaluation=evaluation,
            partial_epoch=self.partial_epoch,
        )


def train(
    config: RunConfig,
    data: Dataset,
    controls: RunControls | None = None,
    emit: Emit | None = None,
    *,
    forward_probe: bool = True,
    start: Checkpoint | None = None,
) -> RunResult:
    """Train an MLP on data as config says, reporting to emit and obeying controls.

    ``forward_probe=False`` leaves the activation probe out (the throughput benchmark
    measures its cost that way); the epoch records then have no ``act_*`` figures.
    ``start`` continues a run from its checkpoint: epochs after ``start.epoch`` are trained,
    with the learning rate and clipping of ``config`` and ``controls``.
    """
    controls = controls or RunControls(config.train.clip_norm, config.train.lr)
    return _Run(config, data, controls, emit or _ignore, forward_probe, start).run()
