"""The learning-rate range test against trusted oracles: numpy's geometric spacing for the
learning rates, and the same steps written as a plain PyTorch loop for the losses."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dnn_tui.analysis.range_figure import render_range_test, suggestion_line
from dnn_tui.config import ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig, validate
from dnn_tui.data import Dataset, load_dataset
from dnn_tui.model import build_mlp
from dnn_tui.training.lr_range import SKIP_BEGIN, SMOOTHING, LrSweep, range_test, suggest


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset(DataConfig(dataset="digits", limit=300))


def make_config(optimizer: str = "sgd", batch_size: int = 64) -> RunConfig:
    train = TrainConfig(optimizer=optimizer, batch_size=batch_size, device="cpu", seed=3)
    return validate(RunConfig(model=ModelConfig(hidden=(16,)), train=train))


def plain_range_test(config: RunConfig, data: Dataset, lrs: list[float]) -> list[float]:
    """Each step's loss, taking one step at each lr in turn, epoch after epoch."""
    t = config.train
    torch.manual_seed(t.seed)
    model = build_mlp(config.model, data.input_dim, data.classes)
    generator = torch.Generator().manual_seed(t.seed)
    optimizer = (
        torch.optim.SGD(model.parameters(), lr=lrs[0])
        if t.optimizer == "sgd"
        else torch.optim.Adam(model.parameters(), lr=lrs[0])
    )
    n, bs = len(data.x_train), t.batch_size
    losses: list[float] = []
    while len(losses) < len(lrs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, bs):
            if len(losses) == len(lrs):
                break
            for group in optimizer.param_groups:
                group["lr"] = lrs[len(losses)]
            index = order[start : start + bs]
            loss = F.cross_entropy(model(data.x_train[index]), data.y_train[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


def test_the_learning_rates_grow_exponentially() -> None:
    sweep = LrSweep(1e-6, 1.0, 25)
    expected = np.geomspace(1e-6, 1.0, 25)
    assert [sweep.lr(i) for i in range(25)] == pytest.approx(expected.tolist(), rel=1e-12)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_losses_match_plain_pytorch(digits: Dataset, optimizer: str) -> None:
    config = make_config(optimizer)
    # 30 steps over 5 batches an epoch: the data order turns over six times.
    test = range_test(config, digits, LrSweep(1e-4, 0.1, 30))
    assert test.stopped is None
    assert list(test.lrs) == pytest.approx(np.geomspace(1e-4, 0.1, 30).tolist(), rel=1e-12)
    tolerance = 1e-6 if optimizer == "sgd" else 1e-5  # fused Adam rounds its last bits apart
    assert list(test.losses) == pytest.approx(
        plain_range_test(config, digits, list(test.lrs)), rel=tolerance
    )
    average = 0.0
    for step, (loss, smoothed) in enumerate(zip(test.losses, test.smoothed, strict=True)):
        average = SMOOTHING * average + (1 - SMOOTHING) * loss
        assert smoothed == pytest.approx(average / (1 - SMOOTHING ** (step + 1)), rel=1e-12)


def test_a_diverging_loss_stops_the_test(digits: Dataset) -> None:
    test = range_test(make_config("sgd"), digits, LrSweep(1e-3, 1e4, 200))
    assert test.stopped is not None
    assert len(test.lrs) < 200
    last, earlier = test.smoothed[-1], test.smoothed[:-1]
    assert last > 4 * min(earlier)  # the rule that stopped it
    assert all(value <= 4 * min(earlier[: i + 1]) for i, value in enumerate(earlier))
    assert all(math.isfinite(value) for value in test.losses)


def test_the_suggestion_is_the_steepest_fall_before_the_lowest_loss() -> None:
    lrs = tuple(np.geomspace(1e-5, 1.0, 60).tolist())
    # A loss that falls fastest at 1e-3, bottoms out at 1e-1, then climbs with a plunge
    # (steeper than the fall) that the suggestion must not take.
    smoothed = [2 - math.tanh(2 * (math.log10(lr) + 3)) for lr in lrs]
    lowest = 48
    smoothed = [*smoothed[: lowest + 1], 9.0, 3.0, *[9.0] * (len(lrs) - lowest - 3)]
    suggested = suggest(lrs, tuple(smoothed))
    assert suggested == pytest.approx(1e-3, rel=0.15)
    assert suggest(lrs[: SKIP_BEGIN + 1], tuple(smoothed[: SKIP_BEGIN + 1])) is None


def test_bad_sweeps_are_refused_by_name() -> None:
    for sweep, name in [
        (LrSweep(0.0, 1.0, 50), "min_lr"),
        (LrSweep(1.0, 0.5, 50), "max_lr"),
        (LrSweep(1e-5, 1.0, 3), "steps"),
    ]:
        with pytest.raises(ConfigError, match=f"^{name}:"):
            sweep.check()


def test_the_figure_fits_80_columns_and_marks_the_suggestion(digits: Dataset) -> None:
    test = range_test(make_config("adam"), digits, LrSweep(1e-5, 10.0, 80))
    figure = render_range_test(test, 80, 20)
    lines = figure.plain.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert len(lines) <= 20
    assert sum(line.count("★") for line in lines) == 2  # the title's and the plot's
    assert f"{test.suggestion:.3g}" in suggestion_line(test)
