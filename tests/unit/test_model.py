"""The MLP: layer names, initialisations measured against their formulas, the summary."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dnn_tui.config import ModelConfig
from dnn_tui.graph import build_graph, summary_text, trainable_params
from dnn_tui.model import build_mlp, count_parameters, l2_penalty, linear_layers


def test_layers_are_named_and_ordered() -> None:
    model = build_mlp(ModelConfig(hidden=(8, 4), batchnorm=True, dropout=(0.5, 0.0)), 6, 3)
    assert [name for name, _ in model.named_children()] == [
        "fc1", "bn1", "act1", "drop1", "fc2", "bn2", "act2", "fc3"
    ]  # fmt: skip
    assert [name for name, _ in linear_layers(model)] == ["fc1", "fc2", "fc3"]
    assert model(torch.rand(5, 6)).shape == (5, 3)


def test_baseline_has_the_keras_parameter_count() -> None:
    model = build_mlp(ModelConfig(), 784, 10)
    assert count_parameters(model) == 84_780
    nodes = build_graph(ModelConfig(), 784, 10)
    assert trainable_params(nodes) == 84_780
    text = summary_text(nodes)
    assert "Total params: 84,780" in text
    assert "fc1 (Linear)" in text and "(None, 100)" in text


def test_batchnorm_running_stats_are_non_trainable() -> None:
    nodes = build_graph(ModelConfig(hidden=(10,), batchnorm=True), 4, 2)
    # fc1 50 + bn1 gamma/beta 20 + fc2 22; running mean/var 20 more, not trainable.
    assert trainable_params(nodes) == 50 + 20 + 22
    assert "Non-trainable params: 20" in summary_text(nodes)
    assert f"Total params: {50 + 20 + 22 + 20}" in summary_text(nodes)


@pytest.mark.parametrize(
    "config",
    [
        ModelConfig(),
        ModelConfig(hidden=(10,), batchnorm=True),
        ModelConfig(hidden=(7, 5, 3), activation="tanh", dropout=(0.5, 0.0, 0.2), batchnorm=True),
        ModelConfig(hidden=(), activation="gelu"),
    ],
)
def test_the_graph_agrees_with_the_torch_module(config: ModelConfig) -> None:
    """The oracle for dnn_tui.graph: the module build_mlp really builds."""
    model = build_mlp(config, 13, 4)
    nodes = build_graph(config, 13, 4)
    params = {p.name: p.shape for node in nodes for p in node.params}
    assert params == {name: tuple(p.shape) for name, p in model.named_parameters()}
    modules = [(node.name, node.module) for node in nodes if node.module is not None]
    assert modules == [(name, type(m).__name__) for name, m in model.named_children()]
    buffers = sum(node.buffers for node in nodes)
    assert buffers == sum(
        b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")
    )
    assert trainable_params(nodes) == count_parameters(model)


def _weight_variance(init: str, n_in: int, n_out: int, **kwargs) -> float:
    torch.manual_seed(0)
    model = build_mlp(ModelConfig(hidden=(n_out,), init=init, **kwargs), n_in, 2)
    return model.fc1.weight.var().item()


def test_xavier_variance_is_two_over_fan_in_plus_fan_out() -> None:
    assert _weight_variance("xavier", 400, 300) == pytest.approx(2 / 700, rel=0.03)


def test_he_variance_is_two_over_fan_in() -> None:
    assert _weight_variance("he", 400, 300) == pytest.approx(2 / 400, rel=0.03)


def test_normal_init_uses_init_std() -> None:
    assert _weight_variance("normal", 400, 300, init_std=0.3) == pytest.approx(0.09, rel=0.03)


@pytest.mark.parametrize("init", ["xavier", "he", "normal"])
def test_biases_start_at_zero(init: str) -> None:
    model = build_mlp(ModelConfig(hidden=(5, 5), init=init), 3, 2)
    assert all((m.bias == 0).all() for _, m in linear_layers(model))


def test_default_init_is_pytorchs() -> None:
    torch.manual_seed(0)
    ours = build_mlp(ModelConfig(hidden=(5,), init="default"), 3, 2)
    torch.manual_seed(0)
    theirs = nn.Linear(3, 5)
    assert torch.equal(ours.fc1.weight, theirs.weight)
    assert torch.equal(ours.fc1.bias, theirs.bias)


def test_l2_penalty_sums_linear_weights_only() -> None:
    model = build_mlp(ModelConfig(hidden=(4,), batchnorm=True), 3, 2)
    expected = model.fc1.weight.pow(2).sum() + model.fc2.weight.pow(2).sum()
    assert torch.allclose(l2_penalty(model), expected)
