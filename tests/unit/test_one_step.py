"""One step of a paused run (``n``, ``{"kind": "step"}``): exactly one optimizer step each,
recorded as a control, with every figure reported; the same through control.jsonl."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from dnn_tui.config import DataConfig, ModelConfig, RunConfig, TrainConfig, validate
from dnn_tui.data import Dataset, load_dataset
from dnn_tui.model import build_mlp
from dnn_tui.rundir import channel as channel_module
from dnn_tui.rundir.channel import RunChannel, apply_request
from dnn_tui.rundir.follow import RemoteControls
from dnn_tui.rundir.recorder import claim_run_dir
from dnn_tui.training import engine
from dnn_tui.training.controls import RunControls
from dnn_tui.training.engine import RunResult, train
from dnn_tui.training.events import (
    ActivationsMeasured,
    ControlApplied,
    EpochEnded,
    Event,
    StepMeasured,
    WeightsMeasured,
)
from tests.helpers.run_files import run_channel
from tests.helpers.waiting import wait_for


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset(DataConfig(dataset="digits", limit=200))


def make_config(**train: object) -> RunConfig:
    base = TrainConfig(epochs=3, batch_size=64, device="cpu", optimizer="adam", lr=0.01)
    return validate(
        RunConfig(model=ModelConfig(hidden=(16,)), train=replace(base, **train))  # type: ignore[arg-type]
    )


class SteppedRun:
    """A run started paused on its own thread; its events and its optimizer are kept."""

    def __init__(self, config: RunConfig, data: Dataset, monkeypatch: pytest.MonkeyPatch):
        self.controls = RunControls(config.train.clip_norm, config.train.lr)
        self.controls.pause()  # taken at the first step: the run waits before it
        self.events: list[Event] = []
        self.optimizers: list[torch.optim.Optimizer] = []
        made = engine.make_optimizer

        def keep(*args: object) -> torch.optim.Optimizer:
            optimizer = made(*args)  # type: ignore[arg-type]
            self.optimizers.append(optimizer)
            return optimizer

        monkeypatch.setattr(engine, "make_optimizer", keep)
        self.result: RunResult | None = None
        self.thread = threading.Thread(target=self._train, args=(config, data))
        self.thread.start()

    def _train(self, config: RunConfig, data: Dataset) -> None:
        self.result = train(config, data, self.controls, self.events.append)

    def of(self, kind: type) -> list:
        return [event for event in list(self.events) if isinstance(event, kind)]

    def wait_steps(self, count: int) -> None:
        wait_for(lambda: len(self.of(StepMeasured)) >= count, f"{count} reported steps", 30)

    def adam_steps(self) -> int:
        (optimizer,) = self.optimizers
        return {int(state["step"]) for state in optimizer.state.values()}.pop()

    def stop(self) -> RunResult:
        self.controls.stop()
        self.thread.join(30)
        assert self.result is not None
        return self.result


def test_three_steps_of_a_paused_run_are_three_optimizer_steps(
    digits: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = SteppedRun(make_config(), digits, monkeypatch)
    wait_for(lambda: run.of(ControlApplied), "the pause taken", 30)
    for _ in range(3):
        assert run.controls.step()
    run.wait_steps(3)
    run.thread.join(0.3)
    assert run.thread.is_alive() and run.controls.paused  # waits again after the third
    assert run.adam_steps() == 3
    assert [event.step for event in run.of(StepMeasured)] == [1, 2, 3]  # each one reported
    # every panel shows each step: the signal and the weights are measured after it
    assert [event.step for event in run.of(ActivationsMeasured)][1:] == [1, 2, 3]
    assert [event.epoch for event in run.of(WeightsMeasured)] == [0, 1, 1, 1]
    result = run.stop()
    assert result.status == "stopped"
    assert result.partial_epoch is not None and result.partial_epoch["steps"] == 3
    kinds = [(e["step"], e["kind"]) for e in result.partial_epoch["events"]]
    assert kinds == [(1, "pause"), (1, "step"), (2, "step"), (3, "step"), (4, "stop")]


def test_stepped_weights_equal_plain_pytorch(
    digits: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(optimizer="sgd", lr=0.1)
    run = SteppedRun(config, digits, monkeypatch)
    for _ in range(2):
        wait_for(lambda: run.controls.step(), "a paused run to step", 30)
    run.wait_steps(2)
    result = run.stop()

    torch.manual_seed(config.train.seed)
    model = build_mlp(config.model, digits.input_dim, digits.classes)
    generator = torch.Generator().manual_seed(config.train.seed)
    order = torch.randperm(len(digits.x_train), generator=generator)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for begin in (0, 64):
        batch = order[begin : begin + 64]
        optimizer.zero_grad()
        F.cross_entropy(model(digits.x_train[batch]), digits.y_train[batch]).backward()
        optimizer.step()
    for name, value in model.state_dict().items():
        torch.testing.assert_close(result.weights[name], value, rtol=0, atol=1e-6)


def test_stepping_across_an_epoch_boundary_ends_the_epoch(
    digits: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = SteppedRun(make_config(batch_size=100), digits, monkeypatch)
    wait_for(lambda: run.of(ControlApplied), "the pause taken", 30)
    per_epoch = -(-len(digits.x_train) // 100)
    for _ in range(per_epoch + 1):
        assert run.controls.step()
    run.wait_steps(per_epoch + 1)
    wait_for(lambda: run.of(EpochEnded), "the first epoch's end", 30)
    result = run.stop()
    assert run.adam_steps() == per_epoch + 1
    (epoch,) = result.history
    assert epoch["epoch"] == 1 and epoch["val_loss"] > 0
    assert [e["kind"] for e in epoch["events"]] == ["pause"] + ["step"] * per_epoch
    assert result.partial_epoch is not None
    assert result.partial_epoch["epoch"] == 2 and result.partial_epoch["steps"] == 1
    assert [e["kind"] for e in result.partial_epoch["events"]] == ["step", "stop"]


def test_a_step_needs_a_paused_run() -> None:
    controls = RunControls()
    assert not controls.step()
    assert controls.version == 0
    controls.pause()
    controls.stop()
    assert not controls.step()
    assert [kind for kind, _ in controls.take_changes()] == ["pause", "stop"]


def test_steps_are_taken_one_per_look_and_what_follows_waits() -> None:
    controls = RunControls()
    controls.pause()
    controls.step()
    controls.step()
    controls.resume()
    assert [kind for kind, _ in controls.take_changes()] == ["pause", "step"]
    version = controls.version
    assert [kind for kind, _ in controls.take_changes()] == ["step"]
    assert controls.version > version  # the engine looks again at its next step
    assert controls.take_changes() == [("pause", False)]


def test_a_paused_wait_ends_for_a_step() -> None:
    controls = RunControls()
    controls.pause()
    done = threading.Event()
    waiter = threading.Thread(target=lambda: (controls.wait_while_paused(), done.set()))
    waiter.start()
    assert not done.wait(0.2)
    controls.step()
    assert done.wait(10)
    waiter.join()


def test_step_requests_are_checked() -> None:
    controls = RunControls()
    assert "paused" in str(apply_request(controls, {"kind": "step", "value": True}))
    assert "not a steering request" in str(apply_request(controls, {"kind": "step", "value": 1}))
    controls.pause()
    assert apply_request(controls, {"kind": "step", "value": True}) is None
    assert [kind for kind, _ in controls.take_changes()] == ["pause", "step"]


def test_step_requests_in_control_jsonl_are_counted_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(channel_module, "MIN_APPLY_S", 0.0)
    controls = RunControls()
    folder, channel, notes = run_channel(tmp_path / "run", controls)
    lines = '{"kind": "pause", "value": true}\n' + '{"kind": "step", "value": true}\n' * 3
    (tmp_path / "run" / "control.jsonl").write_text(lines)
    for _ in range(4):
        channel.poll()
    taken = []
    while changes := controls.take_changes():
        taken += [kind for kind, _ in changes]
    assert taken == ["pause", "step", "step", "step"]
    assert channel.ignored == 0 and not notes
    channel.close()
    folder.close()


def test_a_watcher_sends_a_step_of_a_paused_run(tmp_path: Path) -> None:
    folder = claim_run_dir(tmp_path / "run")
    run_side = RunControls()
    channel = RunChannel(folder, run_side)
    watcher = RemoteControls(tmp_path / "run", None, 0.1)
    assert not watcher.step()  # not paused: nothing sent
    watcher.pause()
    assert watcher.step() and watcher.pending
    lines = (tmp_path / "run" / "control.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines][-1] == {"kind": "step", "value": True}
    channel.poll()
    assert [kind for kind, _ in run_side.take_changes()] == ["pause", "step"]
    watcher.observe(ControlApplied(1, 2, "pause", True))
    watcher.observe(ControlApplied(1, 2, "step", True))
    assert not watcher.pending and watcher.paused
    channel.close()
    folder.close()
