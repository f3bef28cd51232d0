"""A deterministic, hand-made stream of engine events, for pictures that never change.

The numbers follow simple formulas (a decaying loss, rising accuracy, gradient
norms that shrink towards the input as in a mildly vanishing stack), so the
snapshots show a plausible run without training anything.
"""

from __future__ import annotations

import math
from pathlib import Path

from dnn_tui.app.app import DnnApp
from dnn_tui.app.messages import EngineReported
from dnn_tui.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from dnn_tui.graph import build_graph, summary_text, trainable_params
from dnn_tui.training.activations import HIST_BINS
from dnn_tui.training.controls import RunControls
from dnn_tui.training.events import (
    ActivationsMeasured,
    BoundaryMeasured,
    ControlApplied,
    EpochEnded,
    Event,
    Notice,
    RunFinished,
    RunStarted,
    StepMeasured,
    WeightsMeasured,
)

CONFIG = RunConfig(
    model=ModelConfig(hidden=(100, 50, 20)),
    data=DataConfig("digits"),
    train=TrainConfig(epochs=10),
    preset="baseline",
)
RUN_DIR = Path("runs/20260101-120000-baseline")
DATASET = {"name": "digits", "train": 1437, "val": 180, "test": 180, "input_dim": 64, "classes": 10}
STEPS = 15
"""Steps per epoch (1437 samples in batches of 100)."""
LAYERS = ("fc1", "fc2", "fc3", "fc4")
PARAMETERS = tuple(f"{layer}.{kind}" for layer in LAYERS for kind in ("weight", "bias"))
SECONDS_PER_STEP = 0.02


def started(config: RunConfig = CONFIG) -> RunStarted:
    nodes = build_graph(config.model, 64, 10)
    layers = tuple(node.name for node in nodes if node.name.startswith("fc"))
    return RunStarted(
        config=config,
        dataset=DATASET,
        layers=layers,
        parameters=tuple(p.name for node in nodes for p in node.params),
        summary=summary_text(nodes),
        total_params=trainable_params(nodes),
        device="cpu",
        steps_per_epoch=STEPS,
    )


def _loss(t: float) -> float:
    return 0.15 + 2.15 * math.exp(-0.9 * t)


def _norms(t: float) -> tuple[float, ...]:
    scale = 0.4 + 0.3 * math.exp(-0.5 * t)
    return tuple(scale * 0.35 ** (len(LAYERS) - 1 - i) for i in range(len(LAYERS)))


def step(
    epoch: int, n: int, clipping: bool = False, scale: float = 1.0, lr: float = 0.001
) -> StepMeasured:
    """A progress report; ``scale`` multiplies the losses and the gradient norms."""
    t = epoch - 1 + n / STEPS
    norms = tuple(scale * v for v in _norms(t))
    total = math.sqrt(sum(v * v for v in norms))
    return StepMeasured(
        epoch=epoch,
        step=n,
        steps_per_epoch=STEPS,
        loss=scale * _loss(t - 0.5 * n / STEPS),
        acc=1 - 0.9 * math.exp(-1.1 * t),
        recent_loss=scale * _loss(t) * (1 + 0.08 * math.sin(7 * t)),
        grad_norm=norms,
        param_grad_norm=tuple(v for norm in norms for v in (norm, norm / 3)),
        grad_norm_total=total,
        grad_norm_clipped=min(total, 0.5) if clipping else total,
        clipped_fraction=0.4 if clipping else 0.0,
        samples_per_s=48_000.0,
        clipping=clipping,
        clip_norm=0.5 if clipping else 1.0,
        lr=lr,
        elapsed=((epoch - 1) * STEPS + n) * SECONDS_PER_STEP,
        weight_norm=_weight_norms(t),
        update_ratio=tuple(2e-3 * math.exp(-0.2 * t) * (1 + 0.2 * i) for i in range(len(LAYERS))),
    )


def _weight_norms(t: float) -> tuple[float, ...]:
    """The baseline's weight norms (fc1 ... fc4), growing a little as it learns."""
    return tuple(v * (1 + 0.01 * t) for v in (8.8, 8.2, 5.2, 3.6))


def weights(epoch: int) -> WeightsMeasured:
    """The baseline's weights at an epoch end (``epoch`` 0: before the first step): each
    layer's uniform Xavier start, spreading towards a bell as it learns."""
    t = float(epoch)
    flat = tuple(0.0 if b in (0, 1, 14, 15) else 1 / 12 for b in range(HIST_BINS))
    bell = _bell(0.0, 0.25 + 0.02 * t, -1.0, 1.0)
    mix = min(1.0, t / 6)
    hist = tuple(round((1 - mix) * f + mix * b, 3) for f, b in zip(flat, bell, strict=True))
    return WeightsMeasured(
        epoch=epoch,
        layers=LAYERS,
        norm=_weight_norms(t),
        update_ratio=(None,) * 4 if epoch == 0 else step(epoch, STEPS).update_ratio,
        hist=(hist,) * len(LAYERS),
        hist_max=(0.17, 0.34, 0.6, 0.9),
    )


def epoch_ended(
    epoch: int,
    events: list[dict[str, object]] | None = None,
    scale: float = 1.0,
    lr: float = 0.001,
) -> EpochEnded:
    t = float(epoch)
    val_loss = _loss(t) + 0.02 * max(0.0, t - 5) ** 1.5 + 0.04
    record = {
        "epoch": epoch,
        "train_loss": scale * _loss(t - 0.5),
        "train_acc": 1 - 0.9 * math.exp(-1.1 * t),
        "val_loss": scale * val_loss,
        "val_acc": 0.97 - 0.85 * math.exp(-1.0 * t),
        "lr": lr,
        "seconds": STEPS * SECONDS_PER_STEP,
        "samples_per_s": 48_000.0,
        "grad_norm": [scale * v for v in _norms(t)],
        "grad_norm_total": 0.8,
        "clipped_fraction": 0.4 if epoch >= 4 else 0.0,
        "events": events or [],
    }
    best = min(range(1, epoch + 1), key=lambda e: _loss(e) + 0.02 * max(0.0, e - 5) ** 1.5)
    return EpochEnded(record, best, CONFIG.train.epochs)


def _bell(center: float, spread: float, low: float, high: float) -> tuple[float, ...]:
    """HIST_BINS shares of a bell curve over [low, high] (edge bins take what lies beyond)."""
    width = (high - low) / HIST_BINS
    mids = [low + (i + 0.5) * width for i in range(HIST_BINS)]
    weights = [math.exp(-0.5 * ((m - center) / max(spread, width / 4)) ** 2) for m in mids]
    total = sum(weights)
    return tuple(round(w / total, 3) for w in weights)  # what 256 samples x 64 units resolve


def signal(epoch: int, step: int = STEPS) -> ActivationsMeasured:
    """The baseline's three ReLU layers: spreads that grow a little as it learns."""
    t = float(epoch)
    std = tuple((0.22 + 0.05 * i) * (1 + 0.1 * t) for i in range(3))
    dead = (0.0, 0.02, 0.04 + 0.01 * t)
    hist = tuple(
        tuple(0.5 if b == 0 else 0.5 * v for b, v in enumerate(_bell(0.0, s * 1.5, 0.0, 2.0)))
        for s in std
    )
    return ActivationsMeasured(
        epoch=epoch,
        step=0 if epoch == 0 else step,
        layers=("act1", "act2", "act3"),
        activation="relu",
        mean=tuple(0.4 * s for s in std),
        std=std,
        share=dead,
        share_kind="dead",
        hist=hist,
        hist_range=(0.0, 2.0),
        samples=256,
    )


DEEP_TANH = RunConfig(
    model=ModelConfig(hidden=(64,) * 10, activation="tanh", init="default"),
    data=DataConfig("digits"),
    train=TrainConfig(optimizer="sgd", lr=0.1, epochs=20),
    preset="deep-tanh",
)


def deep_tanh_signal() -> ActivationsMeasured:
    """Deep tanh with the default init before its first step: each layer passes on a bit over
    half of the spread it gets (as measured on MNIST), the values bunch up near the biases."""
    std = tuple(0.14 * 0.565**k for k in range(10))
    return ActivationsMeasured(
        epoch=0,
        step=0,
        layers=tuple(f"act{k}" for k in range(1, 11)),
        activation="tanh",
        mean=tuple(0.01 * (-1) ** k for k in range(10)),
        std=std,
        share=(0.0,) * 10,
        share_kind="saturated",
        hist=tuple(_bell(0.0, math.hypot(s, 0.08), -1.0, 1.0) for s in std),
        hist_range=(-1.0, 1.0),
        samples=256,
    )


def deep_tanh_start() -> list[Event]:
    """A deep-tanh run that has just started: the initialisation's signal, no step yet."""
    return [started(DEEP_TANH), deep_tanh_signal()]


def mid_run(epochs_done: int = 6, steps: int = 9) -> list[Event]:
    """A run seen in epoch epochs_done + 1 at step ``steps``; clipping went on in epoch 4."""
    events: list[Event] = [started(), signal(0), weights(0)]
    for epoch in range(1, epochs_done + 2):
        clip_change = None
        last = STEPS if epoch <= epochs_done else steps
        for n in range(1, last + 1):
            if epoch == 4 and n == 3:
                clip_change = {"step": 3, "kind": "clipping", "value": True}
                events.append(ControlApplied(4, 3, "clipping", True))
            events.append(step(epoch, n, clipping=epoch >= 4))
        if epoch <= epochs_done:
            events.append(signal(epoch))
            events.append(weights(epoch))
            events.append(epoch_ended(epoch, [clip_change] if clip_change else None))
    return events


CHANGES: tuple[tuple[int, str, object], ...] = (
    (2, "pause", True),
    (2, "pause", False),
    (4, "clipping", True),
    (5, "clip_norm", 2.0),
    (6, "clip_norm", 4.0),
    (8, "lr", 0.0005),
    (11, "pause", True),
    (11, "pause", False),
    (13, "clipping", False),
)
"""(step, kind, value): the controls changed in each of long_numbers_and_events's epochs."""


def long_numbers_and_events(epochs_done: int = 5, steps: int = 9) -> list[Event]:
    """A run whose losses are far too long for short columns (a first loss of 2.5e7,
    falling a decade an epoch) and whose epochs each changed the controls nine times,
    the running epoch included; the learning rate halves in every epoch."""
    events: list[Event] = [started()]
    lr = 0.001
    for epoch in range(1, epochs_done + 2):
        scale = 2.5e7 * 10.0 ** (1 - epoch)
        last = STEPS if epoch <= epochs_done else steps
        changes: list[dict[str, object]] = []
        for n in range(1, last + 1):
            for at, kind, value in CHANGES:
                if at == n:
                    value = lr / 2 if kind == "lr" else value
                    changes.append({"step": n, "kind": kind, "value": value})
                    events.append(ControlApplied(epoch, n, kind, value))
                    lr = value if kind == "lr" else lr  # type: ignore[assignment]
            events.append(step(epoch, n, scale=scale, lr=lr))
        if epoch <= epochs_done:
            events.append(epoch_ended(epoch, changes, scale=scale, lr=lr))
    return events


FALLBACK = (
    "MNIST not found in /home/user/.cache/dnn-tui/MNIST/raw and could not be downloaded "
    "(no network); using scikit-learn's bundled digits instead"
)
"""What the engine says when ``auto`` falls back to digits (the words of data.py)."""


def with_notice(events: list[Event], text: str = FALLBACK, level: str = "warning") -> list[Event]:
    """events with a notice coming right after the run started (as the dataset fallback does)."""
    return [events[0], Notice(text, level), *events[1:]]


def diverged() -> list[Event]:
    """Two good epochs, then a non-finite gradient in fc1."""
    events = mid_run(epochs_done=2, steps=0)
    events.append(RunFinished("diverged", 2, {"loss": 0.61, "acc": 0.83}, diverged_at(), 0.6))
    return events


def diverged_at() -> dict[str, object]:
    return {"epoch": 3, "step": 11, "layer": "fc1"}


def feed(app: DnnApp, events: list[Event], *, clipping: bool = True) -> RunControls:
    """Show a run as if the worker had reported ``events`` (no training, no thread)."""
    config = events[0].config if events and isinstance(events[0], RunStarted) else CONFIG
    controls = RunControls(0.5 if clipping else None, config.train.lr)
    app.lab.begin_run(config, RUN_DIR, 1, controls)
    for event in events:
        app.lab.on_engine_reported(EngineReported(1, [event]))
    app.lab.flush_panels()
    app.lab.epoch_table.flush(force=True)
    return controls


MOONS = RunConfig(
    model=ModelConfig(hidden=(100, 50, 20), activation="tanh"),
    data=DataConfig("moons"),
    train=TrainConfig(epochs=10),
)
"""A 2-D run (the model keeps the scripted stream's four layers)."""
MOONS_DATASET = {
    "name": "moons",
    "train": 2400,
    "val": 300,
    "test": 300,
    "input_dim": 2,
    "classes": 2,
}


def boundary(epoch: int, columns: int = 48, rows: int = 24) -> BoundaryMeasured:
    """Regions split by a wave that grows with the epochs (the moons' S), some points on them,
    a few of them on the wrong side."""
    x_range, y_range = (-2.5, 2.5), (-2.0, 2.0)

    def centre(row: int, col: int) -> tuple[float, float]:
        x = x_range[0] + (col + 0.5) * (x_range[1] - x_range[0]) / columns
        y = y_range[1] - (row + 0.5) * (y_range[1] - y_range[0]) / rows
        return x, y

    def label(x: float, y: float) -> int:
        return int(y < min(1.0, epoch / 6) * math.sin(1.3 * x))

    grid = tuple(tuple(label(*centre(row, col)) for col in range(columns)) for row in range(rows))
    points = tuple(
        (row, col, label(*centre(row, col)) if (row + col) % 5 else 1 - label(*centre(row, col)))
        for row, col in ((3 * k % rows, 7 * k % columns) for k in range(40))
    )
    return BoundaryMeasured(epoch, STEPS, x_range, y_range, 2, grid, points)


def moons_mid_run() -> list[Event]:
    """mid_run of a 2-D run, with the regions at its last epoch end."""
    events = mid_run()
    first = started(MOONS)
    events[0] = RunStarted(**{**first.__dict__, "dataset": MOONS_DATASET})
    return [*events, boundary(6)]
