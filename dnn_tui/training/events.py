"""What the engine tells its observers: small, frozen, past-tense facts.

Runs without any UI. Every field is a plain Python value (no tensors), so an
event can cross a thread or process boundary and be rendered or saved as is;
the one exception is ``RunFinished.weights``, the best weights for the run files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class RunFinished(Event):
    """The run ended: completed, early_stopped, stopped or diverged."""

    status: str
    best_epoch: int | None
    test: dict[str, float] | None
    """{"loss", "acc"} on the test split with the restored weights."""
    diverged: dict[str, Any] | None
    """{"epoch", "step", "layer"} when status is ``diverged``."""
    seconds: float
    weights: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The restored (best) weights as CPU tensors, for the run files."""


Emit = Callable[[Event], None]
"""Where the engine sends its events."""


def fan_out(*sinks: Emit | None) -> Emit:
    """One emit that calls every given sink in order."""
    active = [s for s in sinks if s is not None]

    def emit(event: Event) -> None:
        for sink in active:
            sink(event)

    return emit
