"""The activation probe against a direct computation in plain PyTorch, and in the engine."""

from __future__ import annotations

import copy
import math
from dataclasses import replace

import pytest
import torch
from torch import nn

from dnn_tui.config import DataConfig, ModelConfig, RunConfig, TrainConfig, validate
from dnn_tui.data import Dataset, load_dataset
from dnn_tui.model import build_mlp
from dnn_tui.training import engine
from dnn_tui.training.activations import HIST_BINS, HIST_RANGES, PROBE_SAMPLES
from dnn_tui.training.controls import RunControls
from dnn_tui.training.engine import train
from dnn_tui.training.events import ActivationsMeasured, EpochEnded, Event, StepMeasured
from dnn_tui.training.lessons import share_kind
from dnn_tui.training.probes import ActivationProbe


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset(DataConfig(dataset="digits", limit=400))


def activations_by_hooks(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Each activation module's output in a plain forward pass (the model's current mode)."""
    outputs: list[torch.Tensor] = []
    handles = [
        module.register_forward_hook(lambda _m, _i, out: outputs.append(out.detach()))
        for name, module in model.named_children()
        if name.startswith("act")
    ]
    with torch.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    return outputs


def expected_figures(a: torch.Tensor, activation: str) -> dict[str, object]:
    """The probe's figures written out the obvious way."""
    per_unit_std = a.var(dim=0, unbiased=False)
    if activation == "tanh":
        share = (a.abs() > 0.99).float().mean()
    elif activation == "sigmoid":
        share = ((a < 0.01) | (a > 0.99)).float().mean()
    else:
        share = (~(a > 0).any(dim=0)).float().mean()
    low, high = HIST_RANGES[activation]
    edges = torch.linspace(low, high, HIST_BINS + 1, dtype=torch.float64)
    clamped = a.double().clamp(low, high).flatten()
    counts = torch.histogram(clamped, bins=edges).hist
    return {
        "mean": a.mean().item(),
        "std": per_unit_std.mean().sqrt().item(),
        "share": share.item(),
        "hist": (counts / a.numel()).tolist(),
    }


def check(measured: ActivationsMeasured, outputs: list[torch.Tensor], activation: str) -> None:
    assert len(measured.std) == len(outputs) > 0
    for i, a in enumerate(outputs):
        want = expected_figures(a, activation)
        assert measured.mean[i] == pytest.approx(want["mean"], rel=1e-5, abs=1e-7)
        assert measured.std[i] == pytest.approx(want["std"], rel=1e-5)
        assert measured.share[i] == pytest.approx(want["share"], abs=1e-7)
        assert list(measured.hist[i]) == pytest.approx(want["hist"], abs=1e-7)
        assert sum(measured.hist[i]) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("activation", "init", "init_std"),
    [
        ("tanh", "normal", 1.0),  # saturated
        ("sigmoid", "normal", 1.0),  # saturated at both ends
        ("relu", "default", 0.05),  # collapsing, with dead units
        ("relu", "normal", 0.5),  # exploding: values beyond the histogram's range
        ("leaky_relu", "he", 0.05),
    ],
)
def test_figures_equal_a_direct_computation(
    digits: Dataset, activation: str, init: str, init_std: float
) -> None:
    torch.manual_seed(3)
    config = ModelConfig(hidden=(32,) * 6, activation=activation, init=init, init_std=init_std)
    model = build_mlp(config, digits.input_dim, digits.classes)
    x = digits.x_train[:PROBE_SAMPLES]
    measured = ActivationProbe(model, activation, x).measure(2, 7)
    assert (measured.epoch, measured.step, measured.samples) == (2, 7, len(x))
    assert measured.layers == tuple(f"act{k}" for k in range(1, 7))
    assert measured.share_kind == share_kind(activation)
    check(measured, activations_by_hooks(model, x), activation)


def test_the_figures_tell_the_lessons_apart(digits: Dataset) -> None:
    """Shares that are not all zero, and stds that differ by orders of magnitude (so the
    comparison above could fail)."""
    x = digits.x_train[:PROBE_SAMPLES]

    def measure(**model: object) -> ActivationsMeasured:
        torch.manual_seed(0)
        config = ModelConfig(hidden=(64,) * 10, **model)  # type: ignore[arg-type]
        return ActivationProbe(build_mlp(config, 64, 10), config.activation, x).measure(0, 0)

    tanh_default = measure(activation="tanh", init="default")
    assert tanh_default.std[-1] < 0.05 * tanh_default.std[0]
    assert max(measure(activation="sigmoid", init="normal", init_std=1.0).share) > 0.25
    assert max(measure(activation="relu", init="default").share) > 0.1  # dead units


def test_dropout_is_off_and_nothing_changes(digits: Dataset) -> None:
    torch.manual_seed(0)
    config = ModelConfig(hidden=(32, 16), dropout=0.5)
    model = build_mlp(config, digits.input_dim, digits.classes)
    model.train()
    x = digits.x_train[:64]
    before = copy.deepcopy(model.state_dict())
    rng = torch.get_rng_state()
    measured = ActivationProbe(model, "relu", x).measure(0, 0)
    assert torch.equal(torch.get_rng_state(), rng)  # no dropout mask was drawn
    assert model.training
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    model.eval()  # eval mode: dropout off, as the probe runs it
    check(measured, activations_by_hooks(model, x), "relu")


def test_batch_norm_uses_the_batch_statistics_and_keeps_the_running_ones(
    digits: Dataset,
) -> None:
    torch.manual_seed(0)
    config = ModelConfig(hidden=(32,) * 4, activation="sigmoid", init="normal", init_std=1.0)
    model = build_mlp(replace(config, batchnorm=True), digits.input_dim, digits.classes)
    x = digits.x_train[:PROBE_SAMPLES]
    before = copy.deepcopy(model.state_dict())
    measured = ActivationProbe(model, "sigmoid", x).measure(0, 0)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    # The oracle: a training-mode forward (batch statistics) on a copy, whose running
    # statistics may change.
    oracle = copy.deepcopy(model).train()
    check(measured, activations_by_hooks(oracle, x), "sigmoid")
    assert max(measured.share) < 0.05  # batch norm keeps the sigmoid out of its flat ends


def test_a_network_without_hidden_layers_has_no_signal(digits: Dataset) -> None:
    model = build_mlp(ModelConfig(hidden=()), digits.input_dim, digits.classes)
    measured = ActivationProbe(model, "relu", digits.x_train[:10]).measure(0, 0)
    assert measured.layers == measured.std == measured.hist == ()


# --- in the engine -----------------------------------------------------------------------------


def make_config(**train: object) -> RunConfig:
    model = train.pop("model", ModelConfig(hidden=(32, 16), activation="tanh"))
    base = TrainConfig(epochs=2, batch_size=50, device="cpu", optimizer="sgd", lr=0.1)
    return validate(RunConfig(model=model, train=replace(base, **train)))  # type: ignore[arg-type]


def test_the_engine_measures_at_the_start_and_at_each_epoch_end(digits: Dataset) -> None:
    config = make_config()
    events: list[Event] = []
    result = train(config, digits, emit=events.append)
    signals = [e for e in events if isinstance(e, ActivationsMeasured)]
    kinds = [type(e).__name__ for e in events]
    # Before any step: the initialisation's signal, right after RunStarted.
    assert kinds[:2] == ["RunStarted", "ActivationsMeasured"]
    torch.manual_seed(config.train.seed)
    fresh = build_mlp(config.model, digits.input_dim, digits.classes)
    x = digits.x_train[:PROBE_SAMPLES]
    assert signals[0] == ActivationProbe(fresh, "tanh", x).measure(0, 0)
    # At each epoch end, before EpochEnded, with the figures the record keeps.
    steps = math.ceil(len(digits.x_train) / 50)
    ends = [e for e in signals if e.epoch > 0]
    assert [(e.epoch, e.step) for e in ends] == [(1, steps), (2, steps)]
    for end, record in zip(ends, result.history, strict=True):
        assert {k: record[k] for k in end.record()} == end.record()
        assert record["act_saturated"] is not None and record["act_dead"] is None
    epoch_ended = [i for i, e in enumerate(events) if isinstance(e, EpochEnded)]
    # The signal, then the weights, then the epoch's record that holds both.
    assert all(isinstance(events[i - 2], ActivationsMeasured) for i in epoch_ended)
    assert all(type(events[i - 1]).__name__ == "WeightsMeasured" for i in epoch_ended)
    # The last epoch's figures are those of the final weights (the last epoch was the best).
    if result.best_epoch == 2:
        assert ends[-1] == ActivationProbe(result.model, "tanh", x).measure(2, steps)


def test_mid_epoch_probes_come_with_reports_and_are_throttled(
    digits: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "REPORT_INTERVAL", 0.0)  # a report every step
    monkeypatch.setattr(engine, "PROBE_INTERVAL", 0.0)  # and a probe with each
    events: list[Event] = []
    train(make_config(epochs=1), digits, emit=events.append)
    reports = [(e.epoch, e.step) for e in events if isinstance(e, StepMeasured)]
    probes = [(e.epoch, e.step) for e in events if isinstance(e, ActivationsMeasured)]
    steps = math.ceil(len(digits.x_train) / 50)
    assert reports == [(1, step) for step in range(1, steps + 1)]
    assert probes == [(0, 0), *reports]  # never more often than the reports

    monkeypatch.setattr(engine, "PROBE_INTERVAL", 3600.0)
    events.clear()
    train(make_config(epochs=1), digits, emit=events.append)
    probes = [(e.epoch, e.step) for e in events if isinstance(e, ActivationsMeasured)]
    assert probes == [(0, 0), (1, steps)]  # start and epoch end, whatever the interval


def test_the_probe_changes_no_number_of_the_run(digits: Dataset) -> None:
    config = make_config(model=ModelConfig(hidden=(32, 16), dropout=0.2, batchnorm=True))
    probed = train(config, digits)
    plain = train(config, digits, forward_probe=False)
    timing = {"seconds", "samples_per_s"}
    for with_probe, without in zip(probed.history, plain.history, strict=True):
        assert not any(key.startswith("act_") for key in without)
        assert {k: v for k, v in with_probe.items() if k not in timing and k in without} == {
            k: v for k, v in without.items() if k not in timing
        }


def test_a_run_stopped_before_its_first_step_has_its_initial_signal(digits: Dataset) -> None:
    controls = RunControls()
    controls.stop()
    events: list[Event] = []
    result = train(make_config(), digits, controls, events.append)
    assert result.status == "stopped" and result.history == []
    assert [e.epoch for e in events if isinstance(e, ActivationsMeasured)] == [0]
