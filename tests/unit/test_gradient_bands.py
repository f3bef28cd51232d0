"""The gradient bands are the lesson's rule: a layer vanishes or explodes by how its gradient
compares with the layers after it (and, for exploding, by its update against its weights),
never by an absolute number; a stack whose gradients are all small and even has converged."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dnn_tui.config import DataConfig, validate
from dnn_tui.data import Dataset, load_dataset
from dnn_tui.presets import load_preset
from dnn_tui.training.engine import train
from dnn_tui.training.events import StepMeasured
from dnn_tui.training.lessons import (
    CONVERGED_BELOW,
    UPDATE_EXPLODING_ABOVE,
    VANISHING_RATIO,
    gradient_bands,
    gradient_reading,
    update_band,
)

LAYERS = tuple(f"fc{i}" for i in range(1, 12))


def deep_sigmoid(scale: float = 1.0) -> list[float]:
    """About sevenfold less per layer toward the input, as deep-sigmoid measures."""
    return [scale * 0.4 * 7.0 ** (k - 10) for k in range(11)]


@pytest.mark.parametrize("scale", [1.0, 1e-3, 1e-6])
def test_a_gradient_shrinking_toward_the_input_vanishes_at_any_scale(scale: float) -> None:
    bands = gradient_bands(deep_sigmoid(scale), [1e-3] * 11)
    assert bands[:8] == ("vanishing",) * 8
    assert bands[-1] == "healthy"  # the output layer is the reference


@pytest.mark.parametrize("level", [1e-9, 1e-6, 5e-5])
def test_small_even_gradients_read_as_converged_not_vanishing(level: float) -> None:
    norms = [level * (1.5 if k % 2 else 0.6) for k in range(11)]  # alternating, within 3x
    assert gradient_bands(norms, [1e-4] * 11) == ("converged",) * 11
    reading = gradient_reading(LAYERS, norms)
    assert reading.startswith("converged") and "vanish" in reading  # "nothing vanishes"
    assert "vanishing:" not in reading


def test_even_gradients_of_a_learning_stack_are_healthy() -> None:
    norms = [0.5, 0.6, 0.4, 0.7, 0.5]
    assert gradient_bands(norms, [3e-3] * 5) == ("healthy",) * 5
    assert gradient_reading(LAYERS[:5], norms).startswith("healthy")


def test_one_small_layer_among_large_ones_vanishes_and_the_reading_names_it() -> None:
    norms = [0.5, 1e-4, 0.6, 0.4]
    assert gradient_bands(norms) == ("healthy", "vanishing", "healthy", "healthy")
    assert gradient_reading(LAYERS[:4], norms) == "vanishing: fc2"


def test_the_output_layer_is_never_vanishing() -> None:
    assert gradient_bands([1.0, 1e-12])[-1] == "healthy"
    assert gradient_bands([1e-12]) == ("converged",)


def test_an_update_too_large_for_the_weights_is_exploding() -> None:
    ratios = [1e-3, 10 * UPDATE_EXPLODING_ABOVE, 1e-3]
    assert gradient_bands([0.5, 0.5, 0.5], ratios) == ("healthy", "exploding", "healthy")


def test_large_gradients_with_small_clipped_updates_are_not_exploding() -> None:
    """exploding-clipped: pre-clip gradients in the hundreds, steps bounded by clipping."""
    assert gradient_bands([500.0] * 4, [3e-4] * 4) == ("healthy",) * 4
    # Without an update ratio (an older reading), the large gradient stands in.
    assert gradient_bands([500.0] * 4) == ("exploding",) * 4


def test_a_gradient_growing_toward_the_input_is_exploding() -> None:
    assert gradient_bands([1e3, 1.0, 0.5], [1e-3] * 3)[0] == "exploding"


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_a_non_finite_gradient_or_update_is_exploding(bad: float) -> None:
    assert gradient_bands([0.5, bad, 0.5])[1] == "exploding"
    assert gradient_bands([0.5, 0.5], [bad, 1e-3])[0] == "exploding"


def test_update_bands() -> None:
    assert [update_band(r) for r in (None, 1e-7, 1e-3, 10.0, math.inf)] == [
        "",
        "slow",
        "healthy",
        "exploding",
        "exploding",
    ]


norm_lists = st.lists(st.floats(1e-8, 1e2, allow_nan=False), min_size=1, max_size=12)


@given(norm_lists, st.integers(-6, 0))
def test_the_bands_do_not_depend_on_the_scale(norms: list[float], decades: int) -> None:
    """Every gradient times one factor (a loss nearer its minimum): the same vanishing and
    exploding layers (only converged may replace healthy)."""
    ratios = [1e-3] * len(norms)
    before = gradient_bands(norms, ratios)
    after = gradient_bands([v * 10.0**decades for v in norms], ratios)
    for a, b in zip(before, after, strict=True):
        assert a == b or {a, b} <= {"healthy", "converged"}


@given(norm_lists)
def test_a_layer_vanishes_exactly_when_far_below_a_later_one(norms: list[float]) -> None:
    bands = gradient_bands(norms, [1e-3] * len(norms))
    for index, norm in enumerate(norms):
        later = max(norms[index + 1 :], default=0.0)
        assert (bands[index] == "vanishing") == (norm < VANISHING_RATIO * later)
    if max(norms) < CONVERGED_BELOW and "vanishing" not in bands and "exploding" not in bands:
        assert set(bands) == {"converged"}


# --- the presets on the bundled digits ---------------------------------------------------------


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset(DataConfig(dataset="digits", split_seed=0))


def run_preset(name: str, data: Dataset, epochs: int) -> tuple[dict, list[StepMeasured]]:
    config = load_preset(name)
    train_config = replace(config.train, device="cpu", epochs=epochs)
    config = validate(replace(config, data=DataConfig(dataset="digits"), train=train_config))
    steps: list[StepMeasured] = []
    result = train(config, data, emit=lambda e: isinstance(e, StepMeasured) and steps.append(e))
    return (result.history[-1] if result.history else {}), steps


def test_deep_sigmoid_vanishes_and_deep_relu_he_is_healthy_on_digits(digits: Dataset) -> None:
    record, _ = run_preset("deep-sigmoid", digits, 1)
    bands = gradient_bands(record["grad_norm"], record["update_ratio"])
    assert bands[0] == "vanishing" and bands[-1] == "healthy"
    record, _ = run_preset("deep-relu-he", digits, 1)
    assert set(gradient_bands(record["grad_norm"], record["update_ratio"])) == {"healthy"}


def test_exploding_explodes_and_clipping_bounds_its_updates_on_digits(digits: Dataset) -> None:
    _, steps = run_preset("exploding", digits, 1)
    assert "exploding" in gradient_bands(steps[-1].grad_norm, steps[-1].update_ratio)
    record, _ = run_preset("exploding-clipped", digits, 1)
    assert "vanishing" not in gradient_bands(record["grad_norm"], record["update_ratio"])
