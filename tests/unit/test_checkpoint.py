"""The checkpoint: what the engine captures at an epoch end, how the recorder paces its writes,
and how the loader reads it back (never pickle; a damaged one is refused by file and rule)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from dnn_tui.rundir.files import RunError, load_checkpoint
from dnn_tui.rundir.recorder import CHECKPOINT_SHARE, RunRecorder
from dnn_tui.training.checkpoint import (
    RNG_BATCHES,
    RNG_CPU,
    Checkpoint,
    capture,
    identity,
    restore,
)
from dnn_tui.training.events import EpochEnded
from tests.helpers.run_files import CONFIG, finished, record, started


def small_checkpoint(epoch: int) -> Checkpoint:
    tensors = {
        "model.fc1.weight": torch.full((2, 2), float(epoch)),
        RNG_CPU: torch.get_rng_state(),
        RNG_BATCHES: torch.Generator().manual_seed(epoch).get_state(),
    }
    return Checkpoint(epoch, 0.001, None, epoch, 0.5, tensors)


def build(seed: int) -> tuple[torch.nn.Module, torch.optim.Optimizer, torch.Generator]:
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Dropout(0.5), torch.nn.Linear(4, 2))
    return model, torch.optim.Adam(model.parameters(), lr=0.01), torch.Generator().manual_seed(seed)


def steps(model, optimizer, generator, count: int) -> list[torch.Tensor]:
    """Plain PyTorch steps: a shuffled batch, dropout (the CPU generator), Adam."""
    x = torch.arange(24.0).reshape(8, 3) / 24
    losses = []
    for _ in range(count):
        order = torch.randperm(8, generator=generator)
        loss = model(x[order]).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return losses


def test_the_capture_restores_a_model_optimizer_and_random_states_exactly() -> None:
    model, optimizer, generator = build(0)
    steps(model, optimizer, generator, 2)
    saved = capture(
        epoch=1,
        model=model,
        optimizer=optimizer,
        generator=generator,
        best_state=None,
        best_epoch=None,
        best_loss=float("inf"),
        lr=0.01,
        clip_norm=None,
    )
    assert {"optimizer.0.step", "optimizer.0.exp_avg", "optimizer.0.exp_avg_sq"} <= set(
        saved.tensors
    )
    expected = steps(model, optimizer, generator, 3)

    fresh = build(123)  # another run, elsewhere in its random streams
    assert restore(saved, *fresh) is None  # no best weights yet
    assert steps(*fresh, 3) == expected


def test_the_writes_are_paced_and_the_latest_is_written_at_the_end(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    checkpoints = [small_checkpoint(epoch) for epoch in range(1, 41)]
    for checkpoint in checkpoints:
        recorder(EpochEnded(record(checkpoint.epoch), 1, 40, checkpoint=checkpoint))
    recorder(finished())
    writes = recorder.checkpoint_writes
    assert 1 <= len(writes) < 40  # a write waits t / CHECKPOINT_SHARE after one that took t
    assert CHECKPOINT_SHARE == 0.02
    meta = json.loads((tmp_path / "checkpoint.json").read_text())
    assert meta["epoch"] == 40 and meta["identity"] == identity(CONFIG)
    loaded = load_checkpoint(tmp_path, identity(CONFIG))
    assert torch.equal(loaded.tensors["model.fc1.weight"], torch.full((2, 2), 40.0))
    assert loaded.best_epoch == 40 and loaded.lr == 0.001 and loaded.clip_norm is None


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (lambda m: m.update(schema=2), "schema: must be 1"),
        (lambda m: m.update(epoch=0), "epoch: must be an integer of at least 1"),
        (lambda m: m.update(lr="fast"), "lr: must be a number"),
        (lambda m: m.pop("random"), "random: missing"),
        (lambda m: m["tensors"].update(sha256="0" * 64), "does not match checkpoint.json"),
        (lambda m: m.update(identity="another"), "identity: a checkpoint of another config"),
    ],
)
def test_a_damaged_checkpoint_json_is_refused_naming_the_rule(
    tmp_path: Path, change, rule: str
) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    recorder(EpochEnded(record(1), 1, 3, checkpoint=small_checkpoint(1)))
    recorder(finished())
    meta = json.loads((tmp_path / "checkpoint.json").read_text())
    change(meta)
    (tmp_path / "checkpoint.json").write_text(json.dumps(meta))
    with pytest.raises(RunError, match=rule):
        load_checkpoint(tmp_path, identity(CONFIG))


def test_random_states_that_are_not_bytes_are_refused(tmp_path: Path) -> None:
    checkpoint = small_checkpoint(1)
    checkpoint.tensors[RNG_CPU] = torch.zeros(4)
    recorder = RunRecorder(tmp_path)
    recorder(started())
    recorder(EpochEnded(record(1), 1, 3, checkpoint=checkpoint))
    recorder(finished())
    with pytest.raises(RunError, match=r"checkpoint.safetensors: rng.torch_cpu: missing or not"):
        load_checkpoint(tmp_path, identity(CONFIG))


SCHEDULES = (
    {},
    {"schedule": "step", "step_size": 2, "gamma": 0.5},
    {"schedule": "cosine"},
    {"schedule": "plateau", "plateau_patience": 0, "gamma": 0.5, "lr": 1.0},
)
"""A continued run steps its lr schedule on from the checkpoint's, as one that never stopped."""


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: s.get("schedule", "none"))
def test_a_stopped_run_continues_with_the_numbers_of_an_uninterrupted_one(
    tmp_path: Path, schedule: dict[str, object]
) -> None:
    """Stopped at the first step of epoch 4 (its batch order drawn already), continued from
    the checkpoint of epoch 3: epochs 4 to 6 are those of a run that never stopped, lr
    included."""
    from dnn_tui.config import validate, with_options
    from dnn_tui.data import load_data
    from dnn_tui.rundir.files import read_history
    from dnn_tui.rundir.launch import record_run
    from dnn_tui.rundir.recorder import claim_run_dir
    from dnn_tui.rundir.resumption import prepare_resumption
    from dnn_tui.training.controls import RunControls

    options = {"dataset": "digits", "limit": 300, "hidden": (16, 8), "dropout": 0.2, **schedule}
    config = validate(with_options(CONFIG, {**options, "epochs": 6, "threads": 1}))
    data = load_data(config)

    def controls() -> RunControls:
        return RunControls(config.train.clip_norm, config.train.lr)

    stopped = controls()

    def stop_after_epoch_3(event: object) -> None:
        if isinstance(event, EpochEnded) and event.record["epoch"] == 3:
            stopped.stop()

    run = tmp_path / "stopped"
    result = record_run(config, claim_run_dir(run), data, stopped, stop_after_epoch_3)
    assert result is not None and result.status == "stopped"
    resumption = prepare_resumption(run, {})
    assert resumption.checkpoint.epoch == 3 and resumption.status == "stopped"
    record_run(resumption.config, resumption.folder, data, controls(), resume=resumption)
    whole = tmp_path / "whole"
    record_run(config, claim_run_dir(whole), data, controls())

    continued, uninterrupted = (
        read_history(run / "history.json"),
        read_history(whole / "history.json"),
    )
    assert continued["status"] == "completed"
    keys = ("train_loss", "train_acc", "val_loss", "val_acc", "grad_norm_total", "lr")
    if schedule:  # the schedule moved the lr (else the test would not test it)
        assert len({r["lr"] for r in uninterrupted["epochs"]}) > 1
    for a, b in zip(continued["epochs"], uninterrupted["epochs"], strict=True):
        assert a["epoch"] == b["epoch"]
        for key in keys:
            assert a[key] == pytest.approx(b[key], abs=1e-6), (a["epoch"], key)
    assert continued["test"]["acc"] == uninterrupted["test"]["acc"]


def test_a_diverged_run_keeps_its_last_finite_epoch_and_continues_from_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-finite loss at epoch 3, step 2: the checkpoint is epoch 2's end (before the bad
    step), and the run goes on from it with another learning rate."""
    import math

    from dnn_tui.config import validate, with_options
    from dnn_tui.data import load_data
    from dnn_tui.rundir.files import read_history
    from dnn_tui.rundir.launch import record_run
    from dnn_tui.rundir.recorder import claim_run_dir
    from dnn_tui.rundir.resumption import prepare_resumption
    from dnn_tui.training.controls import RunControls
    from dnn_tui.training.probes import GradientProbe

    options = {"dataset": "digits", "limit": 300, "hidden": (16,), "epochs": 4, "threads": 1}
    config = validate(with_options(CONFIG, options))
    data = load_data(config)
    measure = GradientProbe.measure
    calls = {"n": 0}
    steps_per_epoch = math.ceil(len(data.x_train) / config.train.batch_size)

    def poisoned(self: GradientProbe, loss: torch.Tensor) -> tuple[list[float], float]:
        calls["n"] += 1
        norms, value = measure(self, loss)
        return norms, math.nan if calls["n"] == 2 * steps_per_epoch + 2 else value

    monkeypatch.setattr(GradientProbe, "measure", poisoned)
    run = tmp_path / "run"
    result = record_run(config, claim_run_dir(run), data, RunControls(None, config.train.lr))
    assert result is not None and result.status == "diverged"
    assert result.diverged is not None and result.diverged["epoch"] == 3
    monkeypatch.setattr(GradientProbe, "measure", measure)
    resumption = prepare_resumption(run, {"lr": 0.0005})
    assert resumption.checkpoint.epoch == 2 and resumption.status == "diverged"
    controls = RunControls(None, 0.0005)
    record_run(resumption.config, resumption.folder, data, controls, resume=resumption)
    history = read_history(run / "history.json")
    assert history["status"] == "completed" and history["diverged"] is None
    assert [r["epoch"] for r in history["epochs"]] == [1, 2, 3, 4]
    assert [r["lr"] for r in history["epochs"]] == [config.train.lr] * 2 + [0.0005] * 2
