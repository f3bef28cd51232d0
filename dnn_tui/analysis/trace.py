"""One sample's pass through a network, written out: forward values, backward gradients, and
the chain rule for one weight.

Runs without any UI, and without torch until a saved run is traced (``trace_run``): the
dashboard's model graph writes the pass of a paused run with ``pass_lines`` (the engine
traced it, ``dnn_tui.training.trace``), ``dnn-tui eval RUN --trace`` the pass of a saved
run's kept weights. Small layers show every number; a layer wider than ``SHOWN_UNITS`` shows
its first units and the norm of the whole, a weight gradient of more than ``SHOWN_WEIGHTS``
numbers its norm and the row of the weight the chain rule follows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dnn_tui.config import RunConfig
    from dnn_tui.training.trace import NodePass, SamplePass

SPLITS = ("test", "val", "train")
"""Where ``eval --trace`` takes its sample from (``--split``)."""
SHOWN_UNITS = 8
"""A layer this wide or narrower shows every value; a wider one its first units and norm."""
SUMMARY_UNITS = 5
"""The first units a wider layer shows."""
SHOWN_WEIGHTS = 64
"""A weight gradient of this many numbers or fewer is shown whole (8x8: the tiny networks)."""
EVAL_MODE_NOTE = (
    "One sample has no batch statistics, so this is the network in eval mode:",
    "batch norm uses its running mean and variance, dropout passes everything.",
)
LINE_WIDTH = 78
"""A node's values go on a line of their own when its name and symbol leave no room."""

SYMBOLS = {
    "affine": ("z = W·x + b", "∂L/∂z"),
    "batchnorm": ("y = γ·x̂ + β", "∂L/∂y"),
    "activation": ("a = f(z)", "∂L/∂a"),
    "dropout": ("a (as is)", "∂L/∂a"),
    "softmax": ("p = softmax(z)", "∂L/∂p"),
    "loss": ("L = -log p[y]", "∂L/∂L"),
}
"""Per node kind: what its output is called, and its gradient."""


class SampleError(ValueError):
    """No such sample: the message names ``--split`` or ``--sample`` and the rule."""


def trace_run(
    path: str | Path,
    split: str = "test",
    sample: int = 0,
    options: Mapping[str, Any] | None = None,
    check: Callable[[RunConfig], None] | None = None,
) -> SamplePass:
    """The pass of one sample of a saved run's split through its kept weights.

    SampleError naming ``--split`` or ``--sample`` and the rule when there is no such sample;
    RunError (from the loader) when the run's files do not hold a model.
    """
    if split not in SPLITS:
        raise SampleError(f"--split: must be one of {', '.join(SPLITS)}, got {split!r}")
    from dnn_tui.analysis.restore import restore_run
    from dnn_tui.training.trace import trace_pass

    run = restore_run(path, options, check)
    data = run.data
    x, y = {
        "test": (data.x_test, data.y_test),
        "val": (data.x_val, data.y_val),
        "train": (data.x_train, data.y_train),
    }[split]
    if not len(x):
        raise SampleError(f"--split: the {split} split of {data.name} is empty here")
    if not 0 <= sample < len(x):
        raise SampleError(
            f"--sample: must be from 0 to {len(x) - 1} (the {split} split of {data.name} has "
            f"{len(x)} samples), got {sample}"
        )
    return trace_pass(run.model, x.to(run.device), y, split, sample)


# --- writing it out -------------------------------------------------------------------------


def fmt_value(value: float) -> str:
    """A number of the pass in at most 8 characters, its sign always shown (eight of them
    and a label fit 80 columns)."""
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(value)
    if 1e-3 <= abs(value) < 1e3:
        return f"{value:+.4f}"[:7].rstrip("0").rstrip(".")
    return f"{value:+.1e}".replace("e-0", "e-").replace("e+0", "e+")


def norm(values: Sequence[float]) -> float:
    return math.sqrt(sum(v * v for v in values))


def vector_text(values: Sequence[float], limit: int = SHOWN_UNITS) -> str:
    """``[a b c]``, or for a wide layer its first units, how many and their norm."""
    if len(values) <= limit:
        return f"[{' '.join(fmt_value(v) for v in values)}]"
    shown = " ".join(fmt_value(v) for v in values[:SUMMARY_UNITS])
    return f"[{shown} … {len(values)} units] norm {norm(values):.4g}"


def chosen_weight(traced: SamplePass) -> tuple[str, int, int]:
    """(layer, row, column) of the weight whose chain rule is written out: in the last Affine
    layer, the row of the sample's label, the input unit with the largest value (its
    gradient is then as far from zero as that row's gets)."""
    last = [node for node in traced.nodes if node.kind == "affine"][-1]
    inputs = traced.input_of(last.name)
    column = max(range(len(inputs)), key=lambda j: abs(inputs[j]))
    return last.name, min(traced.label, len(last.output) - 1), column


def chain_rule_lines(traced: SamplePass) -> list[str]:
    """The chain rule for one weight: upstream gradient x local gradient = its gradient."""
    name, i, j = chosen_weight(traced)
    node = traced.node(name)
    upstream = node.grad_output[i]
    local = traced.input_of(name)[j]
    assert node.grad_weight is not None
    gradient = node.grad_weight[i][j]
    probability = traced.node("softmax").output[i]
    at = [n.name for n in traced.nodes].index(name)
    source = traced.nodes[at - 1].name if at else "the sample"
    return [
        f"the chain rule for one weight, {name}.W[{i},{j}]",
        f"(row {i}: the label's class; column {j}: the input unit with the largest value)",
        f"  ∂L/∂W[{i},{j}] = ∂L/∂z[{i}] × ∂z[{i}]/∂W[{i},{j}]   (upstream × local)",
        f"  ∂L/∂z[{i}] = p[{i}] - 1 = {fmt_value(probability)} - 1 = {fmt_value(upstream)}"
        "   (softmax with cross-entropy)",
        f"  ∂z[{i}]/∂W[{i},{j}] = x[{j}] = {fmt_value(local)}   (x: {name}'s input, "
        f"{source}'s output)",
        f"  ∂L/∂W[{i},{j}] = {fmt_value(upstream)} × {fmt_value(local)} = {fmt_value(gradient)}",
    ]


def _labelled(label: str, text: str, indent: int) -> list[str]:
    """``label text`` on one line, or the text on the next one when the line would be long."""
    if len(label) + 1 + len(text) <= LINE_WIDTH:
        return [f"{label} {text}"]
    return [label.rstrip(), " " * indent + text]


def _weight_lines(node: NodePass, row: int | None) -> list[str]:
    """An Affine node's weight gradient: whole when small (a row a line), else its norm and
    one row (the chain rule's when it follows this layer)."""
    grad = node.grad_weight
    assert grad is not None
    if sum(len(r) for r in grad) <= SHOWN_WEIGHTS:
        lines = _labelled("    ∂L/∂W", vector_text(grad[0]), 6)
        pad = " " * (len(lines[-1]) - len(vector_text(grad[0])))
        return lines + [pad + vector_text(r) for r in grad[1:]]
    total = math.sqrt(sum(v * v for r in grad for v in r))
    if row is None:  # the row that gets the most: a zero input leaves whole rows at zero
        row = max(range(len(grad)), key=lambda r: norm(grad[r]))
    return [
        f"    ∂L/∂W {len(grad)}×{len(grad[0])}, norm {total:.4g}",
        *_labelled(f"      row {row}", vector_text(grad[row]), 6),
    ]


def pass_lines(traced: SamplePass) -> list[str]:
    """The pass written out node by node: forward, then backward with the parameters'
    gradients, then the chain rule for one weight."""
    weight_layer, weight_row, _ = chosen_weight(traced)
    probs = traced.node("softmax").output
    predicted = max(range(len(probs)), key=probs.__getitem__)
    lines = [
        f"sample {traced.sample} of the {traced.split} split: label {traced.label}, predicted "
        f"{predicted} (p {probs[predicted]:.4f}), loss {traced.loss:.4g}",
        *EVAL_MODE_NOTE,
        "",
        "forward: what each node passed on",
        *_labelled(f"  {'input':<9} {'x':<14}", vector_text(traced.input), 4),
    ]
    for node in traced.nodes:
        label = f"  {node.name:<9} {SYMBOLS[node.kind][0]:<14}"
        lines += _labelled(label, vector_text(node.output), 4)
    lines += ["", "backward: the gradient each node received, and its parameters' gradients"]
    for node in reversed(traced.nodes):
        label = f"  {node.name:<9} {SYMBOLS[node.kind][1]:<14}"
        lines += _labelled(label, vector_text(node.grad_output), 4)
        if node.grad_weight is not None:
            lines += _weight_lines(node, weight_row if node.name == weight_layer else None)
        for name, values in (
            ("∂L/∂b", node.grad_bias),
            ("∂L/∂γ", node.grad_gamma),
            ("∂L/∂β", node.grad_beta),
        ):
            if values is not None:
                lines += _labelled(f"    {name}", vector_text(values), 6)
    return [*lines, "", *chain_rule_lines(traced)]
