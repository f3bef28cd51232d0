"""The dashboard's pure parts: series, message coalescing, bands, graph arithmetic, remedies."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dnn_tui.app.curves import resample
from dnn_tui.app.messages import coalesced
from dnn_tui.app.screens.divergence import with_clipping, with_half_lr
from dnn_tui.app.screens.model_graph import graph_table
from dnn_tui.app.series import CompactingSeries
from dnn_tui.app.widgets.config_form import error_field
from dnn_tui.app.widgets.epoch_table import describe_control
from dnn_tui.app.widgets.gradient_panel import SCALE, SPARK_BARS, scale_position, spark
from dnn_tui.config import ConfigError, ModelConfig, RunConfig, TrainConfig
from dnn_tui.graph import DATASET_SHAPES, build_graph, summary_text, trainable_params
from tests.helpers import scripted


def test_series_keeps_the_whole_run_in_bounded_memory() -> None:
    series = CompactingSeries(capacity=8)
    for value in range(1, 101):
        series.append(float(value))
    series.append(float("nan"))  # ignored
    assert len(series) < 8
    assert (series.low, series.high, series.last) == (1.0, 100.0, 100.0)
    assert series.values == sorted(series.values)  # the shape survives the averaging
    assert series.values[0] < 10 and series.values[-1] > 80
    with pytest.raises(ValueError):
        CompactingSeries(capacity=1)


def test_a_spike_of_one_epoch_in_50000_survives_the_downsampling() -> None:
    """Min/max per point and per cell: the averaging that keeps the curve's shape would leave
    one bad epoch among 50,000 at a thousandth of its height."""
    series = CompactingSeries()
    for epoch in range(1, 50_001):
        series.append(10.0 if epoch == 31_234 else 0.1, float(epoch))
    assert len(series) < series.capacity and max(series.values) < 0.2  # averaged away ...
    assert max(series.highs) == 10.0 and min(series.lows) == 0.1  # ... kept here
    worst = resample(series.xs, series.highs, 50_000.0, 80, max)
    # in the cell of epoch 31,234, or the next (a point sits at the mean x of its epochs)
    assert worst.count(10.0) == 1 and worst.index(10.0) in (49, 50)
    assert set(worst) - {10.0} == {0.1}
    mean = resample(series.xs, series.values, 50_000.0, 80)
    assert max(v for v in mean if v is not None) < 1.0


def test_a_pair_draws_each_cells_worst_value() -> None:
    assert resample([1.0, 2.0, 3.0, 4.0], [1.0, 5.0, 2.0, 0.5], 4.0, 2, max) == [5.0, 2.0]
    assert resample([1.0, 2.0, 3.0, 4.0], [1.0, 5.0, 2.0, 0.5], 4.0, 2, min) == [1.0, 0.5]
    assert resample([1.0, 2.0, 3.0, 4.0], [1.0, 5.0, 2.0, 0.5], 4.0, 2) == [3.0, 1.25]


def test_only_consecutive_progress_reports_coalesce() -> None:
    s1, s2, s3 = (scripted.step(1, n) for n in (1, 2, 3))
    epoch = scripted.epoch_ended(1)
    assert coalesced([s1, s2, epoch, s3]) == [s2, epoch, s3]
    assert coalesced([epoch, s1]) == [epoch, s1]
    assert coalesced([s1, s2, s3]) == [s3]
    assert coalesced([]) == []


def test_the_log_scale() -> None:
    assert scale_position(10 ** SCALE[0], 20) == 1  # at least visible
    assert scale_position(10 ** SCALE[1], 20) == 20
    assert scale_position(1e-3, 28) < scale_position(1e-1, 28)
    assert scale_position(0.0, 20) == 0
    assert spark([], 5) == ""
    line = spark([float(v) for v in range(100)], 10)
    assert len(line) == 10 and line[0] == "▁" and line[-1] == "█"
    levels = [SPARK_BARS.index(c) for c in spark([1.0, 1.001, 1.002], 3)]
    assert max(levels) - min(levels) <= 1  # noise within a decade stays flat


def test_graph_counts_match_keras_for_the_reference_model() -> None:
    nodes = build_graph(ModelConfig(), 784, 10)
    assert trainable_params(nodes) == 84_780  # Keras' count for Dense(100)-(50)-(20)-(10)
    titles = [node.title for node in nodes]
    assert titles[0] == "Input" and titles[-2:] == ["Softmax", "Cross-entropy"]
    assert summary_text(nodes).splitlines()[-3] == "Total params: 84,780"

    with_bn = build_graph(ModelConfig(hidden=(8,), batchnorm=True, dropout=0.5), 2, 3)
    assert [n.name for n in with_bn] == [
        "input", "fc1", "bn1", "act1", "drop1", "fc2", "softmax", "loss"
    ]  # fmt: skip
    bn = with_bn[2]
    assert (bn.trainable, bn.buffers) == (16, 16)
    assert "Non-trainable params: 16" in summary_text(with_bn)
    # One count for batch norm in the graph and the summary, the running statistics named.
    row = next(line for line in graph_table(with_bn, {}).plain.splitlines() if "bn1" in line)
    summary_row = next(line for line in summary_text(with_bn).splitlines() if "bn1" in line)
    assert row.split("β 8")[1].split()[0] == summary_row.split()[-1] == "32"
    assert "16 trained: γ, β; 16 running mean and variance, not trained" in row


def test_dataset_shapes_match_the_loaded_data() -> None:
    # In a subprocess: torch must not do work in this process's main thread (it would slow
    # the training threads of the other tests).
    code = (
        "import json\n"
        "from dnn_tui.config import DataConfig\n"
        "from dnn_tui.data import load_dataset\n"
        "names = ('digits', 'moons', 'circles', 'spiral')\n"
        "sets = {n: load_dataset(DataConfig(n)) for n in names}\n"
        "print(json.dumps({n: [d.input_dim, d.classes] for n, d in sets.items()}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    for name, shape in json.loads(out.stdout).items():
        assert DATASET_SHAPES[name] == tuple(shape), name


def test_remedies_and_small_helpers() -> None:
    config = RunConfig(train=TrainConfig(lr=0.1))
    old = {"epoch": 1, "step": 2, "layer": "fc1"}  # a run from before the state was recorded
    assert with_clipping(config, old).train.clip_norm == 1.0
    assert with_clipping(with_clipping(config, old), old).train.clip_norm == 0.5
    assert with_half_lr(config, old).train.lr == 0.05
    # The remedies start from the state at the failing step, not from the config: clipping
    # switched off (and the lr raised) by keys before the divergence.
    clipped = RunConfig(train=TrainConfig(lr=0.1, clip_norm=0.5))
    switched_off = dict(old, clip_norm=None, lr=0.4)
    assert with_clipping(clipped, switched_off).train.clip_norm == 1.0
    assert with_clipping(clipped, switched_off).train.lr == 0.4
    assert with_half_lr(clipped, switched_off).train.lr == 0.2
    assert with_half_lr(clipped, switched_off).train.clip_norm is None
    assert with_clipping(config, dict(old, clip_norm=0.5, lr=0.1)).train.clip_norm == 0.25
    assert error_field(ConfigError("idx_images, idx_labels: dataset 'idx' needs both")) == (
        "idx_images"
    )
    assert error_field(ConfigError("lr: must be > 0")) == "lr"
    assert describe_control({"step": 12, "kind": "clipping", "value": True}) == "clip on@12"
    assert describe_control({"step": 3, "kind": "lr", "value": 0.0005}) == "lr 0.0005@3"
    assert describe_control({"step": 4, "kind": "pause", "value": False}) == "resume@4"
