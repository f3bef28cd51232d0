"""Learning-rate schedules: the engine's lr per epoch against torch's schedulers on a plain
optimizer and their closed forms; a live change after a scheduled one; the settings' rules
and their config round trip."""

from __future__ import annotations

import math

import pytest
import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau

from dnn_tui.config import (
    ConfigError,
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
    describe,
    dumps,
    loads,
    validate,
)
from dnn_tui.data import Dataset, load_dataset
from dnn_tui.training.controls import RunControls
from dnn_tui.training.engine import train
from dnn_tui.training.events import ControlApplied, EpochEnded, Event


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset(DataConfig(dataset="digits", limit=200))


def make_config(**train: object) -> RunConfig:
    base = {"epochs": 6, "batch_size": 50, "device": "cpu", "lr": 0.01, "threads": 1}
    settings = TrainConfig(**{**base, **train})  # type: ignore[arg-type]
    return validate(RunConfig(model=ModelConfig(hidden=(16,)), train=settings))


def epoch_lrs(config: RunConfig, data: Dataset) -> tuple[list[float], list[float]]:
    history = train(config, data).history
    return [r["lr"] for r in history], [r["val_loss"] for r in history]


def test_step_cuts_the_lr_every_step_size_epochs(digits: Dataset) -> None:
    config = make_config(schedule="step", step_size=2, gamma=0.5)
    lrs, _ = epoch_lrs(config, digits)
    assert lrs == pytest.approx([0.01 * 0.5 ** ((e - 1) // 2) for e in range(1, 7)], rel=1e-12)


def test_cosine_falls_to_zero_over_the_epochs(digits: Dataset) -> None:
    lrs, _ = epoch_lrs(make_config(schedule="cosine"), digits)
    closed = [0.01 * (1 + math.cos(math.pi * (e - 1) / 6)) / 2 for e in range(1, 7)]
    assert lrs == pytest.approx(closed, rel=1e-9)


@pytest.mark.parametrize(
    ("schedule", "optimizer", "lr"),
    # SGD at lr 3 bounces: its val loss stalls, which the plateau schedule answers.
    [("step", "adam", 0.01), ("cosine", "adam", 0.01), ("plateau", "sgd", 3.0)],
)
def test_each_schedule_matches_torch_on_a_plain_optimizer(
    digits: Dataset, schedule: str, optimizer: str, lr: float
) -> None:
    config = make_config(
        schedule=schedule, step_size=2, gamma=0.3, plateau_patience=0, optimizer=optimizer, lr=lr
    )
    lrs, val_losses = epoch_lrs(config, digits)
    plain = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = {
        "step": lambda: torch.optim.lr_scheduler.StepLR(plain, 2, gamma=0.3),
        "cosine": lambda: torch.optim.lr_scheduler.CosineAnnealingLR(plain, T_max=6),
        "plateau": lambda: ReduceLROnPlateau(plain, factor=0.3, patience=0),
    }[schedule]()
    expected = []
    for val_loss in val_losses:
        expected.append(plain.param_groups[0]["lr"])
        plain.step()
        if isinstance(scheduler, ReduceLROnPlateau):
            scheduler.step(val_loss)
        else:
            scheduler.step()
    assert lrs == pytest.approx(expected, rel=1e-12)
    assert len(set(lrs)) > 1  # the schedule did change the lr


def test_no_schedule_keeps_the_lr(digits: Dataset) -> None:
    lrs, _ = epoch_lrs(make_config(epochs=3), digits)
    assert lrs == [0.01] * 3


def test_a_live_change_after_a_scheduled_one_wins_and_the_schedule_goes_on_from_it(
    digits: Dataset,
) -> None:
    config = make_config(schedule="step", step_size=1, gamma=0.5, epochs=4)
    controls = RunControls(config.train.clip_norm, config.train.lr)
    applied: list[ControlApplied] = []

    def emit(event: Event) -> None:
        if isinstance(event, EpochEnded) and event.record["epoch"] == 2:
            controls.set_lr(0.02)  # asked as epoch 2 ends, before its scheduled cut
        if isinstance(event, ControlApplied):
            applied.append(event)

    history = train(config, digits, controls, emit).history
    assert [r["lr"] for r in history] == pytest.approx([0.01, 0.005, 0.02, 0.01], rel=1e-12)
    assert [(e.epoch, e.step, e.kind, e.value) for e in applied] == [(3, 1, "lr", 0.02)]
    assert history[2]["events"] == [{"step": 1, "kind": "lr", "value": 0.02}]
    assert controls.lr == pytest.approx(0.01)  # the status line shows the schedule's lr


def test_the_schedule_settings_round_trip_through_a_config_file() -> None:
    config = make_config(schedule="plateau", gamma=0.25, plateau_patience=4, step_size=3)
    again = loads(dumps(config))
    assert again == config
    assert again.train.schedule == "plateau" and again.train.gamma == 0.25
    old = loads("[train]\nlr = 0.01\n")  # a file from before schedules: no schedule
    assert old.train.schedule == "none"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"schedule": "linear"}, "schedule: must be one of none, step, cosine, plateau"),
        ({"gamma": 1.0}, "gamma: the lr factor must be below 1"),
        ({"gamma": 0.0}, "gamma: the lr factor must be > 0"),
        ({"step_size": 0}, "step_size: must be an integer from 1"),
        ({"plateau_patience": -1}, "plateau_patience: must be an integer from 0"),
    ],
)
def test_bad_schedule_settings_are_refused_by_name(
    settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        make_config(**settings)


def test_the_one_line_description_names_a_schedule() -> None:
    assert describe(make_config(schedule="cosine")).endswith("cosine schedule, batch 50")
    assert "schedule" not in describe(make_config())
