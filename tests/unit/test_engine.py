"""The engine against a trusted oracle: the same computation written in plain PyTorch."""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from dnn_tui.config import ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig, validate
from dnn_tui.data import Dataset, load_dataset
from dnn_tui.model import build_mlp, linear_layers
from dnn_tui.training import engine
from dnn_tui.training.controls import RunControls
from dnn_tui.training.engine import REPORT_INTERVAL, evaluate, train
from dnn_tui.training.events import (
    ControlApplied,
    EpochEnded,
    Event,
    RunFinished,
    RunStarted,
    StepMeasured,
    WeightsMeasured,
)

TIMING = {"seconds", "samples_per_s"}


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset(DataConfig(dataset="digits", limit=400))


def make_config(**train: object) -> RunConfig:
    model = train.pop("model", ModelConfig(hidden=(32, 16)))
    base = TrainConfig(epochs=1, batch_size=50, device="cpu")
    return validate(RunConfig(model=model, train=replace(base, **train)))  # type: ignore[arg-type]


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


def plain_training(
    config: RunConfig,
    data: Dataset,
    steps: int | None = None,
    correct: list[int] | None = None,
):
    """The reference loop: what the engine promises to compute, without probes or controls.

    ``correct`` receives each step's count of right predictions (the training accuracy).
    """
    t = config.train
    torch.manual_seed(t.seed)
    model = build_mlp(config.model, data.input_dim, data.classes)
    generator = torch.Generator().manual_seed(t.seed)
    if t.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=t.lr)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=t.lr)
    n = len(data.x_train)
    bs = n if t.batch_size == "full" else t.batch_size
    starts = list(range(0, n, bs))
    if config.model.batchnorm and len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()  # batch norm: a one-sample last batch joins the one before it
    ends = [*starts[1:], n]
    losses, grads = [], []
    for _ in range(t.epochs):
        order = torch.randperm(n, generator=generator)
        for start, end in zip(starts, ends, strict=True):
            index = order[start:end]
            logits = model(data.x_train[index])
            loss = F.cross_entropy(logits, data.y_train[index])
            objective = loss
            if t.l2:
                objective = loss + t.l2 * sum(
                    m.weight.pow(2).sum() for _, m in linear_layers(model)
                )
            optimizer.zero_grad()
            objective.backward()
            grads.append({n: p.grad.clone() for n, p in model.named_parameters()})
            if t.clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), t.clip_norm)
            optimizer.step()
            losses.append(loss.item())
            if correct is not None:
                correct.append(int((logits.argmax(1) == data.y_train[index]).sum()))
            if steps is not None and len(losses) == steps:
                return model, losses, grads
    return model, losses, grads


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_one_epoch_matches_plain_pytorch(digits: Dataset, optimizer: str) -> None:
    config = make_config(optimizer=optimizer, lr=0.05 if optimizer == "sgd" else 0.001)
    result = train(config, digits)
    correct: list[int] = []
    model, losses, _ = plain_training(config, digits, correct=correct)

    # Fused Adam and PyTorch's default Adam round differently in the last bits.
    tolerance = 1e-6 if optimizer == "sgd" else 1e-5
    for (name, ours), theirs in zip(
        result.model.state_dict().items(), model.state_dict().values(), strict=True
    ):
        assert torch.allclose(ours, theirs, atol=tolerance), name
    record = result.history[0]
    assert record["train_loss"] == pytest.approx(sum(losses) / len(losses), rel=1e-5)
    assert record["train_acc"] == sum(correct) / len(digits.x_train)
    val = evaluate(model, digits.x_val, digits.y_val)
    assert record["val_loss"] == pytest.approx(val["loss"], rel=1e-4)
    assert record["val_acc"] == pytest.approx(val["acc"])


def test_training_accuracy_matches_plain_pytorch(
    digits: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "REPORT_INTERVAL", 0.0)  # a report after every step
    config = make_config(optimizer="sgd", lr=0.5, batch_size=30, epochs=2)
    recorder = Recorder()
    result = train(config, digits, emit=recorder)
    correct: list[int] = []
    plain_training(config, digits, correct=correct)
    n, steps = len(digits.x_train), math.ceil(len(digits.x_train) / 30)
    for epoch in (1, 2):
        counts = correct[(epoch - 1) * steps : epoch * steps]
        reports = [s for s in recorder.of(StepMeasured) if s.epoch == epoch]
        assert [r.step for r in reports] == list(range(1, steps + 1))
        for report in reports:
            seen = min(report.step * 30, n)
            assert report.acc == sum(counts[: report.step]) / seen
        assert result.history[epoch - 1]["train_acc"] == sum(counts) / n
    assert 0.3 < result.history[-1]["train_acc"] < 1.0  # it learned, and not everything


def test_l2_penalty_is_added_to_the_objective(digits: Dataset) -> None:
    config = make_config(optimizer="sgd", lr=0.1, l2=0.01, batch_size="full", epochs=3)
    result = train(config, digits)
    model, _, _ = plain_training(config, digits)
    without = train(replace(config, train=replace(config.train, l2=0.0)), digits)
    for ours, theirs in zip(result.model.parameters(), model.parameters(), strict=True):
        assert torch.allclose(ours, theirs, atol=1e-6)
    # The penalty shrinks the weights relative to the same run without it.
    fc1 = next(iter(result.model.parameters()))
    assert fc1.norm() < next(iter(without.model.parameters())).norm()


def test_gradient_norms_are_measured_before_clipping(digits: Dataset) -> None:
    config = make_config(optimizer="sgd", lr=0.1, batch_size="full", clip_norm=0.01)
    recorder = Recorder()
    train(config, digits, emit=recorder)
    _, _, grads = plain_training(config, digits)
    step = recorder.of(StepMeasured)[-1]
    started = recorder.of(RunStarted)[0]
    expected = [grads[0][f"{layer}.weight"].norm().item() for layer in started.layers]
    assert list(step.grad_norm) == pytest.approx(expected, rel=1e-5)
    expected_params = [grads[0][name].norm().item() for name in started.parameters]
    assert list(step.param_grad_norm) == pytest.approx(expected_params, rel=1e-5)
    total = math.sqrt(sum(g.norm().item() ** 2 for g in grads[0].values()))
    assert step.grad_norm_total == pytest.approx(total, rel=1e-5)
    assert total > 0.01  # so clipping acted, yet the reported norm is the unclipped one


def test_clipping_bounds_the_norm_and_matches_clip_grad_norm(digits: Dataset) -> None:
    config = make_config(optimizer="sgd", lr=0.5, clip_norm=0.05, epochs=2)
    recorder = Recorder()
    result = train(config, digits, emit=recorder)
    model, _, _ = plain_training(config, digits)
    for ours, theirs in zip(result.model.parameters(), model.parameters(), strict=True):
        assert torch.allclose(ours, theirs, atol=1e-6)
    for step in recorder.of(StepMeasured):
        assert step.grad_norm_clipped <= 0.05 + 1e-6
        assert step.grad_norm_total > step.grad_norm_clipped
    assert all(r["clipped_fraction"] == 1.0 for r in result.history)


def test_no_clipping_reports_zero_clipped_share(digits: Dataset) -> None:
    result = train(make_config(), digits)
    assert result.history[0]["clipped_fraction"] == 0.0


def test_early_stopping_restores_the_best_epoch(digits: Dataset) -> None:
    # A big network on 400 samples with a large learning rate overfits within a few epochs.
    config = make_config(model=ModelConfig(hidden=(256, 256)), lr=0.01, epochs=40, early_stopping=2)
    result = train(config, digits)
    assert result.status == "early_stopped"
    val_losses = [r["val_loss"] for r in result.history]
    assert result.best_epoch == val_losses.index(min(val_losses)) + 1
    assert len(result.history) == result.best_epoch + 2
    restored = evaluate(result.model, digits.x_val, digits.y_val)
    assert restored["loss"] == pytest.approx(min(val_losses), rel=1e-5)


def test_best_weights_are_restored_without_early_stopping(digits: Dataset) -> None:
    config = make_config(model=ModelConfig(hidden=(256, 256)), lr=0.01, epochs=8)
    result = train(config, digits)
    assert result.status == "completed"
    val_losses = [r["val_loss"] for r in result.history]
    restored = evaluate(result.model, digits.x_val, digits.y_val)
    assert restored["loss"] == pytest.approx(min(val_losses), rel=1e-5)
    assert result.test == evaluate(result.model, digits.x_test, digits.y_test)


def test_divergence_stops_before_the_optimizer_step(digits: Dataset) -> None:
    config = make_config(
        optimizer="sgd", lr=1e12, model=ModelConfig(hidden=(64,) * 4, init="he"), epochs=3
    )
    recorder = Recorder()
    result = train(config, digits, emit=recorder)
    assert result.status == "diverged"
    assert set(result.diverged) == {"epoch", "step", "layer", "clip_norm", "lr"}
    assert result.diverged["clip_norm"] is None and result.diverged["lr"] == 1e12
    assert result.partial_epoch is not None
    assert result.partial_epoch["epoch"] == result.diverged["epoch"]
    assert result.partial_epoch["steps"] == result.diverged["step"] - 1
    assert result.diverged["layer"] in {*result.layers, "loss"}
    assert all(torch.isfinite(p).all() for p in result.model.parameters())
    finished = recorder.of(RunFinished)[0]
    assert finished.status == "diverged" and finished.diverged == result.diverged
    # The plain loop, run as many steps as the engine took, confirms the step is the first bad one.
    steps_done = (result.diverged["epoch"] - 1) * 8 + result.diverged["step"] - 1
    model, _, _ = plain_training(config, digits, steps=steps_done)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_stop_ends_the_run_within_one_step(digits: Dataset) -> None:
    controls = RunControls()
    recorder = Recorder()

    def emit(event: Event) -> None:
        recorder(event)
        if isinstance(event, StepMeasured):
            controls.stop()

    config = make_config(batch_size=10, epochs=50)
    result = train(config, digits, controls, emit)
    assert result.status == "stopped"
    steps = recorder.of(StepMeasured)
    assert len(steps) == 1
    last = steps[0]
    following = (
        (last.epoch + 1, 1) if last.step == last.steps_per_epoch else (last.epoch, last.step + 1)
    )
    applied = recorder.of(ControlApplied)
    assert [(a.kind, (a.epoch, a.step)) for a in applied] == [("stop", following)]


def test_a_run_stopped_in_its_first_epoch_claims_no_test_accuracy(digits: Dataset) -> None:
    """No epoch ended, so no weights were kept: testing the untrained ones says nothing."""
    controls = RunControls()
    controls.stop()  # applies at the first step
    result = train(make_config(batch_size=10, epochs=5), digits, controls)
    assert result.status == "stopped" and result.history == []
    assert result.best_epoch is None and result.test is None


def test_controls_take_effect_at_the_next_step_and_are_recorded(digits: Dataset) -> None:
    controls = RunControls(lr=0.001)
    seen: list[StepMeasured] = []

    def emit(event: Event) -> None:
        if isinstance(event, StepMeasured):
            seen.append(event)
            if len(seen) == 1:
                controls.toggle_clipping()
                controls.scale_clip_norm(0.5)
                controls.set_lr(0.002)

    config = make_config(batch_size="full", epochs=3)
    result = train(config, digits, controls, emit)
    assert result.history[0]["events"] == []
    assert result.history[1]["events"] == [
        {"step": 1, "kind": "clipping", "value": True},
        {"step": 1, "kind": "clip_norm", "value": 0.5},
        {"step": 1, "kind": "lr", "value": 0.002},
    ]
    assert [r["lr"] for r in result.history] == [0.001, 0.002, 0.002]
    assert seen[1].clipping and seen[1].clip_norm == 0.5 and not seen[0].clipping


def test_pause_blocks_until_resumed(digits: Dataset) -> None:
    controls = RunControls()
    paused = threading.Event()

    def emit(event: Event) -> None:
        if isinstance(event, EpochEnded) and event.record["epoch"] == 1:
            controls.pause()
            paused.set()

    config = make_config(batch_size="full", epochs=2)
    outcome: dict[str, object] = {}
    thread = threading.Thread(
        target=lambda: outcome.update(r=train(config, digits, controls, emit))
    )
    thread.start()
    assert paused.wait(30)
    thread.join(0.3)
    assert thread.is_alive()  # held at the first step of epoch 2
    controls.resume()
    thread.join(30)
    result = outcome["r"]
    assert result.status == "completed"  # type: ignore[attr-defined]
    kinds = [(e["kind"], e["value"]) for e in result.history[1]["events"]]  # type: ignore[attr-defined]
    assert kinds == [("pause", True), ("pause", False)]


def test_same_seed_gives_identical_history(digits: Dataset) -> None:
    config = make_config(model=ModelConfig(hidden=(32, 16), dropout=0.2), epochs=2)

    def numbers(result) -> list[dict]:
        return [{k: v for k, v in r.items() if k not in TIMING} for r in result.history]

    first, second = train(config, digits), train(config, digits)
    assert numbers(first) == numbers(second)
    other = train(replace(config, train=replace(config.train, seed=1)), digits)
    assert numbers(other) != numbers(first)


def test_events_arrive_in_order_and_step_reports_are_throttled(digits: Dataset) -> None:
    recorder = Recorder()
    result = train(make_config(epochs=2, batch_size=10), digits, emit=recorder)
    kinds = [type(e).__name__ for e in recorder.events]
    assert kinds[0] == "RunStarted" and kinds[-1] == "RunFinished"
    assert kinds.count("EpochEnded") == 2
    assert result.history[-1]["epoch"] == 2
    steps = recorder.of(StepMeasured)
    # Every epoch ends with a report of its last step ...
    assert [s.epoch for s in steps if s.step == s.steps_per_epoch] == [1, 2]
    # ... and within an epoch, reports are at least REPORT_INTERVAL apart, whatever the step rate.
    for earlier, later in itertools.pairwise(steps):
        if later.epoch == earlier.epoch and later.step < later.steps_per_epoch:
            assert later.elapsed - earlier.elapsed >= REPORT_INTERVAL * 0.99


def test_a_change_made_before_the_first_step_applies_at_the_first_step(digits: Dataset) -> None:
    controls = RunControls(lr=0.001)
    controls.toggle_clipping()  # pressed while the data was still loading
    result = train(make_config(batch_size="full"), digits, controls)
    assert result.history[0]["events"] == [{"step": 1, "kind": "clipping", "value": True}]


def test_batch_norm_merges_a_one_sample_last_batch(digits: Dataset) -> None:
    """``--preset batchnorm --limit 501`` failed with PyTorch's "Expected more than 1 value per
    channel"; the last sample now joins the batch before it."""
    data = replace(digits, x_train=digits.x_train[:301], y_train=digits.y_train[:301])
    model = ModelConfig(hidden=(16, 8), batchnorm=True)
    config = make_config(model=model, batch_size=50, epochs=2, optimizer="sgd", lr=0.05)
    recorder = Recorder()
    result = train(config, data, emit=recorder)
    assert result.status == "completed"
    assert recorder.of(RunStarted)[0].steps_per_epoch == 6
    reference, losses, _ = plain_training(config, data)
    assert len(losses) == 12
    for (name, ours), theirs in zip(
        result.model.state_dict().items(), reference.state_dict().values(), strict=True
    ):
        if result.best_epoch == 2:
            assert torch.allclose(ours, theirs, atol=1e-6), name


@pytest.mark.parametrize(
    ("rows", "batch_size", "field"), [(1, 10, "batchnorm"), (300, 1, "batch_size")]
)
def test_batch_norm_settings_that_cannot_train_are_refused_up_front(
    digits: Dataset, rows: int, batch_size: int, field: str
) -> None:
    data = replace(digits, x_train=digits.x_train[:rows], y_train=digits.y_train[:rows])
    config = make_config(model=ModelConfig(hidden=(8,), batchnorm=True), batch_size=batch_size)
    recorder = Recorder()
    with pytest.raises(ConfigError, match=f"^{field}: "):
        train(config, data, emit=recorder)
    assert recorder.events == []  # refused before the run started


def test_a_failure_mid_run_ends_it_as_failed_with_the_best_epoch_kept(digits: Dataset) -> None:
    recorder = Recorder()

    def emit(event: Event) -> None:
        recorder(event)
        if isinstance(event, StepMeasured) and event.epoch == 2:
            raise RuntimeError("value cannot be converted to type float without overflow")

    config = make_config(batch_size=10, epochs=5, optimizer="sgd", lr=0.05)
    result = train(config, digits, emit=emit)
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.startswith("epoch 2, step ")
    assert "RuntimeError: value cannot be converted" in result.error
    assert [r["epoch"] for r in result.history] == [1]
    assert result.best_epoch == 1 and result.test is not None
    one_epoch = make_config(batch_size=10, epochs=1, optimizer="sgd", lr=0.05)
    reference, _, _ = plain_training(one_epoch, digits)
    for ours, theirs in zip(
        result.model.state_dict().values(), reference.state_dict().values(), strict=True
    ):
        assert torch.allclose(ours, theirs, atol=1e-6)
    finished = recorder.of(RunFinished)[0]
    assert finished.status == "failed" and finished.error == result.error
    assert finished.partial_epoch is not None and finished.partial_epoch["epoch"] == 2


def test_a_failure_before_any_epoch_keeps_no_weights(digits: Dataset) -> None:
    def emit(event: Event) -> None:
        if isinstance(event, StepMeasured):
            raise MemoryError

    result = train(make_config(batch_size=10), digits, emit=emit)
    assert result.status == "failed" and "out of memory" in (result.error or "")
    assert result.weights == {} and result.best_epoch is None and result.test is None


def test_a_failure_reported_by_the_run_files_ends_the_run_as_failed(digits: Dataset) -> None:
    controls = RunControls()

    def emit(event: Event) -> None:
        if isinstance(event, EpochEnded):
            controls.fail("runs/x/history.json: No space left on device")

    result = train(make_config(batch_size=50, epochs=5), digits, controls, emit)
    assert result.status == "failed"
    assert result.error == "runs/x/history.json: No space left on device"
    assert len(result.history) == 1 and result.best_epoch == 1


def test_the_stop_is_recorded_in_the_epoch_it_ended(digits: Dataset) -> None:
    controls = RunControls()

    def emit(event: Event) -> None:
        if isinstance(event, StepMeasured) and event.epoch == 2:
            controls.set_clipping(True)
            controls.stop()

    result = train(make_config(batch_size=10, epochs=5), digits, controls, emit)
    assert result.status == "stopped"
    partial = result.partial_epoch
    assert partial is not None and partial["epoch"] == len(result.history) + 1
    assert [e["kind"] for e in partial["events"]] == ["clipping", "stop"]
    assert all("stop" not in str(record["events"]) for record in result.history)
    assert partial["steps"] == partial["events"][-1]["step"] - 1


def test_a_run_keeps_the_heap_frozen_while_it_trains_and_gives_it_back(digits: Dataset) -> None:
    """The garbage collector leaves what was alive at the first step alone during the run
    (full collections walked 320k-440k objects, 150-300 ms each) and gets it back after."""
    import gc
    import weakref

    from dnn_tui.training.heap import frozen_heap

    frozen_during: list[int] = []

    def emit(event: Event) -> None:
        if isinstance(event, EpochEnded):
            frozen_during.append(gc.get_freeze_count())

    result = train(make_config(epochs=2), digits, emit=emit)
    assert result.status == "completed"
    assert len(frozen_during) == 2 and min(frozen_during) > 1000
    assert gc.get_freeze_count() == 0

    class Cycle:
        pass

    with frozen_heap():
        outer = gc.get_freeze_count()
        with frozen_heap():  # overlapping runs: the heap is given back when the last ends
            pass
        assert gc.get_freeze_count() >= outer > 0
    assert gc.get_freeze_count() == 0
    garbage = Cycle()
    garbage.me = garbage  # type: ignore[attr-defined]
    gone = weakref.ref(garbage)
    with frozen_heap():
        del garbage
    gc.collect()  # frozen during the run, collected once it ended
    assert gone() is None


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_weight_norms_and_update_ratios_match_plain_pytorch(digits: Dataset, optimizer: str):
    """The epoch's weight norms are the trained weights' L2 norms; its update ratios the norm
    of the last step's change over the weights' norm, as a plain loop computes them."""
    config = make_config(optimizer=optimizer, lr=0.05 if optimizer == "sgd" else 0.001, l2=1e-3)
    events = Recorder()
    result = train(config, digits, emit=events)
    steps = len(engine.batch_bounds(len(digits.x_train), 50, False))
    before, _, _ = plain_training(config, digits, steps=steps - 1)
    after, _, _ = plain_training(config, digits)
    record = result.history[0]
    layers = [m.weight.detach() for _, m in linear_layers(after)]
    previous = [m.weight.detach() for _, m in linear_layers(before)]
    norms = [torch.linalg.norm(w).item() for w in layers]
    ratios = [
        (torch.linalg.norm(w - p) / torch.linalg.norm(w)).item()
        for w, p in zip(layers, previous, strict=True)
    ]
    assert record["weight_norm"] == pytest.approx(norms, rel=1e-5)
    assert record["update_ratio"] == pytest.approx(ratios, rel=1e-3)
    assert len(record["weight_hist"]) == len(layers)
    for row, weights, half in zip(
        record["weight_hist"], layers, record["weight_hist_max"], strict=True
    ):
        assert sum(row) == pytest.approx(1.0)
        expected = torch.histc(weights.clamp(-half, half), len(row), -half, half) / weights.numel()
        assert row == pytest.approx(expected.tolist(), abs=1e-6)
    # The last report of the epoch says the same; the one before the first step has no update.
    last = events.of(StepMeasured)[-1]
    assert last.weight_norm == pytest.approx(norms, rel=1e-5)
    assert last.update_ratio == pytest.approx(ratios, rel=1e-3)
    initial, end = events.of(WeightsMeasured)
    assert initial.epoch == 0 and initial.update_ratio == (None,) * len(layers)
    torch.manual_seed(config.train.seed)
    fresh = build_mlp(config.model, digits.input_dim, digits.classes)
    assert initial.norm == pytest.approx(
        [torch.linalg.norm(m.weight).item() for _, m in linear_layers(fresh)], rel=1e-6
    )
    assert end.record() == {k: record[k] for k in end.record()}


def test_l2_keeps_the_weights_smaller(digits: Dataset) -> None:
    plain = train(make_config(epochs=3, lr=0.01), digits)
    l2 = train(make_config(epochs=3, lr=0.01, l2=0.05), digits)
    last = zip(l2.history[-1]["weight_norm"], plain.history[-1]["weight_norm"], strict=True)
    for ours, theirs in last:
        assert ours < theirs


def test_subnormals_are_flushed_during_the_epochs_and_kept_after() -> None:
    """Late in a long run subnormal moments slow every step; the epochs flush them to zero,
    and the thread's float mode is given back when the run ends."""
    smallest_normal = torch.finfo(torch.float32).tiny
    subnormal = torch.tensor([smallest_normal], dtype=torch.float32) / 4

    def survives() -> bool:
        return bool((subnormal * 1.0).item() != 0.0)

    seen: list[bool] = []

    def emit(event: object) -> None:
        if isinstance(event, EpochEnded):
            seen.append(survives())

    assert survives()
    config = RunConfig(
        model=ModelConfig(hidden=(8,)),
        data=DataConfig("moons", limit=100),
        train=TrainConfig(epochs=2, batch_size=50),
    )
    train(config, load_dataset(config.data), RunControls(), emit)
    assert seen == [False, False]  # flushed while the epochs ran
    assert survives()  # and IEEE floats again after
