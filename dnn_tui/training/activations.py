"""What the forward probe measures: its batch and the histogram (which units count as saturated
or dead is a lesson rule: ``dnn_tui.training.lessons``).

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
