"""A paused run of the tiny 2-8-8-2 tanh network on the moons, as its events tell it: the
model graph of a paused run draws the pass it traced (deterministic: a seeded model)."""

from __future__ import annotations

import torch

from dnn_tui.config import DataConfig, ModelConfig, RunConfig, TrainConfig, validate
from dnn_tui.graph import build_graph, summary_text, trainable_params
from dnn_tui.model import build_mlp
from dnn_tui.training.events import ControlApplied, Event, PassTraced, RunStarted
from dnn_tui.training.trace import trace_pass

TINY_MOONS = validate(
    RunConfig(
        model=ModelConfig(hidden=(8, 8), activation="tanh"),
        data=DataConfig("moons"),
        train=TrainConfig(epochs=200, batch_size=32, lr=0.05),
    )
)
"""Every number of its pass fits the screen."""
MOONS = {"name": "moons", "train": 800, "val": 100, "test": 100, "input_dim": 2, "classes": 2}
LAYERS = ("fc1", "fc2", "fc3")


def tiny_pass(epoch: int = 1, step: int = 3) -> PassTraced:
    """The pass of one test sample through a seeded 2-8-8-2 tanh network."""
    torch.manual_seed(0)
    model = build_mlp(TINY_MOONS.model, 2, 2)
    x = torch.tensor([[0.84, -0.37]])
    return PassTraced(epoch, step, trace_pass(model, x, torch.tensor([1]), "test", 0))


def paused_tiny_run() -> list[Event]:
    """Started, paused before its fourth step, traced."""
    nodes = build_graph(TINY_MOONS.model, 2, 2)
    started = RunStarted(
        config=TINY_MOONS,
        dataset=MOONS,
        layers=LAYERS,
        parameters=tuple(f"{layer}.{kind}" for layer in LAYERS for kind in ("weight", "bias")),
        summary=summary_text(nodes),
        total_params=trainable_params(nodes),
        device="cpu",
        steps_per_epoch=25,
    )
    return [started, ControlApplied(1, 4, "pause", True), tiny_pass()]
