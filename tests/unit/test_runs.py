"""Run directories: the recorder's files, strict JSON, and reading runs back."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from dnn_tui import config as cfg
from dnn_tui import fileio
from dnn_tui.recorder import RunRecorder
from dnn_tui.runs import (
    CSV_COLUMNS,
    RunError,
    default_run_dir,
    load_run,
    load_weights,
)
from dnn_tui.training.events import EpochEnded, Notice, RunFinished, RunStarted

CONFIG = cfg.with_options(
    cfg.RunConfig(preset="unit"), {"dataset": "digits", "hidden": (8, 4), "epochs": 3}
)
LAYERS = ("fc1", "fc2", "fc3")


def started() -> RunStarted:
    return RunStarted(
        config=CONFIG,
        dataset={
            "name": "digits",
            "train": 10,
            "val": 5,
            "test": 5,
            "input_dim": 64,
            "classes": 10,
        },
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


def test_recorder_writes_the_four_files(tmp_path: Path) -> None:
    run = tmp_path / "run"
    recorder = RunRecorder(run)
    recorder(started())
    recorder(Notice("ignored"))
    recorder(EpochEnded(record(1), best_epoch=1, epochs=3))
    recorder(EpochEnded(record(2, loss=float("nan")), best_epoch=1, epochs=3))
    recorder(finished())

    assert sorted(p.name for p in run.iterdir()) == [
        "config.toml",
        "history.csv",
        "history.json",
        "model.safetensors",
    ]
    assert cfg.load(run / "config.toml") == CONFIG

    history = strict_load(run / "history.json")
    assert history["schema"] == 1
    assert history["status"] == "completed"
    assert history["config"] == cfg.to_dict(CONFIG)
    assert history["dataset"]["name"] == "digits"
    assert history["layers"] == list(LAYERS)
    assert [r["epoch"] for r in history["epochs"]] == [1, 2]
    assert history["epochs"][1]["train_loss"] is None  # NaN -> null
    assert history["epochs"][0]["grad_norm"] == [1e-9, 0.5, None]  # inf -> null
    assert history["epochs"][0]["events"] == [{"step": 1, "kind": "clipping", "value": True}]
    assert history["best_epoch"] == 1
    assert history["test"] == {"loss": 0.3, "acc": 0.9}
    assert history["diverged"] is None

    with (run / "history.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert float(rows[0]["train_loss"]) == 0.5
    assert rows[1]["train_loss"] == ""

    weights = load_weights(run / "model.safetensors")
    assert torch.equal(weights["0.weight"], torch.arange(6.0).reshape(2, 3))
    with safe_open(run / "model.safetensors", "pt") as handle:
        assert handle.metadata() == {"config_hash": cfg.config_hash(CONFIG), "epoch": "1"}


def test_history_is_written_after_every_epoch(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    history = strict_load(tmp_path / "history.json")
    assert (history["status"], history["epochs"]) == ("running", [])
    assert (tmp_path / "history.csv").read_text().strip() == ",".join(CSV_COLUMNS)
    for epoch in (1, 2):
        recorder(EpochEnded(record(epoch), best_epoch=epoch, epochs=3))
        history = strict_load(tmp_path / "history.json")
        assert history["status"] == "running"
        assert len(history["epochs"]) == epoch
        assert history["best_epoch"] == epoch
        assert len((tmp_path / "history.csv").read_text().splitlines()) == 1 + epoch
    assert not (tmp_path / "model.safetensors").exists()


def test_an_interrupted_write_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    recorder(EpochEnded(record(1), best_epoch=1, epochs=3))
    before = (tmp_path / "history.json").read_text()

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(fileio.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        recorder(EpochEnded(record(2), best_epoch=2, epochs=3))
    assert (tmp_path / "history.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "config.toml",
        "history.csv",
        "history.json",
    ]


def test_diverged_run_records_where(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    where = {"epoch": 1, "step": 3, "layer": "fc1"}
    recorder(
        RunFinished("diverged", best_epoch=None, test=None, diverged=where, seconds=0.1, weights={})
    )
    history = strict_load(tmp_path / "history.json")
    assert (history["status"], history["diverged"], history["test"]) == ("diverged", where, None)
    assert not (tmp_path / "model.safetensors").exists()


def test_a_new_run_removes_stale_weights(tmp_path: Path) -> None:
    first = RunRecorder(tmp_path)
    first(started())
    first(finished())
    assert (tmp_path / "model.safetensors").exists()
    RunRecorder(tmp_path)(started())
    assert not (tmp_path / "model.safetensors").exists()


def test_events_before_run_started_are_a_bug(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="before RunStarted"):
        RunRecorder(tmp_path)(EpochEnded(record(1), best_epoch=1, epochs=3))


def test_default_run_dir_is_timestamped_and_unique(tmp_path: Path) -> None:
    first = default_run_dir("baseline", tmp_path)
    assert first.parent == tmp_path
    assert re.fullmatch(r"\d{8}-\d{6}-baseline", first.name)
    assert re.fullmatch(r"\d{8}-\d{6}-custom", default_run_dir(None, tmp_path).name)
    first.mkdir()
    second = default_run_dir("baseline", tmp_path)
    assert second != first
    assert second.name.startswith(first.name)
    assert default_run_dir("../evil name", tmp_path).parent == tmp_path


def test_load_run_reads_what_the_recorder_wrote(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    recorder(EpochEnded(record(1), best_epoch=1, epochs=3))
    recorder(finished())
    saved = load_run(tmp_path)
    assert saved.config == CONFIG
    assert saved.label == "unit"
    assert saved.history == strict_load(tmp_path / "history.json")
    assert saved.weights == tmp_path / "model.safetensors"


@pytest.fixture
def saved_run(tmp_path: Path) -> Path:
    recorder = RunRecorder(tmp_path / "run")
    recorder(started())
    return tmp_path / "run"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda run: run.rename(run.with_name("gone")), "no such run directory"),
        (lambda run: (run / "config.toml").unlink(), r"config\.toml: missing"),
        (
            lambda run: (run / "config.toml").write_text("[model]\nlr = 1\n"),
            "model.lr: unknown key",
        ),
        (lambda run: (run / "history.json").unlink(), r"history\.json: missing"),
        (lambda run: (run / "history.json").write_text("{"), "not valid JSON"),
        (lambda run: (run / "history.json").write_text("[]"), "JSON object"),
        (lambda run: (run / "history.json").write_text('{"schema": 2}'), "schema must be 1"),
        (
            lambda run: (run / "history.json").write_text('{"schema": 1, "epochs": 3}'),
            "'epochs' must be a list",
        ),
    ],
)
def test_load_run_errors_name_the_file(saved_run: Path, damage, message: str) -> None:
    damage(saved_run)
    with pytest.raises(RunError, match=message):
        load_run(saved_run)


def test_load_run_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunError, match="not a run directory"):
        load_run(tmp_path / "file")


def test_a_run_without_weights_loads(saved_run: Path) -> None:
    assert load_run(saved_run).weights is None


@pytest.mark.parametrize(
    "content",
    [b"", b"not safetensors at all", b"\x10\x00\x00\x00\x00\x00\x00\x00{}"],
)
def test_invalid_safetensors_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(content)
    with pytest.raises(RunError, match=r"model\.safetensors: not a valid safetensors file"):
        load_weights(path)


def test_a_pickled_checkpoint_is_never_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    torch.save({"fc1.weight": torch.ones(2)}, path)
    with pytest.raises(RunError, match="not a valid safetensors file"):
        load_weights(path)


def test_missing_weights_file(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="cannot read the weights"):
        load_weights(tmp_path / "absent.safetensors")


def test_strict_json_has_no_nan_or_infinity(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    recorder(EpochEnded(record(1, loss=float("-inf")), best_epoch=None, epochs=3))
    text = (tmp_path / "history.json").read_text()
    assert not re.search(r"NaN|Infinity", text)
    assert math.isfinite(strict_load(tmp_path / "history.json")["epochs"][0]["val_loss"])
