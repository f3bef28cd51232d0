"""The learning-rate range test: ``range_test(config, data, sweep) -> RangeTest``.

Runs without any UI. A throwaway model (built as a run builds it, from ``config.train.seed``)
takes ``sweep.steps`` optimizer steps whose learning rate grows exponentially from
``sweep.min_lr`` to ``sweep.max_lr``: step ``i`` (from 0) uses
``min_lr * (max_lr / min_lr) ** (i / (steps - 1))``, as Lightning's ``lr_find`` does. Each
step's batch loss (before its update) is recorded with the lr of that step, and an
exponential moving average of it (``SMOOTHING``, with the bias of the first steps removed) is
what the figure draws and the suggestion reads. The test stops early when the loss diverges:
a non-finite loss, or a smoothed loss above ``DIVERGENCE`` times the best so far.

The suggestion is the lr of the steepest descent of the smoothed loss against log10(lr)
(fastai's ``steep`` rule; Lightning's too, on its uniform log grid), leaving out the first
``SKIP_BEGIN`` steps (the average still settles) and the steps after the lowest smoothed
loss (the climb to divergence). The model, the
optimizer and the data order are the engine's, so a plain PyTorch loop with the same seed
repeats the numbers (the tests do); no run's weights are touched.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from dnn_tui.config import ConfigError, RunConfig
from dnn_tui.data import Dataset
from dnn_tui.model import build_mlp, l2_penalty
from dnn_tui.training.engine import batch_bounds, check_trainable, make_optimizer, resolve_device

SMOOTHING = 0.98
"""The weight of the running average against each new loss (Lightning's and fastai's)."""
DIVERGENCE = 4.0
"""The test stops once the smoothed loss exceeds this multiple of the best one."""
SKIP_BEGIN = 10
"""Steps left out at the start when suggesting: the average has not settled there."""
MIN_STEPS, MAX_STEPS = 20, 10_000


@dataclass(frozen=True)
class LrSweep:
    """The learning rates a range test tries."""

    min_lr: float = 1e-7
    max_lr: float = 10.0
    steps: int = 300

    def check(self) -> LrSweep:
        """Self, or a ConfigError naming the setting and its rule."""
        for name, value in (("min_lr", self.min_lr), ("max_lr", self.max_lr)):
            if not (isinstance(value, float | int) and math.isfinite(value) and value > 0):
                raise ConfigError(f"{name}: must be a finite number > 0, got {value}")
        if self.max_lr <= self.min_lr:
            raise ConfigError(
                f"max_lr: must be above min_lr ({self.min_lr:g}), got {self.max_lr:g}"
            )
        if not MIN_STEPS <= self.steps <= MAX_STEPS:
            raise ConfigError(
                f"steps: must be an integer from {MIN_STEPS} to {MAX_STEPS}, got {self.steps}"
            )
        return self

    def lr(self, step: int) -> float:
        """The learning rate of step ``step`` (from 0)."""
        return self.min_lr * (self.max_lr / self.min_lr) ** (step / (self.steps - 1))


@dataclass(frozen=True)
class RangeTest:
    """What a range test measured."""

    lrs: tuple[float, ...]
    """The lr of each step taken."""
    losses: tuple[float, ...]
    """Each step's batch loss, before its update."""
    smoothed: tuple[float, ...]
    """The running average of ``losses``, its start bias removed."""
    suggestion: float | None
    """The suggested learning rate; None when too few steps were taken to tell."""
    stopped: str | None
    """Why it stopped before its last step (the loss diverged), or None."""
    sweep: LrSweep

    @property
    def suggested_step(self) -> int | None:
        return None if self.suggestion is None else self.lrs.index(self.suggestion)

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_lr": self.sweep.min_lr,
            "max_lr": self.sweep.max_lr,
            "steps": self.sweep.steps,
            "rule": "steepest descent of the smoothed loss against log10(lr)",
            "lrs": list(self.lrs),
            "losses": list(self.losses),
            "smoothed": list(self.smoothed),
            "suggestion": self.suggestion,
            "stopped": self.stopped,
        }


def suggest(lrs: tuple[float, ...], smoothed: tuple[float, ...]) -> float | None:
    """The lr where the smoothed loss falls fastest against log10(lr) (central differences
    inside, one-sided at the ends, as numpy.gradient), from step ``SKIP_BEGIN`` to the lowest
    smoothed loss: past it the loss climbs, and its jumps there can fall steeply too."""
    lowest = min(range(len(smoothed)), key=smoothed.__getitem__, default=0)
    points = list(zip(lrs, smoothed, strict=True))[SKIP_BEGIN : lowest + 1]
    if len(points) < 2:
        return None
    xs = [math.log10(lr) for lr, _ in points]
    ys = [loss for _, loss in points]
    slopes = []
    for i in range(len(xs)):
        before, after = max(i - 1, 0), min(i + 1, len(xs) - 1)
        slopes.append((ys[after] - ys[before]) / (xs[after] - xs[before]))
    steepest = min(range(len(slopes)), key=slopes.__getitem__)
    return points[steepest][0]


Progress = Callable[[int, int], None]
"""Called after each step with (steps taken, steps asked); may raise to cancel."""


def range_test(
    config: RunConfig,
    data: Dataset,
    sweep: LrSweep | None = None,
    progress: Progress | None = None,
) -> RangeTest:
    """Run the range test for config on data (see the module docstring)."""
    sweep = (sweep or LrSweep()).check()
    check_trainable(config, data)
    device = resolve_device(config.train.device)
    x, y = data.x_train.to(device), data.y_train.to(device)
    torch.manual_seed(config.train.seed)
    model = build_mlp(config.model, data.input_dim, data.classes).to(device)
    generator = torch.Generator(device=device).manual_seed(config.train.seed)
    optimizer = make_optimizer(config.train.optimizer, list(model.parameters()), sweep.min_lr)
    n = len(x)
    bs = config.train.batch_size
    bounds = batch_bounds(n, n if bs == "full" else min(bs, n), config.model.batchnorm)
    l2, clip = config.train.l2, config.train.clip_norm
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    average, best, stopped = 0.0, math.inf, None
    model.train()
    batches = _batches(bounds, n, generator, device)
    for step in range(sweep.steps):
        lr = sweep.lr(step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        index = next(batches)
        logits = model(torch.index_select(x, 0, index))
        loss = F.cross_entropy(logits, y[index])
        value = loss.item()
        if not math.isfinite(value):
            stopped = f"the loss was {value} at lr {lr:.3g}"
            break
        average = SMOOTHING * average + (1 - SMOOTHING) * value
        level = average / (1 - SMOOTHING ** (step + 1))
        lrs.append(lr)
        losses.append(value)
        smoothed.append(level)
        if step > 0 and level > DIVERGENCE * best:
            stopped = f"the smoothed loss passed {DIVERGENCE:g}x its best at lr {lr:.3g}"
            break
        best = min(best, level)
        optimizer.zero_grad(set_to_none=True)
        (loss + l2 * l2_penalty(model) if l2 else loss).backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        if progress is not None:
            progress(step + 1, sweep.steps)
    return RangeTest(
        tuple(lrs),
        tuple(losses),
        tuple(smoothed),
        suggest(tuple(lrs), tuple(smoothed)),
        stopped,
        sweep,
    )


def _batches(
    bounds: list[tuple[int, int]], n: int, generator: torch.Generator, device: torch.device
) -> Iterator[torch.Tensor]:
    """The index of each step's batch: epoch after epoch, each in a fresh shuffled order."""
    while True:
        order = torch.randperm(n, device=device, generator=generator)
        for begin, end in bounds:
            yield order[begin:end]
