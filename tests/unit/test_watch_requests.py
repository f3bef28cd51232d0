"""What a watcher asks of a run through control.jsonl beyond steering: the decision regions
(``boundary``) and which sample's pass a paused run traces (``trace``), and trace.json, the
file that pass reaches a watcher in."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import torch

from dnn_tui.config import DataConfig, ModelConfig, RunConfig, TrainConfig, validate
from dnn_tui.data import Dataset, load_dataset
from dnn_tui.model import build_mlp
from dnn_tui.rundir import channel as channel_module
from dnn_tui.rundir import files
from dnn_tui.rundir.channel import MAX_SAMPLE, apply_request, check_request
from dnn_tui.rundir.files import (
    TRACE_FILE,
    RunError,
    dumps_trace,
    read_trace,
)
from dnn_tui.rundir.follow import RemoteControls
from dnn_tui.rundir.recorder import RunRecorder
from dnn_tui.training.controls import RunControls
from dnn_tui.training.engine import train
from dnn_tui.training.events import ControlApplied, Event, PassTraced
from dnn_tui.training.trace import SamplePass, trace_pass
from tests.helpers.run_files import run_channel, started
from tests.helpers.waiting import wait_for


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        ({"kind": "boundary", "value": True}, ("boundary", True)),
        ({"kind": "boundary", "value": False}, ("boundary", False)),
        ({"kind": "trace", "value": 7}, ("trace", 7)),
        ({"kind": "trace", "value": -1}, ("trace", -1)),
        ({"kind": "boundary", "value": 1}, "not a steering request"),
        ({"kind": "boundary"}, "not a steering request"),
        ({"kind": "trace", "value": True}, "trace: must be an integer"),
        ({"kind": "trace", "value": 1.5}, "trace: must be an integer"),
        ({"kind": "trace", "value": "3"}, "trace: must be an integer"),
        ({"kind": "trace", "value": MAX_SAMPLE}, "trace: must lie in"),
        ({"kind": "trace", "value": -MAX_SAMPLE - 1}, "trace: must lie in"),
    ],
)
def test_boundary_and_trace_requests_are_checked(request_: Any, expected: Any) -> None:
    checked = check_request(request_)
    if isinstance(expected, tuple):
        assert checked == expected
    else:
        assert isinstance(checked, str) and expected in checked


def test_a_trace_needs_a_paused_run_and_neither_request_is_a_recorded_change() -> None:
    controls = RunControls()
    assert "paused run" in str(apply_request(controls, {"kind": "trace", "value": 3}))
    assert apply_request(controls, {"kind": "boundary", "value": True}) is None
    assert controls.boundary_wanted
    controls.pause()
    controls.take_changes()
    version = controls.version
    assert apply_request(controls, {"kind": "trace", "value": 3}) is None
    assert controls.trace_sample == 3
    assert controls.version == version and controls.take_changes() == []
    assert controls.wait_while_paused() == 3  # the paused run wakes for it, still paused
    assert controls.paused


def test_the_channel_takes_a_watchers_boundary_and_trace_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(channel_module, "MIN_APPLY_S", 0.0)
    run_side = RunControls()
    folder, channel, notes = run_channel(tmp_path / "run", run_side)
    watcher = RemoteControls(tmp_path / "run", None, 0.1)
    watcher.want_boundary(True)
    watcher.want_boundary(True)  # no change: nothing more sent
    assert not watcher.trace(4)  # not paused: nothing sent
    channel.poll()
    assert run_side.boundary_wanted
    watcher.pause()
    channel.poll()
    watcher.observe(ControlApplied(1, 2, "pause", True))
    assert watcher.trace(4)
    watcher.want_boundary(False)
    channel.poll()
    assert not run_side.boundary_wanted and run_side.trace_sample == 4
    lines = (tmp_path / "run" / "control.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"kind": "boundary", "value": True},
        {"kind": "pause", "value": True},
        {"kind": "trace", "value": 4},
        {"kind": "boundary", "value": False},
    ]
    assert not notes
    channel.close()
    folder.close()


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset(DataConfig(dataset="digits", limit=200))


def test_a_paused_run_traces_the_sample_asked_for(digits: Dataset) -> None:
    config = validate(
        RunConfig(
            model=ModelConfig(hidden=(16,)),
            train=TrainConfig(epochs=2, batch_size=64, device="cpu", optimizer="adam", lr=0.01),
        )
    )
    controls = RunControls(None, config.train.lr)
    controls.pause()
    events: list[Event] = []
    thread = threading.Thread(target=train, args=(config, digits, controls, events.append))
    thread.start()

    def passes() -> list[SamplePass]:
        return [event.traced for event in list(events) if isinstance(event, PassTraced)]

    wait_for(lambda: len(passes()) == 1, "the pass of the pause", 30)
    assert controls.trace(5)
    wait_for(lambda: len(passes()) == 2, "the pass of sample 5", 30)
    assert controls.trace(-1)  # before the first: the last (wrapped to the split's size)
    wait_for(lambda: len(passes()) == 3, "the pass of the last sample", 30)
    controls.stop()
    thread.join(30)
    traced = passes()
    assert [t.sample for t in traced] == [0, 5, len(digits.x_test) - 1]
    assert traced[1].input == pytest.approx(digits.x_test[5].tolist())
    assert traced[1].label == int(digits.y_test[5])
    kinds = [event.kind for event in events if isinstance(event, ControlApplied)]
    assert kinds == ["pause", "stop"]  # a trace changes nothing the run learns


def tiny_pass(hidden: tuple[int, ...] = (8, 8), inputs: int = 2) -> SamplePass:
    torch.manual_seed(0)
    model = build_mlp(ModelConfig(hidden=hidden, activation="tanh", batchnorm=True), inputs, 3)
    model.eval()
    x = torch.linspace(-1, 1, inputs).unsqueeze(0)
    return trace_pass(model, x, torch.tensor([2]), "test", 0)


def test_the_recorder_writes_the_pass_and_it_reads_back(tmp_path: Path) -> None:
    traced = tiny_pass()
    sink = RunRecorder(tmp_path)
    sink(started())
    sink(PassTraced(3, 7, traced))
    sink.close()
    saved = read_trace(tmp_path)
    assert saved is not None and (saved.epoch, saved.step, saved.sample) == (3, 7, 0)
    assert saved.traced is not None
    assert saved.traced.record() == traced.record()  # every number, node by node


def test_a_pass_too_large_is_summarised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_TRACE_BYTES", 2_000)
    traced = tiny_pass((64,), 64)
    text = dumps_trace(1, 2, traced)
    assert len(text) < 2_000
    (tmp_path / TRACE_FILE).write_text(text)
    saved = read_trace(tmp_path)
    assert saved is not None and saved.traced is None
    assert saved.too_large is not None and saved.too_large > 2_000
    assert saved.label == 2 and saved.split == "test"


def test_a_run_without_a_trace_has_none(tmp_path: Path) -> None:
    assert read_trace(tmp_path) is None


def _broken(change: str) -> str:
    record = json.loads(dumps_trace(1, 2, tiny_pass()))
    if change == "kind":
        record["nodes"][0]["kind"] = "convolution"
    elif change == "value":
        record["nodes"][1]["output"][0] = "1.0"
    elif change == "no nodes":
        del record["nodes"]
    elif change == "ragged":
        record["nodes"][0]["grad_weight"][1] = [0.0]
    elif change == "split":
        record["split"] = "everything"
    elif change == "label":
        record["label"] = 9
    return json.dumps(record)


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ("kind", "nodes[0].kind: must be one of"),
        ("value", "nodes[1].output: must hold numbers or null"),
        ("no nodes", "nodes: missing"),
        ("ragged", "nodes[0].grad_weight: must have rows of one length"),
        ("split", "split: must be test, val or train"),
        ("label", "nodes: must hold one softmax node with an output for the label"),
    ],
)
def test_a_damaged_trace_is_refused_naming_the_field(
    tmp_path: Path, change: str, rule: str
) -> None:
    (tmp_path / TRACE_FILE).write_text(_broken(change))
    with pytest.raises(RunError, match=rule.replace("[", r"\[").replace("]", r"\]")):
        read_trace(tmp_path)


def test_a_trace_that_is_no_regular_file_is_not_read(tmp_path: Path) -> None:
    (tmp_path / TRACE_FILE).symlink_to("/dev/zero")
    with pytest.raises(RunError, match="not read"):
        read_trace(tmp_path)
