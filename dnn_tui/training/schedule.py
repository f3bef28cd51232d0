"""Learning-rate schedules: torch's schedulers, stepped by the engine between two epochs.

Runs without any UI. ``step`` is ``StepLR(step_size, gamma)``, ``cosine`` is
``CosineAnnealingLR(T_max=epochs)`` (down to 0 at the end of the last epoch), ``plateau`` is
``ReduceLROnPlateau(factor=gamma, patience=plateau_patience)`` on the validation loss. The
schedulers are torch's chainable forms, which compute each epoch's lr from the lr in force:
a learning rate changed live (the dashboard's form, a ``watch`` request) stays in force for
the rest of its epoch, and the schedule goes on from it at the epoch's end (a cosine
follows its curve's ratios from there, a step cut multiplies it).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, ReduceLROnPlateau, StepLR

from dnn_tui.config import TrainConfig

KEPT = ("last_epoch", "_step_count", "_last_lr", "best", "num_bad_epochs", "cooldown_counter")
"""The scheduler's numbers a checkpoint keeps (the rest follows from the run's settings, so a
continued run with more epochs stretches a cosine to its new last epoch)."""


class LrSchedule:
    """The schedule of one run's optimizer (``none``: the lr changes only when asked)."""

    def __init__(self, train: TrainConfig, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer
        self.scheduler: StepLR | CosineAnnealingLR | ReduceLROnPlateau | None = None
        if train.schedule == "step":
            self.scheduler = StepLR(optimizer, step_size=train.step_size, gamma=train.gamma)
        elif train.schedule == "cosine":
            self.scheduler = CosineAnnealingLR(optimizer, T_max=train.epochs)
        elif train.schedule == "plateau":
            self.scheduler = ReduceLROnPlateau(
                optimizer, factor=train.gamma, patience=train.plateau_patience
            )

    def epoch_ended(self, val_loss: float) -> float:
        """Step the schedule as an epoch ended (on its validation loss); the next epoch's lr."""
        if isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step(val_loss)
        elif self.scheduler is not None:
            self.scheduler.step()
        return float(self.optimizer.param_groups[0]["lr"])

    def state(self) -> dict[str, Any]:
        """The scheduler's own numbers now, for a checkpoint (JSON: an infinite ``best``, the
        plateau's start, is None)."""
        if self.scheduler is None:
            return {}
        full = self.scheduler.state_dict()
        return {key: _finite(full[key]) for key in KEPT if key in full}

    def restore(self, state: dict[str, Any]) -> None:
        """Put a checkpoint's numbers back (a run continued from it steps on from there)."""
        if self.scheduler is None or not state:
            return
        full = self.scheduler.state_dict()
        for key in KEPT:
            if key in state and key in full:
                full[key] = math.inf if state[key] is None else state[key]
        self.scheduler.load_state_dict(full)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
