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

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, ReduceLROnPlateau, StepLR

from dnn_tui.config import TrainConfig


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
