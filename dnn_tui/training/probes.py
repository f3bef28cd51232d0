"""Observers of training: gradient norms before clipping, clipping itself, and the forward signal.

Runs without any UI. The norms are read after ``backward()`` and before the
optimizer step, the moment Lightning calls ``on_before_optimizer_step``. One
``torch._foreach_norm`` measures every parameter's gradient per step and one
transfer brings the norms and the loss to the host, where the engine sums them
(a handful of floats; the divergence check needs them before the optimizer step).

``WeightProbe`` reads the weights themselves: their norms, the size of a step's update
against them (the update ratio) and their histograms, at progress reports and epoch ends.

``ActivationProbe`` looks at the forward pass instead: per hidden layer, how the
activations on a fixed batch are distributed. The engine runs it at the start of a
run (the initialisation's signal), when a progress report is due (at most every
``engine.PROBE_INTERVAL``) and at each epoch end, never per step.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from dnn_tui.model import linear_layers
from dnn_tui.training.activations import HIST_BINS, HIST_RANGES
from dnn_tui.training.events import ActivationsMeasured, WeightsMeasured
from dnn_tui.training.lessons import SATURATED_ABOVE, share_kind

CLIP_EPS = 1e-6
"""Same epsilon as torch.nn.utils.clip_grad_norm_, so both clip identically."""


class GradientProbe:
    """Per-parameter gradient norms of one model, measured once per step."""

    def __init__(self, model: nn.Module) -> None:
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self.names: tuple[str, ...] = tuple(n for n, _ in named)
        """Parameter names in model order (fc1.weight, fc1.bias, bn1.weight ...)."""
        self.params: list[torch.Tensor] = [p for _, p in named]
        weights = [self.names.index(f"{name}.weight") for name, _ in linear_layers(model)]
        self.weight_index: tuple[int, ...] = tuple(weights)
        """Positions of the Linear weights (fc1.weight ...) in ``names``."""
        self.on_cpu = all(p.device.type == "cpu" for p in self.params)

    def measure(self, loss: torch.Tensor) -> tuple[list[float], float]:
        """The norm of each parameter's gradient and the loss value, on the host.

        One ``_foreach_norm`` over every gradient: the divergence check needs the numbers
        before ``optimizer.step()`` anyway. On the CPU each number is read as it is (a
        ``stack`` of them cost about 2% of a baseline step); on an accelerator they come
        in one transfer, a CPU-GPU sync point once per step.
        """
        norms = torch._foreach_norm([p.grad for p in self.params])
        if self.on_cpu:
            return [norm.item() for norm in norms], loss.item()
        *values, loss_value = torch.stack([*norms, loss.detach()]).tolist()
        return values, loss_value

    def first_bad_module(self, loss_finite: bool) -> str:
        """The module of the first (input side) parameter whose gradient is not finite."""
        if not loss_finite:
            return "loss"
        for name, p in zip(self.names, self.params, strict=True):
            if p.grad is not None and not bool(torch.isfinite(p.grad).all()):
                return name.rsplit(".", 1)[0]
        return "loss"

    def clip(self, total_norm: float, max_norm: float) -> float:
        """Scale every gradient so that the global norm is at most max_norm.

        Reuses the measured total norm instead of a second pass over the gradients
        (what clip_grad_norm_ would do). Returns the scale factor (1.0 = unchanged).
        """
        coef = max_norm / (total_norm + CLIP_EPS)
        if coef >= 1.0:
            return 1.0
        torch._foreach_mul_([p.grad for p in self.params], coef)
        return coef


# --- the forward signal -------------------------------------------------------------------------


class ActivationProbe:
    """Per hidden layer statistics of the activations on a fixed batch (the forward signal).

    ``measure()`` runs the network on the probe batch without gradients and without
    changing anything: dropout is off (as in eval mode), and batch norm normalises with the
    probe batch's own statistics, as in training, without updating its running statistics
    (at the start of a run those hold 0 and 1, which would hide what batch norm does).
    For each hidden layer's activation output ``a`` (samples x units) it reports:

    - ``mean``: the mean of all values;
    - ``std``: sqrt of the mean over units of each unit's variance across the batch: how much
      a unit's output changes from one sample to the next, the part that carries the input (a
      constant offset such as a bias is not signal);
    - ``saturated`` (sigmoid, tanh): the share of values in the flat ends (``SATURATED_ABOVE``:
      |a| > 0.99 for tanh, |a - 0.5| > 0.49, below 0.01 or above 0.99, for sigmoid);
    - ``dead`` (ReLU-like): the share of units that are not positive for any sample of the batch
      (for ReLU: zero for every sample), which pass no gradient at all;
    - ``hist``: the share of values in each of ``HIST_BINS`` equal bins over ``hist_range``.
    """

    def __init__(self, model: nn.Module, activation: str, x: torch.Tensor) -> None:
        self.x = x
        """The probe batch (on the model's device)."""
        self.modules: list[tuple[str, nn.Module]] = list(model.named_children())
        self.layers: tuple[str, ...] = tuple(
            name for name, _ in self.modules if name.startswith("act")
        )
        """The hidden layers' activation modules, input side first (act1 ... actN)."""
        self.share_kind = share_kind(activation)
        self.activation = activation
        self.hist_range: tuple[float, float] = HIST_RANGES[activation]

    @torch.no_grad()
    def measure(self, epoch: int, step: int) -> ActivationsMeasured:
        """One pass over the probe batch; the figures come to the host in one transfer."""
        scalars: list[torch.Tensor] = []
        hists: list[torch.Tensor] = []
        h = self.x
        for name, module in self.modules:
            if isinstance(module, nn.Dropout):
                continue
            if isinstance(module, nn.BatchNorm1d):
                h = F.batch_norm(h, None, None, module.weight, module.bias, True, 0.0, module.eps)
            else:
                h = module(h)
            if name.startswith("act"):
                scalars += self._figures(h)
                hists.append(self._histogram(h))
        count = len(hists)
        values = torch.cat([torch.stack(scalars), *hists]).tolist() if count else []
        figures, bins = values[: 3 * count], values[3 * count :]
        return ActivationsMeasured(
            epoch=epoch,
            step=step,
            layers=self.layers,
            activation=self.activation,
            mean=tuple(figures[0::3]),
            std=tuple(figures[1::3]),
            share=tuple(figures[2::3]),
            share_kind=self.share_kind,
            hist=tuple(tuple(bins[i : i + HIST_BINS]) for i in range(0, len(bins), HIST_BINS)),
            hist_range=self.hist_range,
            samples=len(self.x),
        )

    def _figures(self, a: torch.Tensor) -> list[torch.Tensor]:
        """[mean, std, share] of one layer's activations (samples x units), on the device.

        Written with whole-tensor reductions: ``torch.var_mean(a, 0)`` and ``any(0)`` were
        about ten times slower on the CPU.
        """
        unit_mean = a.mean(0)
        # The mean over units of each unit's variance across the batch (two passes: exact
        # even when a collapsed unit's spread is a millionth of its mean).
        std = (a - unit_mean).square().mean().sqrt()
        if self.activation == "tanh":
            share = a.abs().gt_(SATURATED_ABOVE).mean()
        elif self.activation == "sigmoid":
            share = (a - 0.5).abs_().gt_(SATURATED_ABOVE - 0.5).mean()
        else:  # not positive for any sample: its largest value is <= 0
            share = a.amax(0).le_(0).float().mean()
        return [unit_mean.mean(), std, share]

    def _histogram(self, a: torch.Tensor) -> torch.Tensor:
        """The share of values in each bin; values outside the range count in the edge bins."""
        low, high = self.hist_range
        return torch.histc(a.clamp(low, high), HIST_BINS, low, high) / a.numel()


# --- the weights --------------------------------------------------------------------------------


class WeightProbe:
    """Per Linear layer: the L2 norm of its weight, the update ratio of one step, a histogram.

    The update ratio is the norm of one optimizer step's change of the weight over the weight's
    norm after it (about 1e-3 is healthy). It is measured only for the steps a progress report
    follows (the epoch's last always is): ``keep()`` copies the weights before such a step,
    ``measure()`` reads after it, for every layer in one transfer. A step without a report
    costs nothing; one with costs a copy of the Linear weights.

    The histogram of a layer's weights has ``HIST_BINS`` bins over ``[-hist_max, hist_max]``,
    fixed for the run at twice the initial weights' largest magnitude, so that epochs (and
    the initial state) compare bin by bin; values outside count in the edge bins.
    """

    def __init__(self, model: nn.Module) -> None:
        self.weights: list[torch.Tensor] = [m.weight for _, m in linear_layers(model)]
        self.before: list[torch.Tensor] = []
        """The weights before the latest kept step (buffers the run reuses)."""
        self.kept = False
        with torch.no_grad():
            largest = torch.stack([w.detach().abs().max() for w in self.weights]).tolist()
        self.hist_max: tuple[float, ...] = tuple(2 * v if v > 0 else 1.0 for v in largest)
        self.norm: tuple[float, ...] = ()
        """The latest measured weight norm per layer."""
        self.update_ratio: tuple[float | None, ...] = ()
        """The latest measured update ratio per layer (None: the step was not kept)."""

    @torch.no_grad()
    def keep(self) -> None:
        """Copy the weights before the optimizer step whose update ``measure`` will read."""
        if self.before:
            torch._foreach_copy_(self.before, self.weights)
        else:
            self.before = [w.detach().clone() for w in self.weights]
        self.kept = True

    @torch.no_grad()
    def measure(self) -> tuple[tuple[float, ...], tuple[float | None, ...]]:
        """(weight norm, update ratio) per layer, the ratio None unless the step was kept."""
        weights = [w.detach() for w in self.weights]
        norms = list(torch._foreach_norm(weights))
        count = len(norms)
        if self.kept:
            norms += torch._foreach_norm(torch._foreach_sub(weights, self.before))
        values = torch.stack(norms).tolist()
        self.norm = tuple(values[:count])
        if self.kept:
            self.update_ratio = tuple(
                u / n if n > 0 else math.inf for u, n in zip(values[count:], self.norm, strict=True)
            )
        else:
            self.update_ratio = (None,) * count
        self.kept = False
        return self.norm, self.update_ratio

    @torch.no_grad()
    def histograms(self) -> tuple[tuple[float, ...], ...]:
        """Per layer, the share of its weights in each bin (one transfer)."""
        rows = [
            torch.histc(w.detach().clamp(-m, m), HIST_BINS, -m, m) / w.numel()
            for w, m in zip(self.weights, self.hist_max, strict=True)
        ]
        values = torch.cat(rows).tolist()
        return tuple(tuple(values[i : i + HIST_BINS]) for i in range(0, len(values), HIST_BINS))

    def measured(self, epoch: int, layers: tuple[str, ...]) -> WeightsMeasured:
        """The event of the state now: norms, the latest update ratios, histograms."""
        if epoch == 0:
            self.measure()
        return WeightsMeasured(
            epoch=epoch,
            layers=layers,
            norm=self.norm,
            update_ratio=self.update_ratio if epoch else (None,) * len(self.norm),
            hist=self.histograms(),
            hist_max=self.hist_max,
        )
