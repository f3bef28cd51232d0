"""The multi-layer perceptron: build it and initialise it.

Runs without any UI. Read top to bottom: one hidden block is
Linear -> [BatchNorm1d] -> activation -> [Dropout]; the last Linear gives the
logits (the softmax lives in the cross-entropy loss, as PyTorch does it).
Its shapes and parameter counts, without torch, are in ``dnn_tui.graph``.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from dnn_tui.config import ModelConfig

ACTIVATION_MODULES: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}


def build_mlp(config: ModelConfig, input_dim: int, classes: int) -> nn.Sequential:
    """An nn.Sequential whose Linear layers are named fc1..fcN, initialised per config.init.

    The other modules of block k are named bn<k>, act<k> and drop<k>.
    """
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    width = input_dim
    for k, (units, p) in enumerate(zip(config.hidden, config.dropout_per_layer(), strict=True), 1):
        layers[f"fc{k}"] = nn.Linear(width, units)
        if config.batchnorm:
            layers[f"bn{k}"] = nn.BatchNorm1d(units)
        layers[f"act{k}"] = ACTIVATION_MODULES[config.activation]()
        if p > 0:
            layers[f"drop{k}"] = nn.Dropout(p)
        width = units
    layers[f"fc{len(config.hidden) + 1}"] = nn.Linear(width, classes)
    model = nn.Sequential(layers)
    initialise(model, config)
    return model


def initialise(model: nn.Module, config: ModelConfig) -> None:
    """Re-initialise every Linear layer; ``default`` keeps PyTorch's own init.

    xavier: Glorot uniform, Var(W) = 2 / (n_in + n_out) (what Keras' Dense starts with).
    he:     Kaiming normal for ReLU, Var(W) = 2 / n_in.
    normal: N(0, init_std**2), the classic way to make deep stacks vanish or explode.
    Biases start at 0 for every non-default init.
    """
    if config.init == "default":
        return
    for module in model.modules():
        if not isinstance(module, nn.Linear):
            continue
        if config.init == "xavier":
            nn.init.xavier_uniform_(module.weight)
        elif config.init == "he":
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        else:
            nn.init.normal_(module.weight, mean=0.0, std=config.init_std)
        nn.init.zeros_(module.bias)


def linear_layers(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    """The (name, Linear) pairs, input -> output."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def l2_penalty(model: nn.Module) -> torch.Tensor:
    """sum(W**2) over the Linear weights (not biases, not BatchNorm), as Keras' l2 regulariser."""
    return sum(m.weight.pow(2).sum() for _, m in linear_layers(model))  # type: ignore[return-value]
