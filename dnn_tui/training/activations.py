"""What the forward probe measures: its batch, the saturated and dead units, the histogram.

Runs without any UI and without torch: the dashboard quotes these definitions (help
screen, signal view) before torch has loaded; ``dnn_tui.training.probes.ActivationProbe``
measures by them.
"""

from __future__ import annotations

PROBE_SAMPLES = 256
"""Samples in the activation probe's batch: the first ones of the (shuffled) training split.
Enough for steady figures; small enough that a probe costs under a millisecond on the
baseline (``benchmarks/throughput.py`` measures its cost)."""
HIST_BINS = 16
"""Bins of each layer's activation histogram (one character each in the signal view)."""
SATURATED_ABOVE = 0.99
"""A tanh value with |a| > 0.99, or a sigmoid value below 0.01 or above 0.99, is saturated:
the slope there is below 0.02 (tanh) or 0.01 (sigmoid), so almost no gradient passes."""
SATURATING = frozenset({"sigmoid", "tanh"})
"""Activations whose units saturate; the others are ReLU-like, whose units can die."""
HIST_RANGES: dict[str, tuple[float, float]] = {
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "relu": (0.0, 2.0),
    "leaky_relu": (-0.25, 2.0),
    "elu": (-1.0, 2.0),
    "gelu": (-0.25, 2.0),
}
"""The histogram's fixed range per activation: its output range where it is bounded, else from
its lower bound to 2 (a healthy layer's values are mostly below 1). Values outside the range
are counted in the edge bins, so an exploding layer shows as a full last bin."""


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
