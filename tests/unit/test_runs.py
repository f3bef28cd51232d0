"""Run directories read back: the loader and the weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from dnn_tui.rundir.files import (
    RunError,
    load_run,
    load_weights,
)
from dnn_tui.rundir.recorder import RunRecorder
from dnn_tui.training.events import EpochEnded
from tests.helpers.run_files import CONFIG, finished, record, started, strict_load


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
    recorder.close()
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
        (
            lambda run: (run / "history.json").write_text('{"schema": 4}'),
            "schema: must be 1, 2 or 3",
        ),
        (
            lambda run: (run / "history.json").write_text('{"schema": 1, "epochs": 3}'),
            "status: missing",
        ),
    ],
)
def test_load_run_errors_name_the_file(saved_run: Path, damage, message: str) -> None:
    damage(saved_run)
    with pytest.raises(RunError, match=message):
        load_run(saved_run)


def test_a_schema_1_history_still_loads(saved_run: Path) -> None:
    path = saved_run / "history.json"
    old = json.loads(path.read_text())
    old["schema"] = 1
    for key in ("activations", "initial"):  # schema 2 added these, and the act_* keys
        del old[key]
    old["epochs"] = [record(1) | {"grad_norm": [0.1, 0.2, 0.3]}]
    path.write_text(json.dumps(old))
    saved = load_run(saved_run)
    assert saved.history["schema"] == 1
    assert saved.history["epochs"][0]["train_loss"] == 0.5


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
