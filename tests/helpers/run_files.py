"""Engine events and run files for the tests of the run directory (recorder, loader, follow)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import torch

from dnn_tui import config as cfg
from dnn_tui.fileio import Folder
from dnn_tui.rundir.channel import RunChannel
from dnn_tui.rundir.recorder import claim_run_dir
from dnn_tui.training.activations import HIST_BINS
from dnn_tui.training.controls import RunControls
from dnn_tui.training.events import ActivationsMeasured, RunFinished, RunStarted, WeightsMeasured

CONFIG = cfg.with_options(
    cfg.RunConfig(preset="unit"), {"dataset": "digits", "hidden": (8, 4), "epochs": 3}
)
LAYERS = ("fc1", "fc2", "fc3")
DATASET = {"name": "digits", "train": 10, "val": 5, "test": 5, "input_dim": 64, "classes": 10}
"""The dataset record of the test runs (RunStarted's, history.json's)."""


def started() -> RunStarted:
    return RunStarted(
        config=CONFIG,
        dataset=dict(DATASET),
        layers=LAYERS,
        parameters=("fc1.weight", "fc1.bias"),
        summary="",
        total_params=0,
        device="cpu",
        steps_per_epoch=1,
    )


def record(epoch: int, loss: float = 0.5) -> dict:
    return {
        "epoch": epoch,
        "train_loss": loss,
        "train_acc": 0.5,
        "val_loss": 0.6,
        "val_acc": 0.4,
        "lr": 0.001,
        "seconds": 0.1,
        "samples_per_s": 100.0,
        "grad_norm": [1e-9, 0.5, float("inf")],
        "grad_norm_total": 0.7,
        "clipped_fraction": 0.0,
        "events": [{"step": 1, "kind": "clipping", "value": True}],
    }


def signal(epoch: int, kind: str = "saturated") -> ActivationsMeasured:
    return ActivationsMeasured(
        epoch=epoch,
        step=0 if epoch == 0 else 1,
        layers=("act1", "act2"),
        activation="tanh" if kind == "saturated" else "relu",
        mean=(0.01, -0.02),
        std=(0.3, 0.0015 * (epoch + 1)),
        share=(0.5, 0.25),
        share_kind=kind,
        hist=((0.5, 0.5), (0.0, 1.0)),
        hist_range=(-1.0, 1.0) if kind == "saturated" else (0.0, 2.0),
        samples=256,
    )


def weights(epoch: int, scale: float = 1.0) -> WeightsMeasured:
    """The weights' figures of LAYERS at an epoch end (``epoch`` 0: before the first step)."""
    bins = [0.0] * HIST_BINS
    bins[HIST_BINS // 2] = 1.0
    return WeightsMeasured(
        epoch=epoch,
        layers=LAYERS,
        norm=(8.0 * scale, 5.0 * scale, 3.0 * scale),
        update_ratio=(None,) * 3 if epoch == 0 else (2e-3, 1e-3, 5e-4),
        hist=(tuple(bins),) * 3,
        hist_max=(0.5, 0.8, 1.2),
    )


def finished(status: str = "completed", best: int | None = 1) -> RunFinished:
    weights = {"0.weight": torch.arange(6.0).reshape(2, 3), "0.bias": torch.zeros(2)}
    return RunFinished(
        status=status,
        best_epoch=best,
        test={"loss": 0.3, "acc": 0.9},
        diverged=None,
        seconds=1.0,
        weights=weights,
    )


def strict_load(path: Path) -> dict:
    def refuse(name: str) -> None:
        raise AssertionError(f"{path} is not strict JSON: it holds {name}")

    return json.loads(path.read_text(), parse_constant=refuse)


FIXTURES = Path(__file__).resolve().parents[1] / "data" / "regularization-mnist"
"""Finished runs of the regularization suite (baseline, l2, dropout, bottleneck)."""


def make_run(path: Path, preset: str = "baseline", **changes: object) -> Path:
    """A copy of a finished fixture run at path, its history.json's top-level keys changed."""
    shutil.copytree(FIXTURES / preset, path)
    if changes:
        history = json.loads((path / "history.json").read_text())
        history.update(changes)
        (path / "history.json").write_text(json.dumps(history))
    return path


@dataclass(frozen=True)
class SplitBest:
    """The readings of ``make_split_best``'s run: its best epoch is not its top val acc's."""

    best_epoch: int = 5
    best_val_acc: float = 0.811
    top_epoch: int = 12
    max_val_acc: float = 0.977
    test_acc: float = 0.805


SPLIT_BEST = SplitBest()


def make_split_best(path: Path, preset: str = "baseline") -> Path:
    """A finished run whose ★ best epoch (lowest validation loss) has a lower validation
    accuracy than a later epoch: every reading of "best" must name the former."""
    make_run(path, preset)
    history = json.loads((path / "history.json").read_text())
    for record in history["epochs"]:
        record["val_loss"], record["val_acc"] = 0.4 + record["epoch"] / 100, 0.7
    by_epoch = {record["epoch"]: record for record in history["epochs"]}
    by_epoch[SPLIT_BEST.best_epoch].update(val_loss=0.1, val_acc=SPLIT_BEST.best_val_acc)
    by_epoch[SPLIT_BEST.top_epoch].update(val_loss=0.6, val_acc=SPLIT_BEST.max_val_acc)
    history["best_epoch"] = SPLIT_BEST.best_epoch
    history["test"]["acc"] = SPLIT_BEST.test_acc
    (path / "history.json").write_text(json.dumps(history))
    return path


def a_run(path: Path) -> Path:
    """A copy of a finished run at path."""
    return make_run(path)


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def make_running(path: Path) -> None:
    """Make the run at path say it is running, with this process as its live one."""
    from dnn_tui.rundir.liveness import LIVENESS_FILE, current

    history = json.loads((path / "history.json").read_text())
    history["status"] = "running"
    (path / "history.json").write_text(json.dumps(history))
    (path / LIVENESS_FILE).write_text(current().to_json())


def run_channel(run_dir: Path, controls: RunControls) -> tuple[Folder, RunChannel, list[str]]:
    """run_dir claimed as this process's run, the run side of its control channel, and the list
    of what the channel notes (close the channel, then the folder)."""
    folder = claim_run_dir(run_dir)
    notes: list[str] = []
    return folder, RunChannel(folder, controls, note=notes.append), notes
