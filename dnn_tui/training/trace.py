"""One sample's pass through the network, node by node: forward values, backward gradients.

Runs without any UI. The pass is computed here by hand, the way the lecture writes it, not
by autograd: the forward pass applies each node of the ``nn.Sequential`` of
``dnn_tui.model.build_mlp`` in turn (Affine ``z = W·x + b``, BatchNorm, the activation,
Dropout, then softmax and the cross-entropy loss), and the backward pass carries
dLoss/d(output) back through each node with its local derivative (the chain rule), giving
each parameter the gradient this one sample contributes. Tests check every number against
``torch.autograd`` on the torch modules themselves.

One sample has no batch statistics, so the pass is the network in eval mode: BatchNorm
normalises with its running mean and variance (what the network does at test time), and
Dropout passes everything through (PyTorch scales during training, not at test time). The
engine calls it between two steps of a paused run (the model graph draws it), ``dnn-tui eval
--trace`` on a saved run's kept weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

NODE_KINDS = ("affine", "batchnorm", "activation", "dropout", "softmax", "loss")
"""What a node of the pass does (``NodePass.kind``)."""


def _finite(values: tuple[float, ...]) -> list[float | None]:
    """JSON's numbers: a non-finite value (weights that diverged) becomes null."""
    return [v if math.isfinite(v) else None for v in values]


@dataclass(frozen=True)
class NodePass:
    """What one node passed forward and the gradient it received, for one sample."""

    name: str
    """The module name (fc1, bn1, act1, drop1), or softmax / loss."""
    kind: str
    """One of ``NODE_KINDS``."""
    output: tuple[float, ...]
    """What the node passed forward (the loss node: the loss)."""
    grad_output: tuple[float, ...]
    """dLoss/d(output), what the backward pass brought to the node (the loss node: 1)."""
    grad_weight: tuple[tuple[float, ...], ...] | None = None
    """Affine: dLoss/dW, out x in as torch stores W (upstream gradient x the node's input)."""
    grad_bias: tuple[float, ...] | None = None
    """Affine: dLoss/db (the upstream gradient itself)."""
    grad_gamma: tuple[float, ...] | None = None
    """BatchNorm: dLoss/dγ (upstream gradient x the normalised input)."""
    grad_beta: tuple[float, ...] | None = None
    """BatchNorm: dLoss/dβ."""

    def record(self) -> dict[str, Any]:
        """The node as ``eval --trace --json`` prints it (only the gradients it has)."""
        record: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "output": _finite(self.output),
            "grad_output": _finite(self.grad_output),
        }
        for key in ("grad_weight", "grad_bias", "grad_gamma", "grad_beta"):
            value = getattr(self, key)
            if value is not None:
                record[key] = (
                    [_finite(row) for row in value] if key == "grad_weight" else _finite(value)
                )
        return record


@dataclass(frozen=True)
class SamplePass:
    """One sample's forward and backward pass through the whole network."""

    split: str
    """test, val or train: where the sample comes from."""
    sample: int
    """Its position in that split."""
    input: tuple[float, ...]
    label: int
    loss: float
    nodes: tuple[NodePass, ...]
    """Input side first, the loss last."""

    def record(self) -> dict[str, Any]:
        """The JSON of ``dnn-tui eval RUN --trace --json`` (null for a non-finite number)."""
        return {
            "split": self.split,
            "sample": self.sample,
            "input": _finite(self.input),
            "label": self.label,
            "loss": self.loss if math.isfinite(self.loss) else None,
            "nodes": [node.record() for node in self.nodes],
        }

    def node(self, name: str) -> NodePass:
        return next(node for node in self.nodes if node.name == name)

    def input_of(self, name: str) -> tuple[float, ...]:
        """What the named node received: the output of the node before it, or the input."""
        at = [node.name for node in self.nodes].index(name)
        return self.input if at == 0 else self.nodes[at - 1].output


def _values(t: torch.Tensor) -> tuple[float, ...]:
    return tuple(t.tolist())  # Python floats already, in one transfer


def _local_derivative(module: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """d(output)/d(input) of an element-wise activation, at input x with output y."""
    if isinstance(module, nn.ReLU):
        return (x > 0).to(x.dtype)
    if isinstance(module, nn.LeakyReLU):
        return torch.where(x > 0, 1.0, module.negative_slope).to(x.dtype)
    if isinstance(module, nn.Tanh):
        return 1 - y * y
    if isinstance(module, nn.Sigmoid):
        return y * (1 - y)
    if isinstance(module, nn.ELU):
        return torch.where(x > 0, torch.ones_like(x), y + module.alpha)
    if isinstance(module, nn.GELU) and module.approximate == "none":
        # gelu(x) = x·Φ(x), so gelu'(x) = Φ(x) + x·φ(x)
        cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
        pdf = torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return cdf + x * pdf
    raise ValueError(f"no local derivative for {type(module).__name__}")


@torch.no_grad()
def trace_sample(model: nn.Sequential, x: torch.Tensor, label: int) -> tuple[float, list[NodePass]]:
    """(loss, nodes) of one sample (x: its features) through model, in eval mode.

    The model is not changed: its mode, parameters, gradients and running statistics stay
    as they are (the engine calls this between two steps).
    """
    modules = list(model.named_children())
    value = x.detach().reshape(-1).to(next(model.parameters()).dtype)
    inputs: list[torch.Tensor] = []
    outputs: list[torch.Tensor] = []
    for _name, module in modules:
        inputs.append(value)
        if isinstance(module, nn.Linear):
            value = module.weight @ value + module.bias
        elif isinstance(module, nn.BatchNorm1d):
            scale = torch.rsqrt(module.running_var + module.eps)  # type: ignore[operator]
            value = (value - module.running_mean) * scale * module.weight + module.bias
        elif isinstance(module, nn.Dropout):
            value = value.clone()  # eval mode: everything passes
        else:
            value = module(value)
        outputs.append(value)
    logits = value
    probs = torch.softmax(logits, 0)
    loss = -torch.log_softmax(logits, 0)[label]

    # backward: the loss node receives 1; softmax receives dL/dp = -1/p[label] at the label
    grad_probs = torch.zeros_like(probs)
    grad_probs[label] = -1 / probs[label]
    upstream = probs.clone()
    upstream[label] -= 1  # dL/dz = p - onehot(label): softmax's Jacobian times dL/dp
    nodes = [
        NodePass("softmax", "softmax", _values(probs), _values(grad_probs)),
        NodePass("loss", "loss", (float(loss),), (1.0,)),
    ]
    for (name, module), x_in, y_out in reversed(list(zip(modules, inputs, outputs, strict=True))):
        grad = upstream
        if isinstance(module, nn.Linear):
            node = NodePass(
                name,
                "affine",
                _values(y_out),
                _values(grad),
                grad_weight=tuple(map(tuple, torch.outer(grad, x_in).tolist())),
                grad_bias=_values(grad),
            )
            upstream = module.weight.t() @ grad
        elif isinstance(module, nn.BatchNorm1d):
            scale = torch.rsqrt(module.running_var + module.eps)  # type: ignore[operator]
            normalised = (x_in - module.running_mean) * scale
            node = NodePass(
                name,
                "batchnorm",
                _values(y_out),
                _values(grad),
                grad_gamma=_values(grad * normalised),
                grad_beta=_values(grad),
            )
            upstream = grad * module.weight * scale
        elif isinstance(module, nn.Dropout):
            node = NodePass(name, "dropout", _values(y_out), _values(grad))
        else:
            node = NodePass(name, "activation", _values(y_out), _values(grad))
            upstream = grad * _local_derivative(module, x_in, y_out)
        nodes.insert(0, node)
    return float(loss), nodes


def trace_pass(
    model: nn.Sequential, x: torch.Tensor, y: torch.Tensor, split: str, sample: int
) -> SamplePass:
    """The pass of sample ``sample`` of a split (x: its features, y: its labels)."""
    label = int(y[sample])
    loss, nodes = trace_sample(model, x[sample], label)
    return SamplePass(
        split=split,
        sample=sample,
        input=_values(x[sample].reshape(-1).cpu()),
        label=label,
        loss=loss,
        nodes=tuple(nodes),
    )
