"""What the engine tells its observers: small, frozen, past-tense facts.

Runs without any UI. Every field is a plain Python value (no tensors), so an
event can cross a thread or process boundary and be rendered or saved as is;
the one exception is ``RunFinished.weights``, the best weights for the run files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dnn_tui.config import RunConfig


@dataclass(frozen=True)
class Event:
    """Base class of everything the engine emits."""


@dataclass(frozen=True)
class Notice(Event):
    """Something the user should read (dataset fallback, device choice ...)."""

    text: str
    level: str = "information"
    """``information``, ``warning`` or ``error``."""


@dataclass(frozen=True)
class RunStarted(Event):
    """The data is loaded, the model is built; the first step is next."""

    config: RunConfig
    """The fully resolved config."""
    dataset: dict[str, Any]
    """{"name", "train", "val", "test", "input_dim", "classes"} as in history.json."""
    layers: tuple[str, ...]
    """Linear layer names, input -> output (fc1 ... fcN)."""
    parameters: tuple[str, ...]
    """Every trainable parameter, in model order (fc1.weight, fc1.bias, bn1.weight ...)."""
    summary: str
    """Keras-style table of layers, output shapes and parameter counts."""
    total_params: int
    device: str
    steps_per_epoch: int
    dataset_note: str | None = None
    """Set when ``auto`` fell back to another dataset: why."""


@dataclass(frozen=True)
class StepMeasured(Event):
    """A throttled progress report (at most about 10 a second)."""

    epoch: int
    step: int
    """Steps done in this epoch (1-based count)."""
    steps_per_epoch: int
    loss: float
    """Running mean training loss of this epoch so far (cross-entropy, without L2)."""
    acc: float
    """Running training accuracy of this epoch so far."""
    recent_loss: float
    """Mean training loss of the steps since the previous report (a smoothed per-step curve)."""
    grad_norm: tuple[float, ...]
    """Per Linear layer (``layers`` order): mean pre-clip weight-gradient norm since last report."""
    param_grad_norm: tuple[float, ...]
    """Per parameter (``parameters`` order): mean pre-clip gradient norm since last report."""
    grad_norm_total: float
    """Mean pre-clip global gradient norm since the last report."""
    grad_norm_clipped: float
    """Mean post-clip global gradient norm since the last report (== total when clipping is off)."""
    clipped_fraction: float
    """Share of this epoch's steps so far where clipping changed the gradients."""
    samples_per_s: float
    clipping: bool
    clip_norm: float
    """The current threshold (kept while clipping is off, so it can be toggled back)."""
    lr: float
    elapsed: float
    """Seconds since the run started, pauses excluded."""
    weight_norm: tuple[float, ...] = ()
    """Per Linear layer: the L2 norm of its weight after the latest step (empty in a log
    written before weights were measured)."""
    update_ratio: tuple[float | None, ...] = ()
    """Per Linear layer: the norm of the latest step's change of its weight over the weight's
    norm (about 1e-3 is healthy); None where that step's change was not measured (a report
    cut short by a stop or a divergence)."""


@dataclass(frozen=True)
class ActivationsMeasured(Event):
    """The forward probe ran on its fixed batch: per hidden layer, how the activations are spread.

    Emitted before the first step (``epoch`` 0, ``step`` 0: the initialisation's signal), with a
    progress report at most about once a second, and at each epoch end (``step`` equal to the
    steps per epoch; the epoch's record holds the same figures). ``dnn_tui.training.probes``
    defines every figure.
    """

    epoch: int
    step: int
    layers: tuple[str, ...]
    """The hidden layers' activation modules, input side first (act1 ... actN)."""
    activation: str
    """The activation function (relu, tanh ...), as in the config."""
    mean: tuple[float, ...]
    std: tuple[float, ...]
    """Per layer: sqrt of the mean over units of each unit's variance across the batch."""
    share: tuple[float, ...]
    """Per layer: the saturated share (sigmoid, tanh) or the dead share (ReLU-like)."""
    share_kind: str
    """``saturated`` or ``dead``: what ``share`` counts."""
    hist: tuple[tuple[float, ...], ...]
    """Per layer: the share of values in each bin over ``hist_range``."""
    hist_range: tuple[float, float]
    samples: int
    """Samples in the probe batch."""

    def __post_init__(self) -> None:
        # Read back from JSON, the histogram's rows are lists: make them tuples, so that an
        # event read back equals the one written.
        object.__setattr__(self, "hist", tuple(tuple(row) for row in self.hist))

    @classmethod
    def from_history(
        cls, figures: dict[str, Any], about: dict[str, Any], activation: str, epoch: int, step: int
    ) -> ActivationsMeasured:
        """The event that history.json's figures (``initial`` or an epoch record) describe;
        ``about`` is its ``activations`` record. KeyError or TypeError when they do not fit."""
        kind = about["share"]
        share = figures["act_saturated" if kind == "saturated" else "act_dead"]
        return cls(
            epoch=epoch,
            step=step,
            layers=tuple(about["layers"]),
            activation=activation,
            mean=tuple(figures["act_mean"]),
            std=tuple(figures["act_std"]),
            share=tuple(share),
            share_kind=kind,
            hist=tuple(tuple(row) for row in figures["act_hist"]),
            hist_range=(float(about["hist_range"][0]), float(about["hist_range"][1])),
            samples=int(about["samples"]),
        )

    def record(self) -> dict[str, Any]:
        """The figures as history.json stores them (``act_*`` keys; see ``ActivationProbe``)."""
        share = list(self.share)
        return {
            "act_mean": list(self.mean),
            "act_std": list(self.std),
            "act_saturated": share if self.share_kind == "saturated" else None,
            "act_dead": share if self.share_kind == "dead" else None,
            "act_hist": [list(row) for row in self.hist],
        }


@dataclass(frozen=True)
class WeightsMeasured(Event):
    """The weights of every Linear layer: before the first step (``epoch`` 0) and at each epoch
    end (the epoch's record holds the same figures). ``dnn_tui.training.probes.WeightProbe``
    defines every figure."""

    epoch: int
    layers: tuple[str, ...]
    """The Linear layers, input side first (fc1 ... fcN)."""
    norm: tuple[float, ...]
    """Per layer: the L2 (Frobenius) norm of the weight matrix."""
    update_ratio: tuple[float | None, ...]
    """Per layer: the epoch's last step's update norm over the weight norm (None at epoch 0)."""
    hist: tuple[tuple[float, ...], ...]
    """Per layer: the share of its weights in each bin over ``[-hist_max, hist_max]``."""
    hist_max: tuple[float, ...]
    """Per layer: the histogram's half range (fixed for the run)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hist", tuple(tuple(row) for row in self.hist))

    @classmethod
    def from_history(
        cls, figures: dict[str, Any], layers: tuple[str, ...], epoch: int
    ) -> WeightsMeasured:
        """The event that history.json's figures (``initial`` or an epoch record) describe;
        KeyError or TypeError when they do not fit."""
        ratios = figures.get("update_ratio") or [None] * len(figures["weight_norm"])
        return cls(
            epoch=epoch,
            layers=layers,
            norm=tuple(float(v) for v in figures["weight_norm"]),
            update_ratio=tuple(None if v is None else float(v) for v in ratios),
            hist=tuple(tuple(row) for row in figures["weight_hist"]),
            hist_max=tuple(float(v) for v in figures["weight_hist_max"]),
        )

    def record(self) -> dict[str, Any]:
        """The figures as history.json stores them (``weight_*`` keys, ``update_ratio``)."""
        figures: dict[str, Any] = {"weight_norm": list(self.norm)}
        if self.epoch:
            figures["update_ratio"] = list(self.update_ratio)
        figures["weight_hist"] = [list(row) for row in self.hist]
        figures["weight_hist_max"] = list(self.hist_max)
        return figures


@dataclass(frozen=True)
class BoundaryMeasured(Event):
    """The class the model predicts over the plane of 2-D data (``dnn_tui.training.boundary``):
    emitted only while a view asks for it (the lab's boundary panel), at most about every
    ``engine.BOUNDARY_INTERVAL``, at a progress report or an epoch end (events.jsonl keeps
    one every ``recorder.LOG_BOUNDARY_INTERVAL``)."""

    epoch: int
    step: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    classes: int
    grid: tuple[tuple[int, ...], ...]
    """The predicted class per cell: rows from high y to low y, columns from low x."""
    points: tuple[tuple[int, int, int], ...]
    """(row, column, class) of the training points drawn over the regions."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "grid", tuple(tuple(row) for row in self.grid))
        object.__setattr__(self, "points", tuple(tuple(point) for point in self.points))


@dataclass(frozen=True)
class ControlApplied(Event):
    """A change from the controls took effect at this step."""

    epoch: int
    step: int
    kind: str
    """``clipping``, ``clip_norm``, ``lr``, ``pause`` or ``stop``."""
    value: Any


@dataclass(frozen=True)
class EpochEnded(Event):
    """An epoch finished and was validated."""

    record: dict[str, Any]
    """The epoch record exactly as history.json stores it."""
    best_epoch: int | None
    """The epoch with the lowest validation loss so far."""
    epochs: int
    """Epochs planned."""
    best_weights: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    """The model's weights (tensors on the run's device) when this epoch is a new best, so
    that the run files can keep them; None otherwise. Never written to events.jsonl."""
    checkpoint: Any = field(default=None, repr=False, compare=False)
    """The run's state after this epoch (a ``training.checkpoint.Checkpoint``), for the run
    files' checkpoint; None where nobody keeps one. Never written to events.jsonl."""


@dataclass(frozen=True)
class RunFinished(Event):
    """The run ended: completed, early_stopped, stopped, diverged or failed."""

    status: str
    best_epoch: int | None
    test: dict[str, float] | None
    """{"loss", "acc"} on the test split with the restored weights."""
    diverged: dict[str, Any] | None
    """{"epoch", "step", "layer", "clip_norm", "lr"} when status is ``diverged``: where, and
    the clipping threshold (None = off) and learning rate in force at that step."""
    seconds: float
    weights: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The restored (best) weights as CPU tensors, for the run files. Never in events.jsonl."""
    error: str | None = None
    """What went wrong when status is ``failed``."""
    partial_epoch: dict[str, Any] | None = None
    """The epoch the run ended in without finishing it: {"epoch", "steps" (done), "events"
    (the controls applied in it, stop included)}; None when the last epoch finished."""
    evaluation: Any = field(default=None, repr=False, compare=False)
    """The test split class by class with the restored weights, for evaluation.json (a
    ``training.evaluation.Evaluation``, typed loosely: events' field types are read at run
    time); None without a test split. Never in events.jsonl (it has its own file)."""


@dataclass(frozen=True)
class PassTraced(Event):
    """A paused run's network traced for one sample, forward values and backward gradients,
    with the weights the run waits with (the model graph draws it). Never in events.jsonl (a
    wide layer's gradients are thousands of numbers): the recorder writes the latest to the
    run's trace.json, where a watcher reads it (and asks for another sample with a ``trace``
    request)."""

    epoch: int
    step: int
    """Steps done in the epoch: the weights are those after them."""
    traced: Any = field(repr=False, compare=False)
    """The pass (``dnn_tui.training.trace.SamplePass``, plain Python numbers)."""


@dataclass(frozen=True)
class RunResumed(Event):
    """A run goes on from its checkpoint (``dnn-tui train --resume``): the epochs after
    ``epoch`` are trained again, up to ``epochs``; a view drops any it showed after ``epoch``."""

    epoch: int
    """The checkpoint's epoch: the last one kept."""
    epochs: int
    """Epochs planned now."""


NOT_LOGGED = frozenset({"best_weights", "weights", "evaluation", "checkpoint"})
"""Event fields kept in memory for the run files of their own (tensors, evaluation.json),
never serialised."""
EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        Notice,
        RunStarted,
        StepMeasured,
        ActivationsMeasured,
        WeightsMeasured,
        ControlApplied,
        EpochEnded,
        RunFinished,
        BoundaryMeasured,
        RunResumed,
    )
}
"""The events a run's events.jsonl can hold, by the name its records carry."""


def to_record(event: Event) -> dict[str, Any]:
    """A JSON-able dict of event: ``{"event": "EpochEnded", <field>: <value> ...}``.

    Non-finite floats stay as they are here; the writer turns them into null.
    """
    from dnn_tui.config import to_dict

    record: dict[str, Any] = {"event": type(event).__name__}
    for spec in fields(event):
        if spec.name in NOT_LOGGED:
            continue
        value = getattr(event, spec.name)
        record[spec.name] = to_dict(value) if spec.name == "config" else value
    return record


def from_record(record: dict[str, Any]) -> Event:
    """The event a ``to_record`` dict describes; ValueError when it is not one.

    Lists become tuples where the field is a tuple; nulls of float fields stay None
    (a non-finite number in the run).
    """
    from dnn_tui.config import ConfigError, from_dict

    if not isinstance(record, dict):
        raise ValueError("an event record must be a JSON object")
    name = record.get("event")
    cls = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"unknown event {str(name)[:40]!r}")
    values: dict[str, Any] = {}
    for spec in fields(cls):
        if spec.name in NOT_LOGGED:
            continue
        if spec.name not in record:
            if spec.default is MISSING and spec.default_factory is MISSING:
                raise ValueError(f"{name}: missing field {spec.name!r}")
            continue
        value = record[spec.name]
        if spec.name == "config":
            try:
                value = from_dict(value, "events.jsonl")
            except (ConfigError, AttributeError, TypeError) as error:
                raise ValueError(f"{name}: config: {error}") from None
        elif isinstance(value, list) and "tuple" in str(spec.type):
            value = tuple(value)
        values[spec.name] = value
    try:
        return cls(**values)
    except TypeError as error:
        raise ValueError(f"{name}: {error}") from None


Emit = Callable[[Event], None]
"""Where the engine sends its events."""


def fan_out(*sinks: Emit | None) -> Emit:
    """One emit that calls every given sink in order."""
    active = [s for s in sinks if s is not None]

    def emit(event: Event) -> None:
        for sink in active:
            sink(event)

    return emit
