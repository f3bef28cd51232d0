"""The lab's lesson rules: the bands that call a layer vanishing, exploding, collapsing,
saturated or dead, and the thresholds they use.

Runs without any UI and without torch. The rules live here, below every view, so the
gradient and signal panels, the model graph and the help screen (which quotes the numbers)
apply and state the same ones; the probe measures saturation by ``SATURATED_ABOVE``. How a
band looks (its colours) is the widgets' business.

Gradient bands, from a Linear layer's weight-gradient norm (``gradient_band``):

- vanishing: below ``GRADIENT_VANISHING_BELOW``. The layer barely learns; in a deep sigmoid
  stack the first layers sit millions of times below the last.
- exploding: above ``GRADIENT_EXPLODING_ABOVE`` (or not finite): steps that large overshoot
  and the loss soon becomes inf/nan; clipping bounds them.
- healthy: in between; with ReLU and He init the rows look alike.

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

GRADIENT_VANISHING_BELOW = 1e-4
"""Weight-gradient norms below this are vanishing (healthy layers sit around 0.01 to 1)."""
GRADIENT_EXPLODING_ABOVE = 1e2
"""Weight-gradient norms above this are exploding (a hundred times a large healthy one)."""

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


def gradient_band(norm: float) -> str:
    """vanishing, healthy or exploding."""
    if not math.isfinite(norm) or norm > GRADIENT_EXPLODING_ABOVE:
        return "exploding"
    return "vanishing" if norm < GRADIENT_VANISHING_BELOW else "healthy"


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
