"""The lab's lesson rules: the bands that call a layer vanishing, exploding, collapsing,
saturated or dead, and the thresholds they use.

Runs without any UI and without torch. The rules live here, below every view, so the
gradient and signal panels, the model graph and the help screen (which quotes the numbers)
apply and state the same ones; the probe measures saturation by ``SATURATED_ABOVE``. How a
band looks (its colours) is the widgets' business.

Gradient bands, per Linear layer, from the whole stack's weight-gradient norms and, where
known, each layer's update ratio (``gradient_bands``). The vanishing gradient is a ratio: the
gradient shrinks as it travels back toward the input, so a layer is judged against the layers
after it (nearer the output), never by an absolute number (which would judge the loss):

- vanishing: below ``VANISHING_RATIO`` times the largest gradient among the layers after it.
  The layer barely learns; in a deep sigmoid stack the first layers sit millions of times
  below the last. The output layer is the reference and is never vanishing.
- exploding: its update ratio (the norm of the latest step's change of its weights over the
  weights' norm) above ``UPDATE_EXPLODING_ABOVE``: steps that large overshoot and the loss
  soon becomes inf/nan (clipping bounds them); or its gradient above ``EXPLODING_RATIO`` times
  the largest after it (growing toward the input); or not finite. Where no update ratio is
  known (a reading without one), a gradient above ``GRADIENT_EXPLODING_ABOVE`` stands in.
- converged: every layer's gradient below ``CONVERGED_BELOW`` and none vanishing or exploding:
  small and even, the loss is near a minimum and little is left to learn (not a vanishing
  gradient: the ratio down the stack is about 1).
- healthy: the rest; with ReLU and He init the rows look alike.

Update ratio (``update_band``): about 1e-3 is the healthy size of a step (each step changes a
weight matrix by about a thousandth of its norm); below ``UPDATE_SLOW_BELOW`` the layer hardly
moves, above ``UPDATE_EXPLODING_ABOVE`` it overshoots.

Signal bands, from a hidden layer's activations on the probe batch (``signal_band``):

- collapsing: std below ``SIGNAL_COLLAPSING_BELOW``: a unit's output hardly changes from one
  image to the next, so the layers above it see almost the same input for every image
  (deep tanh or ReLU stacks with PyTorch's default init, deep sigmoid).
- saturated / dead: more than ``SHARE_ABOVE`` of the layer's values saturated (sigmoid or
  tanh in a flat end) or of its units dead (ReLU-like, never positive): those pass almost
  no gradient back.
- exploding: std above ``SIGNAL_EXPLODING_ABOVE`` (or not finite): the signal grows layer
  after layer (weights too large for the activation).
- healthy: the rest; Xavier (tanh), He (ReLU) and batch norm keep the rows alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

VANISHING_RATIO = 1e-2
"""A layer whose gradient is below this share of the largest one after it (nearer the output)
is vanishing: a hundredfold loss on the way back. deep-sigmoid's first layer sits about 1e-9
of its last; a trained baseline's layers stay within a few times of each other."""
EXPLODING_RATIO = 1e2
"""A layer whose gradient is more than this many times the largest one after it is exploding:
the gradient grows a hundredfold on its way back to the input."""
UPDATE_EXPLODING_ABOVE = 1.0
"""An update ratio above this is exploding: one step changes the weights by more than their
whole norm (a thousand times the healthy 1e-3; Adam's first full-batch step at lr 0.01 is
about 0.2)."""
UPDATE_SLOW_BELOW = 1e-5
"""An update ratio below this barely moves the weights (a hundredth of the healthy 1e-3)."""
GRADIENT_EXPLODING_ABOVE = 1e2
"""Without an update ratio, a weight-gradient norm above this stands in for exploding (a
hundred times a large healthy one); with one, the update decides."""
CONVERGED_BELOW = 1e-4
"""A stack whose gradients are all below this, none vanishing, reads as converged."""

SIGNAL_COLLAPSING_BELOW = 0.02
"""Activation std below this is collapsing (MNIST's input pixels spread about 0.3; healthy
layers stay around 0.1 to 1)."""
SIGNAL_EXPLODING_ABOVE = 10.0
"""Activation std above this is exploding (ten times the largest healthy one)."""
SHARE_ABOVE = 0.25
"""A layer with more than this share saturated or dead is in the saturated / dead band."""

SATURATED_ABOVE = 0.99
"""A tanh value with |a| > 0.99, or a sigmoid value below 0.01 or above 0.99, is saturated:
the slope there is below 0.02 (tanh) or 0.01 (sigmoid), so almost no gradient passes."""
SATURATING = frozenset({"sigmoid", "tanh"})
"""Activations whose units saturate; the others are ReLU-like, whose units can die."""


def gradient_bands(
    norms: Sequence[float], update_ratios: Sequence[float | None] | None = None
) -> tuple[str, ...]:
    """Per layer (input side first): vanishing, exploding, converged or healthy.

    ``norms``: each Linear layer's weight-gradient norm; ``update_ratios``: each layer's update
    ratio where known (None, or None for a layer, where not). See the module's rules.
    """
    count = len(norms)
    updates: list[float | None] = list(update_ratios or [])
    updates += [None] * (count - len(updates))
    bands = [
        _band(norm, [v for v in norms[index + 1 :] if math.isfinite(v)], updates[index])
        for index, norm in enumerate(norms)
    ]
    if bands and all(b == "healthy" for b in bands) and max(norms) < CONVERGED_BELOW:
        return ("converged",) * count
    return tuple(bands)


def _band(norm: float, after: list[float], update: float | None) -> str:
    """One layer's band by its gradient, the finite gradients after it and its update ratio."""
    reference = max(after, default=0.0)
    if not math.isfinite(norm) or (update is not None and not math.isfinite(update)):
        return "exploding"
    if update is not None and update > UPDATE_EXPLODING_ABOVE:
        return "exploding"
    if update is None and norm > GRADIENT_EXPLODING_ABOVE:
        return "exploding"
    if reference > 0 and norm > EXPLODING_RATIO * reference:
        return "exploding"
    if reference > 0 and norm < VANISHING_RATIO * reference:
        return "vanishing"
    return "healthy"


def gradient_reading(
    layers: Sequence[str],
    norms: Sequence[float],
    update_ratios: Sequence[float | None] | None = None,
) -> str:
    """The stack's bands in words: which layers vanish or explode, or that it converged."""
    bands = gradient_bands(norms, update_ratios)
    if not bands:
        return ""
    if bands[0] == "converged":
        return (
            f"converged: every gradient below {CONVERGED_BELOW:g} and even down the stack "
            "(the loss is near a minimum, nothing vanishes)"
        )
    parts = []
    for kind in ("exploding", "vanishing"):
        names = [name for name, band in zip(layers, bands, strict=False) if band == kind]
        if names:
            parts.append(f"{kind}: {_span(names)}")
    return "; ".join(parts) or "healthy: no layer's gradient vanishes or explodes"


def _span(names: list[str]) -> str:
    """fc1, fc3 (one or two layers) or fc1-fc8 (8 layers)."""
    if len(names) > 2:
        return f"{names[0]}-{names[-1]} ({len(names)} layers)"
    return ", ".join(names)


def update_band(ratio: float | None) -> str:
    """slow, healthy or exploding for one layer's update ratio ('' when unknown)."""
    if ratio is None or math.isnan(ratio):
        return ""
    if not math.isfinite(ratio) or ratio > UPDATE_EXPLODING_ABOVE:
        return "exploding"
    return "slow" if ratio < UPDATE_SLOW_BELOW else "healthy"


def signal_band(std: float, share: float, share_kind: str) -> str:
    """collapsing, exploding, saturated or dead (``share_kind``), or healthy."""
    if not math.isfinite(std) or std > SIGNAL_EXPLODING_ABOVE:
        return "exploding"
    if std < SIGNAL_COLLAPSING_BELOW:
        return "collapsing"
    if share > SHARE_ABOVE:
        return share_kind
    return "healthy"


def share_kind(activation: str) -> str:
    """``saturated`` for sigmoid and tanh, ``dead`` for the ReLU-like activations."""
    return "saturated" if activation in SATURATING else "dead"


def share_rule(activation: str) -> str:
    """In a few words, which values (saturated) or units (dead) the share counts."""
    if activation == "tanh":
        return f"saturated: |a| > {SATURATED_ABOVE:g}"
    if activation == "sigmoid":
        return f"saturated: a < {1 - SATURATED_ABOVE:.2g} or a > {SATURATED_ABOVE:g}"
    if activation == "relu":
        return "dead: zero for every probe sample"
    return "dead: not positive for any probe sample"
