"""The pass of one sample, node by node, against torch.autograd on the torch modules."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dnn_tui.config import ModelConfig
from dnn_tui.model import build_mlp
from dnn_tui.training.trace import SamplePass, trace_pass

TOLERANCE = 1e-6


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


def autograd_pass(net: nn.Sequential, x: torch.Tensor, label: int) -> dict[str, dict]:
    """Every node's output and dLoss/d(output), every parameter's gradient, by autograd."""
    net.eval()
    net.zero_grad()
    outputs: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(_module: nn.Module, _args: object, output: torch.Tensor) -> None:
            output.retain_grad()
            outputs[name] = output

        return hook

    handles = [module.register_forward_hook(keep(name)) for name, module in net.named_children()]
    logits = net(x.unsqueeze(0))
    probs = F.softmax(logits, 1)
    probs.retain_grad()
    loss = -torch.log(probs[0, label])
    loss.backward()
    for handle in handles:
        handle.remove()
    found = {
        name: {"output": out[0].tolist(), "grad_output": out.grad[0].tolist()}  # type: ignore[index]
        for name, out in outputs.items()
    }
    found["softmax"] = {"output": probs[0].tolist(), "grad_output": probs.grad[0].tolist()}  # type: ignore[index]
    found["loss"] = {"output": [loss.item()], "grad_output": [1.0]}
    for name, module in net.named_children():
        if isinstance(module, nn.Linear):
            found[name]["grad_weight"] = module.weight.grad.tolist()  # type: ignore[union-attr]
            found[name]["grad_bias"] = module.bias.grad.tolist()  # type: ignore[union-attr]
        elif isinstance(module, nn.BatchNorm1d):
            found[name]["grad_gamma"] = module.weight.grad.tolist()  # type: ignore[union-attr]
            found[name]["grad_beta"] = module.bias.grad.tolist()  # type: ignore[union-attr]
    return found


def assert_equal_to_autograd(traced: SamplePass, net: nn.Sequential, x: torch.Tensor) -> None:
    expected = autograd_pass(net, x, traced.label)
    record = traced.record()
    assert [node["name"] for node in record["nodes"]] == list(expected)
    for node in record["nodes"]:
        oracle = expected[node["name"]]
        assert set(node) - {"name", "kind"} == set(oracle), node["name"]
        for key, value in oracle.items():
            torch.testing.assert_close(
                torch.tensor(node[key]),
                torch.tensor(value),
                rtol=0,
                atol=TOLERANCE,
                msg=lambda m, n=node["name"], k=key: f"{n}.{k}: {m}",
            )
    assert record["loss"] == pytest.approx(expected["loss"]["output"][0], abs=TOLERANCE)


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
        assert_equal_to_autograd(traced, net, x[sample])


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "leaky_relu", "elu", "gelu"])
def test_every_activation_and_dropout_trace_as_autograd_computes(activation: str) -> None:
    net = tiny_model(activation=activation, batchnorm=True, dropout=0.5)
    x = torch.tensor([[0.7, -1.2], [-0.3, 0.4]])
    traced = trace_pass(net, x, torch.tensor([0, 1]), "val", 1)
    assert "dropout" in [node.kind for node in traced.nodes]
    assert_equal_to_autograd(traced, net, x[1])


def test_the_trace_leaves_the_model_as_it_was() -> None:
    net = tiny_model(activation="tanh", batchnorm=True, dropout=0.2)
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    trace_pass(net, torch.ones(1, 2), torch.tensor([1]), "train", 0)
    assert net.training
    assert all(p.grad is None for p in net.parameters())
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key
