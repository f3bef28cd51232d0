"""Observers of the training step: gradient norms before clipping, and clipping itself.

Runs without any UI. The norms are read after ``backward()`` and before the
optimizer step, the moment Lightning calls ``on_before_optimizer_step``. One
``torch._foreach_norm`` measures every parameter's gradient per step and one
transfer brings the norms and the loss to the host, where the engine sums them
(a handful of floats; the divergence check needs them before the optimizer step).
"""

from __future__ import annotations

import torch
from torch import nn

from dnn_tui.model import linear_layers

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

    def measure(self, loss: torch.Tensor) -> tuple[list[float], float]:
        """The norm of each parameter's gradient and the loss value, in one host read.

        One ``_foreach_norm`` over every gradient, one stack, one transfer: the
        divergence check needs the numbers before ``optimizer.step()`` anyway.
        Note: ``tolist()`` is a CPU-GPU sync point, once per step.
        """
        norms = torch._foreach_norm([p.grad for p in self.params])
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
