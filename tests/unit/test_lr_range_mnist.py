"""The range test of the baseline on the real MNIST test images suggests a learning rate near
Adam's usual 1e-3 (the preset's). Skipped, with the reason, when ../shared/data/mnist-t10k is
absent."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dnn_tui.config import DataConfig, validate
from dnn_tui.data import load_dataset
from dnn_tui.presets import load_preset
from dnn_tui.training.lr_range import range_test
from tests.helpers.idx_files import MNIST_T10K

pytestmark = [
    pytest.mark.skipif(
        not MNIST_T10K.is_dir(), reason=f"real MNIST t10k not found in {MNIST_T10K}"
    ),
    pytest.mark.e2e,
]


def test_the_baseline_gets_a_suggestion_within_a_factor_10_of_1e_3() -> None:
    data = DataConfig(
        dataset="idx",
        idx_images=str(MNIST_T10K / "t10k-images-idx3-ubyte.gz"),
        idx_labels=str(MNIST_T10K / "t10k-labels-idx1-ubyte.gz"),
    )
    baseline = load_preset("baseline")
    config = validate(replace(baseline, data=data, train=replace(baseline.train, device="cpu")))
    test = range_test(config, load_dataset(data))
    assert test.suggestion is not None
    assert 1e-4 <= test.suggestion <= 1e-2, test.suggestion
