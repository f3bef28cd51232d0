"""The computational graph of a configured network and its Keras-style summary.

Runs without any UI and without torch: the dashboard's model graph screen uses it
before torch has loaded (torch must never run in the UI thread), and the engine
uses it for the summary in ``RunStarted``. Shapes and counts follow
``dnn_tui.model.build_mlp``: a Linear layer has in*out weights and out biases; a
BatchNorm1d layer has 2*units trainable parameters (gamma, beta) and 2*units
running statistics; the names are fc1, bn1, act1, drop1 ... A test checks every
parameter's name and shape against the real torch module.
"""

from __future__ import annotations

from dataclasses import dataclass

from dnn_tui.config import ModelConfig

DATASET_SHAPES: dict[str, tuple[int, int]] = {
    "auto": (784, 10),
    "mnist": (784, 10),
    "fashion-mnist": (784, 10),
    "kmnist": (784, 10),
    "digits": (64, 10),
    "moons": (2, 2),
    "circles": (2, 2),
    "spiral": (2, 3),
}
"""(input features, classes) of each dataset before it is loaded; ``idx`` is known only after."""

ACTIVATION_CLASSES: dict[str, str] = {
    "relu": "ReLU",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "gelu": "GELU",
}
"""Config name -> the torch module class name the summary prints."""


@dataclass(frozen=True)
class GraphParam:
    """One trainable tensor of a node."""

    name: str
    """The torch parameter name: fc1.weight, fc1.bias, bn1.weight, bn1.bias."""
    symbol: str
    """How the lab writes it: W, b, γ (gamma), β (beta)."""
    shape: tuple[int, ...]
    """The tensor's shape as torch stores it (a Linear weight is out x in)."""

    @property
    def count(self) -> int:
        size = 1
        for dim in self.shape:
            size *= dim
        return size


@dataclass(frozen=True)
class GraphNode:
    """One step of the forward pass."""

    name: str
    """The module name (fc1, bn1, act1, drop1) or input / softmax / loss."""
    title: str
    """What the lab calls it: Input, Affine, BatchNorm, ReLU, Dropout, Softmax ..."""
    width: int | None
    """Features per sample after this node; None for the scalar loss."""
    detail: str = ""
    """The operation in a few symbols (W·x + b, p = 0.2 ...)."""
    params: tuple[GraphParam, ...] = ()
    buffers: int = 0
    """Non-trainable values (BatchNorm's running mean and variance)."""
    module: str | None = None
    """The torch class name for the summary; None for nodes that are not modules."""

    @property
    def trainable(self) -> int:
        return sum(p.count for p in self.params)


def build_graph(model: ModelConfig, input_dim: int, classes: int) -> list[GraphNode]:
    """Input, then (Affine, [BatchNorm], activation, [Dropout]) per hidden layer, then
    Affine, Softmax and the loss."""
    act = ACTIVATION_CLASSES[model.activation]
    nodes = [GraphNode("input", "Input", input_dim, "x")]
    width = input_dim
    blocks = len(model.hidden)
    for k, (units, p) in enumerate(zip(model.hidden, model.dropout_per_layer(), strict=True), 1):
        nodes.append(_affine(k, width, units))
        if model.batchnorm:
            nodes.append(
                GraphNode(
                    f"bn{k}",
                    "BatchNorm",
                    units,
                    "γ·x̂ + β",
                    (
                        GraphParam(f"bn{k}.weight", "γ", (units,)),
                        GraphParam(f"bn{k}.bias", "β", (units,)),
                    ),
                    buffers=2 * units,
                    module="BatchNorm1d",
                )
            )
        nodes.append(GraphNode(f"act{k}", act, units, f"{model.activation}(·)", module=act))
        if p > 0:
            nodes.append(GraphNode(f"drop{k}", "Dropout", units, f"p = {p:g}", module="Dropout"))
        width = units
    nodes.append(_affine(blocks + 1, width, classes))
    nodes.append(GraphNode("softmax", "Softmax", classes, "exp(z) / Σ exp(z)"))
    nodes.append(GraphNode("loss", "Cross-entropy", None, "loss = -log p(label)"))
    return nodes


def _affine(k: int, fan_in: int, fan_out: int) -> GraphNode:
    return GraphNode(
        f"fc{k}",
        "Affine",
        fan_out,
        "W·x + b",
        (
            GraphParam(f"fc{k}.weight", "W", (fan_out, fan_in)),
            GraphParam(f"fc{k}.bias", "b", (fan_out,)),
        ),
        module="Linear",
    )


def summary_text(nodes: list[GraphNode]) -> str:
    """The table as Keras' model.summary() lays it out; running statistics are non-trainable."""
    header = f"{'Layer (type)':<28}{'Output Shape':<20}{'Param #':>10}"
    rule = "=" * len(header)
    lines = [rule, header, rule]
    total = trainable = 0
    for node in nodes:
        if node.module is None:
            continue
        count = node.trainable + node.buffers
        trainable += node.trainable
        total += count
        shape = f"(None, {node.width})"
        lines.append(f"{f'{node.name} ({node.module})':<28}{shape:<20}{count:>10,}")
    lines += [
        rule,
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
    ]
    return "\n".join(lines)


def trainable_params(nodes: list[GraphNode]) -> int:
    """Trainable parameters of the whole network."""
    return sum(node.trainable for node in nodes)
