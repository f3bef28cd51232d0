"""A trusted oracle for one sample's pass: torch.autograd on the torch modules themselves
(forward hooks keep each module's output and its gradient)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

TOLERANCE = 1e-6
"""How far a traced number may be from autograd's."""


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


def assert_equal_to_autograd(record: dict, net: nn.Sequential, x: torch.Tensor) -> None:
    """record: a pass as ``eval --trace --json`` writes it (``SamplePass.record``)."""
    expected = autograd_pass(net, x, record["label"])
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
