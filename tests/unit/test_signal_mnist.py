"""The lesson's presets on the real MNIST images: what the forward probe sees before the first step.

Skipped, with the reason, when ../shared/data/mnist-t10k is absent.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dnn_tui.config import DataConfig, validate
from dnn_tui.data import Dataset, load_dataset
from dnn_tui.presets import load_preset
from dnn_tui.training.controls import RunControls
from dnn_tui.training.engine import train
from dnn_tui.training.events import ActivationsMeasured, Event

MNIST_T10K = Path(__file__).resolve().parents[2].parent / "shared/data/mnist-t10k"
IDX = DataConfig(
    dataset="idx",
    idx_images=str(MNIST_T10K / "t10k-images-idx3-ubyte.gz"),
    idx_labels=str(MNIST_T10K / "t10k-labels-idx1-ubyte.gz"),
)

pytestmark = pytest.mark.skipif(
    not MNIST_T10K.is_dir(), reason=f"real MNIST t10k not found in {MNIST_T10K}"
)


@pytest.fixture(scope="module")
def mnist() -> Dataset:
    return load_dataset(IDX)


def initial_signal(preset: str, data: Dataset) -> ActivationsMeasured:
    """The preset's run on MNIST, stopped before its first step: the initialisation's signal."""
    config = load_preset(preset)
    config = validate(replace(config, data=IDX, train=replace(config.train, device="cpu")))
    controls = RunControls()
    controls.stop()
    events: list[Event] = []
    result = train(config, data, controls, events.append)
    assert result.status == "stopped" and result.history == []
    (signal,) = [e for e in events if isinstance(e, ActivationsMeasured)]
    assert len(signal.layers) == 10
    return signal


def ratio(signal: ActivationsMeasured) -> float:
    """Last hidden layer's std over the first's."""
    return signal.std[-1] / signal.std[0]


def test_tanh_with_the_default_init_collapses_and_xavier_keeps_the_signal(
    mnist: Dataset,
) -> None:
    assert ratio(initial_signal("deep-tanh", mnist)) < 0.05
    assert ratio(initial_signal("deep-tanh-xavier", mnist)) > 0.4


def test_relu_with_he_keeps_the_signal_and_the_default_init_loses_it(mnist: Dataset) -> None:
    assert ratio(initial_signal("deep-relu-he", mnist)) > 0.5
    default = initial_signal("deep-relu", mnist)
    assert ratio(default) < 0.05
    assert max(default.share) > 0.25  # and many units are dead


def test_sigmoid_from_n01_saturates_and_batch_norm_prevents_it(mnist: Dataset) -> None:
    saturated = initial_signal("deep-sigmoid-saturated", mnist)
    assert saturated.share_kind == "saturated"
    assert sum(saturated.share) / len(saturated.share) > 0.25  # of all hidden values
    assert min(saturated.share) > 0.2  # in every layer
    with_bn = initial_signal("deep-sigmoid-batchnorm", mnist)
    assert max(with_bn.share) < 0.05
