"""The gradient bands on the real MNIST images: a baseline trained until its gradients are small
and even shows no layer vanishing, deep-sigmoid's first layer does.

Skipped, with the reason, when ../shared/data/mnist-t10k is absent.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dnn_tui.config import DataConfig, validate
from dnn_tui.data import load_dataset
from dnn_tui.presets import load_preset
from dnn_tui.training.engine import train
from dnn_tui.training.lessons import gradient_bands

MNIST_T10K = Path(__file__).resolve().parents[2].parent / "shared/data/mnist-t10k"

pytestmark = pytest.mark.skipif(
    not MNIST_T10K.is_dir(), reason=f"real MNIST t10k not found in {MNIST_T10K}"
)


def idx(limit: int) -> DataConfig:
    return DataConfig(
        dataset="idx",
        idx_images=str(MNIST_T10K / "t10k-images-idx3-ubyte.gz"),
        idx_labels=str(MNIST_T10K / "t10k-labels-idx1-ubyte.gz"),
        limit=limit,
    )


def last_record(preset: str, limit: int, **train_settings: object) -> dict:
    config = load_preset(preset)
    data = idx(limit)
    settings = replace(config.train, device="cpu", **train_settings)  # type: ignore[arg-type]
    result = train(validate(replace(config, data=data, train=settings)), load_dataset(data))
    return result.history[-1]


def test_a_baseline_trained_to_small_even_gradients_has_no_vanishing_layer() -> None:
    # 500 images in one batch, 120 steps: training loss near 1e-4, every gradient about 1e-3
    # or less and within a few times of the others (150 epochs of all 8,000 look the same).
    record = last_record("baseline", 500, batch_size="full", lr=0.01, epochs=120)
    norms = record["grad_norm"]
    assert max(norms) < 5e-3 and max(norms) / min(norms) < 10
    assert "vanishing" not in gradient_bands(norms, record["update_ratio"])


def test_deep_sigmoid_first_layer_vanishes() -> None:
    record = last_record("deep-sigmoid", 1000, epochs=1)
    assert gradient_bands(record["grad_norm"], record["update_ratio"])[0] == "vanishing"
