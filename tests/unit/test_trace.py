"""The pass of one sample, node by node, against torch.autograd on the torch modules."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dnn_tui.config import ModelConfig
from dnn_tui.model import build_mlp
from dnn_tui.training.trace import trace_pass
from tests.helpers.trace_oracle import assert_equal_to_autograd


def tiny_model(**model: object) -> nn.Sequential:
    """A 2-8-8-2 network with batch norm statistics that are not the identity's."""
    torch.manual_seed(3)
    config = ModelConfig(hidden=(8, 8), **model)  # type: ignore[arg-type]
    net = build_mlp(config, 2, 2)
    for module in net.modules():
        if isinstance(module, nn.BatchNorm1d):
            module.running_mean.uniform_(-0.5, 0.5)  # type: ignore[operator]
            module.running_var.uniform_(0.5, 2.0)  # type: ignore[operator]
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.uniform_(module.bias, -0.3, 0.3)
    return net


@pytest.mark.parametrize("batchnorm", [False, True])
def test_a_tanh_network_traces_as_autograd_computes(batchnorm: bool) -> None:
    net = tiny_model(activation="tanh", batchnorm=batchnorm)
    x = torch.tensor([[0.7, -1.2], [-0.3, 0.4], [1.5, 0.2]])
    y = torch.tensor([1, 0, 1])
    for sample in range(3):
        traced = trace_pass(net, x, y, "test", sample)
        assert traced.sample == sample and traced.input == pytest.approx(x[sample].tolist())
        kinds = [node.kind for node in traced.nodes]
        middle = ["affine", "batchnorm", "activation"] if batchnorm else ["affine", "activation"]
        assert kinds == middle * 2 + ["affine", "softmax", "loss"]
        assert_equal_to_autograd(traced.record(), net, x[sample])


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "leaky_relu", "elu", "gelu"])
def test_every_activation_and_dropout_trace_as_autograd_computes(activation: str) -> None:
    net = tiny_model(activation=activation, batchnorm=True, dropout=0.5)
    x = torch.tensor([[0.7, -1.2], [-0.3, 0.4]])
    traced = trace_pass(net, x, torch.tensor([0, 1]), "val", 1)
    assert "dropout" in [node.kind for node in traced.nodes]
    assert_equal_to_autograd(traced.record(), net, x[1])


def test_the_trace_leaves_the_model_as_it_was() -> None:
    net = tiny_model(activation="tanh", batchnorm=True, dropout=0.2)
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    trace_pass(net, torch.ones(1, 2), torch.tensor([1]), "train", 0)
    assert net.training
    assert all(p.grad is None for p in net.parameters())
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key
