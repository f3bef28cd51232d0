"""A run's state at an epoch end, complete enough to go on from it exactly.

Runs without any UI. The engine takes a ``Checkpoint`` at each epoch end (``capture``: copies
of the tensors, cheap next to an epoch) and gives one back to a run that continues
(``restore``). Everything that decides what the next epochs compute is in it: the model's and
the optimizer's tensors, the best weights and loss so far (early stopping and the weights
kept at the end), the learning rate and clipping in force, and the random states: PyTorch's
CPU generator (dropout on the CPU), the engine's batch-order generator, and CUDA's where the
run uses it. The tensors are named with stable flat names (``TENSOR_PREFIXES``) so that the
run files can keep them in safetensors; the rest is plain numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dnn_tui.config import RunConfig, to_dict

if TYPE_CHECKING:
    import torch
    from torch import nn

MODEL = "model."
"""The model's state dict (parameters and batch-norm buffers), by its own names."""
BEST = "best."
"""The best epoch's weights so far, by the same names."""
OPTIMIZER = "optimizer."
"""The optimizer's per-parameter state: ``optimizer.<param index>.<key>`` (Adam's ``step``,
``exp_avg``, ``exp_avg_sq``; SGD's ``momentum_buffer`` ...)."""
RNG_CPU = "rng.torch_cpu"
"""``torch.get_rng_state()``: dropout's random numbers on the CPU."""
RNG_BATCHES = "rng.batch_order"
"""The engine's generator of each epoch's batch order."""
RNG_CUDA = "rng.cuda"
"""``torch.cuda.get_rng_state()`` of the run's device, where it is a CUDA device."""
TENSOR_PREFIXES = (MODEL, BEST, OPTIMIZER)

RESUMABLE = frozenset({"epochs", "lr", "clip_norm", "early_stopping", "threads"})
"""Train options a continued run may change; every other option is part of its identity."""


@dataclass(frozen=True)
class Checkpoint:
    """The state of a run at the end of ``epoch``."""

    epoch: int
    lr: float
    """The learning rate in force."""
    clip_norm: float | None
    """The clipping threshold in force; None: clipping off."""
    best_epoch: int | None
    best_loss: float | None
    """The lowest validation loss so far (None before an epoch had a finite one)."""
    tensors: dict[str, torch.Tensor] = field(repr=False, compare=False)
    """Every tensor, by the flat names above."""
    schedule: dict[str, Any] = field(default_factory=dict)
    """The lr scheduler's numbers (``LrSchedule.state``); empty without a schedule."""
    val_loss: float | None = None
    """The epoch's validation loss: what the schedule steps on before the next epoch."""


def identity(config: RunConfig) -> str:
    """A fingerprint of what a continued run must share with the run it continues: the config
    without the options in ``RESUMABLE`` (nor its description)."""
    values = to_dict(config)
    values.pop("description", None)
    values["train"] = {k: v for k, v in values["train"].items() if k not in RESUMABLE}
    blob = json.dumps(values, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def capture(
    *,
    epoch: int,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    best_state: dict[str, torch.Tensor] | None,
    best_epoch: int | None,
    best_loss: float,
    lr: float,
    clip_norm: float | None,
    schedule: dict[str, Any] | None = None,
    val_loss: float | None = None,
) -> Checkpoint:
    """The run's state now (an epoch end), as copies on the CPU."""
    import torch

    tensors: dict[str, torch.Tensor] = {}
    for name, value in model.state_dict().items():
        tensors[MODEL + name] = _copy(value)
    for name, value in (best_state or {}).items():  # never changed in place: no copy
        tensors[BEST + name] = value.detach().to("cpu").contiguous()
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{OPTIMIZER}{index}.{key}"] = _copy(value)
            elif isinstance(value, int | float):  # a plain number (older optimizers' step)
                tensors[f"{OPTIMIZER}{index}.{key}"] = torch.tensor(float(value))
    tensors[RNG_CPU] = torch.get_rng_state()
    tensors[RNG_BATCHES] = generator.get_state()
    device = generator.device
    if device.type == "cuda":
        tensors[RNG_CUDA] = torch.cuda.get_rng_state(device)
    return Checkpoint(
        epoch=epoch,
        lr=lr,
        clip_norm=clip_norm,
        best_epoch=best_epoch,
        best_loss=best_loss if math.isfinite(best_loss) else None,
        tensors=tensors,
        schedule=schedule or {},
        val_loss=val_loss if val_loss is not None and math.isfinite(val_loss) else None,
    )


def _copy(value: torch.Tensor) -> torch.Tensor:
    return value.detach().to("cpu", copy=True).contiguous()


def restore(
    checkpoint: Checkpoint,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
) -> dict[str, torch.Tensor] | None:
    """Put the checkpoint's state into a freshly built run (its optimizer keeps the learning
    rate it was built with); the best weights (on the model's device), or None. ValueError when
    the tensors do not fit the model."""
    import torch

    tensors = checkpoint.tensors
    device = generator.device
    try:
        model.load_state_dict(_part(tensors, MODEL, device))
        state: dict[int, dict[str, torch.Tensor]] = {}
        for name, value in tensors.items():
            if name.startswith(OPTIMIZER):
                index, _, key = name.removeprefix(OPTIMIZER).partition(".")
                state.setdefault(int(index), {})[key] = value
        groups = optimizer.state_dict()["param_groups"]
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except (RuntimeError, ValueError, KeyError) as error:
        raise ValueError(f"the checkpoint does not fit this model: {error}") from None
    best = _part(tensors, BEST, device) or None
    generator.set_state(tensors[RNG_BATCHES])
    torch.set_rng_state(tensors[RNG_CPU])
    if device.type == "cuda" and RNG_CUDA in tensors:
        torch.cuda.set_rng_state(tensors[RNG_CUDA], device)
    return best


def _part(tensors: dict[str, Any], prefix: str, device: torch.device) -> dict[str, Any]:
    return {
        name.removeprefix(prefix): value.to(device)
        for name, value in tensors.items()
        if name.startswith(prefix)
    }
