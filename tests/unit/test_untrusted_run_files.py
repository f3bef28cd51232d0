"""Run files written by others (a colleague, a script, a damaged disk) never break a reader,
a watcher or a run: liveness records, steering requests and event logs are checked, and
what breaks a rule is refused by name or counted, never raised."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dnn_tui.rundir.channel as channel_module
import dnn_tui.rundir.follow as follow_module
from dnn_tui.data import DatasetError
from dnn_tui.fileio import Folder
from dnn_tui.rundir.catalog import list_runs
from dnn_tui.rundir.channel import (
    MAX_REQUEST_BYTES,
    MIN_APPLY_S,
    REFUSALS_NOTED,
    RunChannel,
    apply_request,
    parse_request,
)
from dnn_tui.rundir.eventlog import check_event, parse_event_line
from dnn_tui.rundir.files import (
    CONTROL_FILE,
    EPOCHS_FILE,
    EVENTS_FILE,
    MAX_EPOCH_BYTES,
    RunError,
    load_run,
)
from dnn_tui.rundir.follow import RemoteControls, RunFollower, SteeringFailed
from dnn_tui.rundir.liveness import (
    CLOCK_SKEW_S,
    LIVENESS_FILE,
    Liveness,
    current,
    hostname,
    parse_liveness,
    read_liveness,
    shown_status,
)
from dnn_tui.rundir.recorder import RunRecorder, claim_run_dir, log_line
from dnn_tui.training.controls import RunControls
from dnn_tui.training.events import (
    EVENT_TYPES,
    ControlApplied,
    EpochEnded,
    Notice,
    RunFinished,
    RunStarted,
    StepMeasured,
    to_record,
)
from tests.helpers.run_files import CONFIG, dead_pid, finished, make_run, record, started
from tests.helpers.untrusted_runs import logged_run

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "regularization-mnist"

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
"""Any JSON value (NaN and infinities included: Python's json reads and writes them)."""
SMALL_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=4,
)
"""Small JSON values: one field's replacement."""


# --- liveness.json ------------------------------------------------------------------------------

BAD_LIVENESS = {
    "pid as a string": {"pid": "123", "host": hostname(), "started": 1.0, "heartbeat": 1.0},
    "negative pid": {"pid": -1, "host": hostname(), "started": 1.0, "heartbeat": 1.0},
    "pid beyond any": {"pid": 10**30, "host": hostname(), "started": 1.0, "heartbeat": 1.0},
    "float pid": {"pid": 1.5, "host": hostname(), "started": 1.0, "heartbeat": 1.0},
    "boolean pid": {"pid": True, "host": hostname(), "started": 1.0, "heartbeat": 1.0},
    "host a list": {"pid": 1, "host": ["h"], "started": 1.0, "heartbeat": 1.0},
    "heartbeat a string": {"pid": 1, "host": "elsewhere", "started": 1.0, "heartbeat": "now"},
    "heartbeat infinite": {"pid": 1, "host": "elsewhere", "started": 1.0, "heartbeat": 1e999},
    "process start a string": {
        "pid": 1,
        "host": hostname(),
        "started": 1.0,
        "heartbeat": 1.0,
        "process_start": "x",
    },
}


@pytest.mark.parametrize("name", sorted(BAD_LIVENESS))
def test_a_wrongly_typed_liveness_record_is_no_record(tmp_path: Path, name: str) -> None:
    """runs, compare, watch and the dashboard list the run as they would without a record."""
    root = tmp_path / "runs"
    run = make_run(root / "run", status="running")
    good = make_run(root / "good")
    (run / LIVENESS_FILE).write_text(json.dumps(BAD_LIVENESS[name]))
    assert read_liveness(run) is None
    assert shown_status("running", run) == "interrupted"
    statuses = {entry.name: entry.status for entry in list_runs(root)}
    assert statuses == {"run": "interrupted", "good": "completed"}
    assert good.exists()


@pytest.mark.parametrize("text", ["[1000000000", "[" * 5000, '"a string"', "", "\xff"])
def test_a_liveness_record_that_is_no_json_object_is_no_record(tmp_path: Path, text: str) -> None:
    (tmp_path / LIVENESS_FILE).write_bytes(text.encode("utf-8", "surrogateescape"))
    assert read_liveness(tmp_path) is None
    assert shown_status("running", tmp_path) == "interrupted"


def test_force_replaces_a_finished_run_whatever_its_liveness_record_says(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    (run / LIVENESS_FILE).write_text(json.dumps(BAD_LIVENESS["pid as a string"]))
    claim_run_dir(run, force=True).close()
    assert read_liveness(run) is not None  # this process's claim


def test_a_heartbeat_from_the_future_does_not_keep_a_run_alive(tmp_path: Path) -> None:
    now = time.time()
    far_ahead = Liveness(1, "another-host", now, now + 10 * 365 * 86400)
    slightly_ahead = Liveness(1, "another-host", now, now + CLOCK_SKEW_S / 2)
    assert not far_ahead.alive(now)
    assert slightly_ahead.alive(now)
    run = make_run(tmp_path / "run", status="running")
    (run / LIVENESS_FILE).write_text(far_ahead.to_json())
    assert shown_status("running", run) == "interrupted"


def test_valid_records_read_back_as_written(tmp_path: Path) -> None:
    record = current()
    (tmp_path / LIVENESS_FILE).write_text(record.to_json())
    assert read_liveness(tmp_path) == record
    assert shown_status("running", tmp_path) == "running"
    dead = Liveness(dead_pid(), hostname(), record.started, record.heartbeat)
    (tmp_path / LIVENESS_FILE).write_text(dead.to_json())
    assert shown_status("running", tmp_path) == "interrupted"


LIVENESS_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "pid": JSON | st.integers(),
        "host": JSON | st.text(max_size=300),
        "started": JSON | st.floats(),
        "heartbeat": JSON | st.floats(),
        "process_start": JSON | st.integers(),
    },
)


@settings(max_examples=1000, deadline=None)
@given(record=LIVENESS_FIELDS | JSON)
def test_generated_liveness_records_never_raise_and_only_valid_ones_are_kept(record) -> None:
    parsed = parse_liveness(json.dumps(record).encode())
    if parsed is None:
        return
    assert isinstance(parsed.pid, int) and not isinstance(parsed.pid, bool)
    assert 0 < parsed.pid <= 2**22
    assert isinstance(parsed.host, str) and 0 < len(parsed.host) <= 255
    for value in (parsed.started, parsed.heartbeat):
        assert isinstance(value, float) and 0 <= value < 2**40
    assert parsed.process_start is None or (
        isinstance(parsed.process_start, int) and not isinstance(parsed.process_start, bool)
    )
    parsed.alive()  # never raises either


@settings(max_examples=1000, deadline=None)
@given(raw=st.binary(max_size=200))
def test_liveness_bytes_never_raise(raw: bytes) -> None:
    parsed = parse_liveness(raw)
    assert parsed is None or isinstance(parsed, Liveness)


# --- control.jsonl ------------------------------------------------------------------------------


def _channel(tmp_path: Path, notes: list[str]) -> tuple[Folder, RunControls, RunChannel]:
    folder = claim_run_dir(tmp_path / "run")
    controls = RunControls(None, 0.1)
    return folder, controls, RunChannel(folder, controls, note=notes.append)


def _append(tmp_path: Path, data: bytes) -> None:
    with (tmp_path / "run" / CONTROL_FILE).open("ab") as handle:
        handle.write(data)


HOSTILE_LINES = [
    b"[" * 1000,
    b"[" * 500 + b"]" * 500,
    b'{"kind": "lr", "value": 1' + b"0" * 400 + b"}",
    b'{"kind": "lr", "value": 1e999}',
    b'{"kind": "clip_norm", "value": NaN}',
    b'{"kind": "lr", "value": -Infinity}',
    b'{"kind": ' + b"[" * 400 + b"]" * 400 + b"}",
    b"\xff\xfe not utf-8",
    b"\x00" * 100,
    b'{"kind": "pause", "value": "yes"}',
]


@pytest.mark.parametrize("line", HOSTILE_LINES)
def test_every_hostile_request_is_refused_with_a_reason(tmp_path: Path, line: bytes) -> None:
    notes: list[str] = []
    folder, controls, channel = _channel(tmp_path, notes)
    _append(tmp_path, line + b"\n")
    channel.poll()
    assert len(notes) == 1 and "refused" in notes[0]
    assert controls.version == 0
    channel.close()
    folder.close()


@settings(max_examples=1000, deadline=None)
@given(line=st.binary(max_size=300) | JSON.map(lambda v: json.dumps(v).encode()))
def test_generated_request_lines_never_raise_and_only_requests_pass(line: bytes) -> None:
    parsed = parse_request(line)
    if isinstance(parsed, str):
        assert parsed
        return
    kind, value = parsed
    assert kind in ("stop", "pause", "clipping", "clip_norm", "lr")
    if kind == "stop":
        assert value is True
    elif kind in ("pause", "clipping"):
        assert isinstance(value, bool)
    else:
        assert isinstance(value, int | float) and not isinstance(value, bool)
    controls = RunControls(None, 0.1)
    reason = apply_request(controls, json.loads(line))  # a value out of range: a reason
    assert reason is None or isinstance(reason, str)


def test_the_tail_of_an_over_long_line_is_no_request(tmp_path: Path) -> None:
    notes: list[str] = []
    folder, controls, channel = _channel(tmp_path, notes)
    _append(tmp_path, b"x" * (MAX_REQUEST_BYTES + 10))
    channel.poll()
    _append(tmp_path, b'{"kind": "stop", "value": true}\n')  # the end of the long line
    channel.poll()
    assert not controls.stop_requested
    assert len(notes) == 1 and "longer than" in notes[0]
    _append(tmp_path, b'{"kind": "stop", "value": true}\n')  # a line of its own
    channel.poll()
    assert controls.stop_requested
    channel.close()
    folder.close()


def test_a_long_line_split_across_polls_is_dropped_whole(tmp_path: Path) -> None:
    notes: list[str] = []
    folder, controls, channel = _channel(tmp_path, notes)
    _append(tmp_path, b"[" * 2000)
    channel.poll()
    _append(tmp_path, b"]" * 2000 + b'{"kind": "pause", "value": true}\n')
    channel.poll()
    assert not controls.paused
    channel.close()
    folder.close()


def test_a_flood_of_requests_is_coalesced_and_told_once(tmp_path: Path) -> None:
    notes: list[str] = []
    folder, controls, channel = _channel(tmp_path, notes)
    flood = b"".join(
        json.dumps({"kind": "lr", "value": 0.001 * (1 + i % 7)}).encode() + b"\n"
        for i in range(300_000)
    )
    _append(tmp_path, flood)
    polls = 0
    while channel._offset < len(flood):
        channel.poll()
        polls += 1
    channel.close()
    assert len(controls.take_changes()) <= polls  # at most one lr change per poll
    assert channel.ignored >= 300_000 - polls
    summaries = [note for note in notes if "ignored" in note]
    assert len(summaries) == 1 and "control.jsonl" in summaries[0]
    folder.close()


def test_garbage_lines_get_a_few_notices_and_one_count(tmp_path: Path) -> None:
    notes: list[str] = []
    folder, _controls, channel = _channel(tmp_path, notes)
    _append(tmp_path, b"garbage\n" * 10_000)
    while channel._offset < 8 * 10_000:
        channel.poll()
    channel.close()
    assert len(notes) == REFUSALS_NOTED + 1
    assert f"refused {10_000 - REFUSALS_NOTED:,} more" in notes[-1]
    folder.close()


def test_requests_of_one_kind_are_applied_at_most_every_min_apply_s(tmp_path: Path) -> None:
    notes: list[str] = []
    folder, controls, channel = _channel(tmp_path, notes)
    _append(tmp_path, b'{"kind": "lr", "value": 0.5}\n')
    channel.poll()
    _append(tmp_path, b'{"kind": "lr", "value": 0.25}\n{"kind": "lr", "value": 0.125}\n')
    channel.poll()
    assert controls.lr == 0.5  # the second waits; the latest of its kind replaces it
    time.sleep(MIN_APPLY_S)
    channel.poll()
    assert controls.lr == 0.125
    _append(tmp_path, b'{"kind": "stop", "value": true}\n')
    channel.poll()
    assert controls.stop_requested  # never held back
    channel.close()
    folder.close()


def _beat(tmp_path: Path) -> float:
    return json.loads((tmp_path / "run" / LIVENESS_FILE).read_text())["heartbeat"]


def test_a_live_channel_survives_anything_appended_to_control_jsonl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(channel_module, "HEARTBEAT_S", 0.05)
    notes: list[str] = []
    folder, controls, channel = _channel(tmp_path, notes)
    with channel:
        for line in HOSTILE_LINES:
            _append(tmp_path, line + b"\n")
        _append(tmp_path, bytes(range(256)) * 50 + b"\n" + b"{" * 5000)
        _append(tmp_path, b"\n" + json.dumps({"kind": "lr", "value": 10**400}).encode() + b"\n")
        time.sleep(0.3)
        assert channel._thread.is_alive()
        first = _beat(tmp_path)
        time.sleep(0.3)
        assert _beat(tmp_path) > first  # the heartbeat goes on
        _append(tmp_path, b'{"kind": "stop", "value": true}\n')
        deadline = time.monotonic() + 5
        while not controls.stop_requested and time.monotonic() < deadline:
            time.sleep(0.01)
    assert controls.stop_requested
    assert notes and all(isinstance(note, str) for note in notes)
    folder.close()


def test_a_failing_poll_is_told_once_and_the_heartbeat_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(channel_module, "HEARTBEAT_S", 0.05)
    notes: list[str] = []
    folder, _controls, channel = _channel(tmp_path, notes)

    def broken() -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(channel, "poll", broken)
    with channel:
        time.sleep(0.2)
        first = _beat(tmp_path)
        time.sleep(0.3)
        assert _beat(tmp_path) > first
    assert [note for note in notes if "a bug" in note] == [
        "steering requests cannot be read: RuntimeError: a bug"
    ]
    folder.close()


# --- files that are not what they seem --------------------------------------------------------


def _never_blocks(call: Callable[[], object], seconds: float = 5.0) -> object:
    """call()'s result; fails when it has not returned within seconds (a wait on a FIFO)."""
    result: list[object] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call())
        except Exception as error:
            failure.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "blocked (on a FIFO?)"
    if failure:
        raise failure[0]
    return result[0]


@pytest.mark.parametrize("name", [EVENTS_FILE, CONTROL_FILE, LIVENESS_FILE, "history.json"])
def test_no_reader_or_watcher_blocks_on_a_fifo(tmp_path: Path, name: str) -> None:
    root = tmp_path / "runs"
    run = make_run(root / "run", status="running")
    (run / name).unlink(missing_ok=True)
    os.mkfifo(run / name)
    follower = RunFollower(run)
    _never_blocks(follower.read_new)
    _never_blocks(lambda: read_liveness(run))
    _never_blocks(lambda: shown_status("running", run))
    _never_blocks(lambda: list_runs(root))
    controls = RemoteControls(run, None, 0.1)
    if name == CONTROL_FILE:
        with pytest.raises(SteeringFailed, match="FIFO"):
            _never_blocks(controls.pause)
        assert not controls.paused
    else:
        with contextlib.suppress(SteeringFailed):  # the fixture has no control.jsonl
            _never_blocks(controls.pause)


def test_a_run_never_waits_on_a_fifo_control_jsonl_and_keeps_its_heartbeat(
    tmp_path: Path,
) -> None:
    notes: list[str] = []
    folder = claim_run_dir(tmp_path / "run")
    os.mkfifo(tmp_path / "run" / CONTROL_FILE)
    channel = _never_blocks(lambda: RunChannel(folder, RunControls(None, 0.1), note=notes.append))
    assert isinstance(channel, RunChannel)
    assert channel.poll() == 0
    channel.close()
    assert len(notes) == 1 and "control.jsonl" in notes[0] and "FIFO" in notes[0]
    folder.close()


def test_a_watcher_never_reads_or_writes_through_a_link(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", status="running")
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_text("")
    (run / CONTROL_FILE).symlink_to(elsewhere)
    with pytest.raises(SteeringFailed, match="symbolic link"):
        RemoteControls(run, None, 0.1).stop()
    assert elsewhere.read_text() == ""
    secret = tmp_path / "secret.jsonl"
    secret.write_text(json.dumps(to_record(Notice("from elsewhere"))) + "\n")
    (run / EVENTS_FILE).symlink_to(secret)
    follower = RunFollower(run)
    notice, *replayed = follower.read_new()  # then what history.json holds, not the link's
    assert isinstance(notice, Notice) and "symbolic link" in notice.text
    assert not any(isinstance(e, Notice) and e.text == "from elsewhere" for e in replayed)
    assert follower.read_new() == []  # said once


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null"])
def test_a_watcher_never_reads_or_writes_a_device(tmp_path: Path, target: str) -> None:
    run = make_run(tmp_path / "run", status="running")
    (run / EVENTS_FILE).symlink_to(target)
    (run / CONTROL_FILE).symlink_to(target)
    notice, *_replayed = _never_blocks(RunFollower(run).read_new)  # type: ignore[misc]
    assert isinstance(notice, Notice) and "events.jsonl" in notice.text
    with pytest.raises(SteeringFailed):
        RemoteControls(run, None, 0.1).set_lr(0.5)


def test_a_run_never_writes_through_a_link_in_its_folder(tmp_path: Path) -> None:
    notes: list[str] = []
    folder = claim_run_dir(tmp_path / "run")
    outside = tmp_path / "outside"
    outside.write_text("kept\n")
    (tmp_path / "run" / CONTROL_FILE).symlink_to(outside)
    (tmp_path / "run" / EVENTS_FILE).symlink_to(outside)
    channel = RunChannel(folder, RunControls(None, 0.1), note=notes.append)
    channel.close()
    assert "symbolic link" in notes[0]
    recorder = RunRecorder(folder)
    recorder(Notice("hello"))
    recorder.close()
    assert recorder.error is not None and "symbolic link" in recorder.error
    assert outside.read_text() == "kept\n"
    folder.close()


# --- a request that could not be written ------------------------------------------------------


def test_a_request_that_cannot_be_written_says_so_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make_run(tmp_path / "run", status="running")
    (run / CONTROL_FILE).write_text("")
    controls = RemoteControls(run, None, 0.1)
    real_write = os.write

    def full_disk(fd: int, data: bytes) -> int:
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")) == CONTROL_FILE:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full_disk)
    for change, shown in (
        (RemoteControls.pause, lambda c: c.paused),
        (RemoteControls.toggle_clipping, lambda c: c.clipping),
        (RemoteControls.stop, lambda c: c.stop_requested),
    ):
        with pytest.raises(SteeringFailed, match="No space left on device") as failure:
            change(controls)
        assert CONTROL_FILE in str(failure.value)
        assert not shown(controls) and not controls.pending
    with pytest.raises(SteeringFailed):
        controls.set_lr(0.5)
    assert controls.lr == 0.1
    monkeypatch.setattr(os, "write", real_write)
    controls.pause()
    assert controls.paused and controls.pending


def test_a_request_to_a_run_without_control_jsonl_fails_by_name(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", status="running")
    controls = RemoteControls(run, None, 0.1)
    with pytest.raises(SteeringFailed, match="No such file"):
        controls.pause()
    assert not controls.paused
    assert not (run / CONTROL_FILE).exists()  # never created by a watcher


# --- events.jsonl -------------------------------------------------------------------------------


def _good_lines() -> list[str]:
    return [  # as the recorder writes them: strict JSON
        log_line(event).decode().rstrip("\n")
        for event in (
            started(),
            EpochEnded(record(1), 1, 3),
            ControlApplied(1, 2, "lr", 0.5),
            finished(),
        )
    ]


BAD_EVENTS = {
    "record a list": {"event": "EpochEnded", "record": [1], "best_epoch": 1, "epochs": 3},
    "record without keys": {"event": "EpochEnded", "record": {}, "best_epoch": 1, "epochs": 3},
    "epoch a string": {
        "event": "EpochEnded",
        "record": dict(record(1), epoch="1"),
        "best_epoch": 1,
        "epochs": 3,
    },
    "loss a list": {
        "event": "EpochEnded",
        "record": dict(record(1), val_loss=[1]),
        "best_epoch": 1,
        "epochs": 3,
    },
    "epochs a string": {"event": "EpochEnded", "record": record(1), "best_epoch": 1, "epochs": "3"},
    "lr a list": {"event": "ControlApplied", "epoch": 1, "step": 1, "kind": "lr", "value": [1]},
    "step lr null": dict(
        to_record(
            StepMeasured(
                1, 1, 10, 0.5, 0.5, 0.5, (1.0,), (1.0,), 1.0, 1.0, 0.0, 1.0, False, 1.0, 0.1, 1.0
            )
        ),
        lr=None,
    ),
    "notice text a number": {"event": "Notice", "text": 5, "level": "warning"},
    "status unknown": {
        "event": "RunFinished",
        "status": "exploded",
        "best_epoch": None,
        "test": None,
        "diverged": None,
        "seconds": 1.0,
    },
    "test values text": {
        "event": "RunFinished",
        "status": "completed",
        "best_epoch": None,
        "test": {"acc": "high"},
        "diverged": None,
        "seconds": 1.0,
    },
}


@pytest.mark.parametrize("name", sorted(BAD_EVENTS))
def test_a_wrongly_typed_event_line_is_named_and_skipped(tmp_path: Path, name: str) -> None:
    good = _good_lines()
    lines = [good[0], json.dumps(BAD_EVENTS[name]), *good[1:]]
    (tmp_path / EVENTS_FILE).write_text("\n".join(lines) + "\n")
    follower = RunFollower(tmp_path)
    seen: list[object] = []
    finished_event = follower.follow(seen.append, lambda: False, poll_s=0.01)
    assert finished_event is not None and finished_event.status == "completed"
    assert follower.skipped == 1
    notices = [e for e in seen if isinstance(e, Notice)]
    assert len(notices) == 1 and notices[0].text.startswith(f"{EVENTS_FILE} line 2: skipped")
    assert [type(e) for e in seen if not isinstance(e, Notice)] == [
        RunStarted,
        EpochEnded,
        ControlApplied,
        RunFinished,
    ]


def test_an_over_long_event_line_is_skipped_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(follow_module, "MAX_LINE_BYTES", 100)
    good = _good_lines()
    notice = json.dumps(to_record(Notice("x" * 200)))
    follower = RunFollower(tmp_path)
    log = tmp_path / EVENTS_FILE
    log.write_text(good[0] + "\n" + notice[:150])
    follower.read_new()
    with log.open("a") as handle:
        handle.write(notice[150:] + "\n" + good[3] + "\n")
    assert [type(e) for e in follower.read_new()] == [RunFinished]
    assert follower.problems == [f"{EVENTS_FILE} line 2: skipped: longer than 100 bytes"]


_GOOD = _good_lines()
FIELD_NAMES = sorted({spec.name for cls in EVENT_TYPES.values() for spec in fields(cls)})
EVENT_NAMES = st.sampled_from(
    [
        "Notice",
        "RunStarted",
        "StepMeasured",
        "ActivationsMeasured",
        "ControlApplied",
        "EpochEnded",
        "RunFinished",
        "Other",
    ]
)


@settings(max_examples=1000, deadline=None)
@given(
    base=st.sampled_from(range(4)),
    event_name=EVENT_NAMES,
    changes=st.dictionaries(
        st.text(max_size=12) | st.sampled_from(FIELD_NAMES), SMALL_JSON, max_size=3
    ),
)
def test_generated_event_lines_never_raise_and_only_typed_events_pass(
    base: int, event_name: str, changes: dict[str, object]
) -> None:
    record_ = json.loads(_GOOD[base])
    record_.update(changes)
    if event_name != "Other" and "event" not in changes:
        record_["event"] = event_name
    try:
        event = parse_event_line(json.dumps(record_).encode())
    except ValueError as error:
        assert str(error)
        return
    check_event(event)  # what passed has its documented types
    if isinstance(event, EpochEnded):
        assert isinstance(event.record, dict) and isinstance(event.record["epoch"], int)


@settings(max_examples=1000, deadline=None)
@given(line=st.binary(max_size=300))
def test_event_line_bytes_never_raise_anything_but_value_error(line: bytes) -> None:
    with contextlib.suppress(ValueError):
        parse_event_line(line)


# --- the run's own failures ---------------------------------------------------------------------


def _digits():
    from dnn_tui.config import DataConfig
    from dnn_tui.data import load_dataset

    return load_dataset(DataConfig(dataset="digits", limit=200))


def _history(run: Path) -> dict:
    return json.loads((run / "history.json").read_text())


def _notices(run: Path) -> list[str]:
    lines = (run / EVENTS_FILE).read_text().splitlines()
    return [r["text"] for r in map(json.loads, lines) if r["event"] == "Notice"]


class _FailingConsole:
    """A console that fails on the given event type: an error, an OSError ENOSPC or EIO."""

    def __init__(self, on: type, error: BaseException) -> None:
        self.on, self.error, self.failed, self.after = on, error, False, 0

    def __call__(self, event: object) -> None:
        self.after += self.failed
        if isinstance(event, self.on):
            self.failed = True
            raise self.error


def test_a_failure_while_the_run_starts_ends_it_as_failed_with_the_error(tmp_path: Path) -> None:
    from dnn_tui.rundir.launch import record_run

    folder = claim_run_dir(tmp_path / "run")
    controls = RunControls(None, 0.1)
    console = _FailingConsole(RunStarted, RuntimeError("the console broke"))
    with contextlib.suppress(RuntimeError):  # RunFinished reaches the broken console too
        record_run(CONFIG, folder, _digits(), controls, console)
    history = _history(tmp_path / "run")
    assert history["status"] == "failed"
    assert history["error"] == "before the first step: RuntimeError: the console broke"
    assert shown_status(history["status"], tmp_path / "run") == "failed"
    folder.close()


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO])
@pytest.mark.parametrize("on", [RunStarted, EpochEnded])
def test_a_console_that_cannot_be_written_never_fails_the_run(
    tmp_path: Path, code: int, on: type
) -> None:
    from dnn_tui.rundir.launch import record_run

    folder = claim_run_dir(tmp_path / "run")
    console = _FailingConsole(on, OSError(code, os.strerror(code)))
    result = record_run(CONFIG, folder, _digits(), RunControls(None, 0.1), console)
    assert result is not None and result.status == "completed"
    assert _history(tmp_path / "run")["status"] == "completed"
    said = [text for text in _notices(tmp_path / "run") if "console" in text]
    assert said == [f"the console cannot be written ({os.strerror(code)}); the run goes on"]
    assert console.failed and console.after == 0  # nothing more was shown through it
    folder.close()


def test_a_full_disk_under_stdout_leaves_the_report_quiet(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from dnn_tui.rundir.launch import run_headless

    class FullDisk(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    console = Console(file=FullDisk(), force_terminal=False)
    folder = claim_run_dir(tmp_path / "run")
    outcome = run_headless(CONFIG, folder, _digits(), console)
    assert outcome.status == "completed" and outcome.error is None
    assert _history(tmp_path / "run")["status"] == "completed"
    assert any("console cannot be written" in text for text in _notices(tmp_path / "run"))
    folder.close()


@pytest.mark.parametrize(
    "text", ["[" * 100_000, '{"schema": 2, "epochs": [1]}', '{"schema": 2, "status": []}']
)
def test_a_damaged_history_replays_nothing_and_never_raises(tmp_path: Path, text: str) -> None:
    run = make_run(tmp_path / "run")
    (run / "history.json").write_text(text)
    follower = RunFollower(run)
    assert follower.read_new() == []
    assert follower.finished is None


def test_a_sweep_keeps_a_runs_output_only_in_a_regular_file(tmp_path: Path) -> None:
    from dnn_tui.sweeps.local import keep_output

    run = tmp_path / "run"
    run.mkdir()
    keep_output(run, "said\n")
    assert (run / "output.log").read_text() == "said\n"
    outside = tmp_path / "outside"
    outside.write_text("kept\n")
    (run / "output.log").unlink()
    (run / "output.log").symlink_to(outside)
    keep_output(run, "not through a link\n")
    assert outside.read_text() == "kept\n"
    (run / "output.log").unlink()
    os.mkfifo(run / "output.log")
    _never_blocks(lambda: keep_output(run, "not into a FIFO\n"))


def test_a_sweep_reads_a_deeply_nested_history_as_none(tmp_path: Path) -> None:
    from dnn_tui.sweeps.local import _history

    (tmp_path / "history.json").write_text("[" * 100_000)
    assert _history(tmp_path) is None


def test_a_flood_during_a_run_is_counted_in_its_files(tmp_path: Path) -> None:
    from dnn_tui.rundir.launch import record_run

    folder = claim_run_dir(tmp_path / "run")
    flood = b"".join(
        json.dumps({"kind": "clipping", "value": i % 2 == 0}).encode() + b"\n"
        for i in range(10_000)
    )
    (tmp_path / "run" / CONTROL_FILE).write_bytes(flood + b"garbage\n" * 50)

    def slowly(event: object) -> None:  # long enough for the channel to read the flood
        if isinstance(event, EpochEnded):
            time.sleep(0.2)

    result = record_run(CONFIG, folder, _digits(), RunControls(None, 0.1), slowly)
    assert result is not None and result.status == "completed"
    notices = _notices(tmp_path / "run")
    assert len(notices) == REFUSALS_NOTED + 1
    ignored = re.search(r"ignored ([\d,]+) requests", notices[-1])
    assert ignored and int(ignored[1].replace(",", "")) >= 9_990
    assert "refused 45 more" in notices[-1]
    applied = [e for r in _history(tmp_path / "run")["epochs"] for e in r["events"]]
    assert 1 <= len(applied) <= 10  # not 10,000
    folder.close()


@pytest.mark.parametrize("kind", ["fifo", "link", "folder"])
def test_an_ended_run_whose_events_file_is_refused_is_shown_from_its_history(
    tmp_path: Path, kind: str
) -> None:
    """The watcher refuses a special events.jsonl (said once) and shows what history.json
    holds, as for a run without events.jsonl: the run is not mistaken for an interrupted one."""
    run = tmp_path / "run"
    shutil.copytree(FIXTURES / "baseline", run)
    events = run / EVENTS_FILE
    if kind == "fifo":
        os.mkfifo(events)
    elif kind == "link":
        (tmp_path / "elsewhere.jsonl").write_text("")
        events.symlink_to(tmp_path / "elsewhere.jsonl")
    else:
        events.mkdir()
    follower = RunFollower(run)
    read = _never_blocks(follower.read_new)
    assert isinstance(read[0], Notice) and "shown from its history.json" in read[0].text
    assert follower.finished is not None and follower.finished.status == "completed"
    assert sum(isinstance(event, EpochEnded) for event in read) == 20
    assert _never_blocks(follower.read_new) == []  # said once, replayed once


def _no_data() -> Any:
    raise DatasetError("images.idx: not an IDX file (its magic number is 0x6e6f7420)")


def _no_model() -> Any:
    raise RuntimeError("out of memory while building the model")


@pytest.mark.parametrize(
    ("load", "said"),
    [
        (_no_data, "before the first step: images.idx: not an IDX file"),
        (_no_model, "before the first step: out of memory (out of memory while building"),
    ],
)
def test_a_failure_before_the_run_started_keeps_its_folder_saying_why(
    tmp_path: Path, load: Callable[[], Any], said: str
) -> None:
    """A run whose data (or anything before its first step) fails after the claim ends as
    ``failed`` with the error, not as a folder given back (a background run's output.log,
    the only place the error was, went with it) nor as `running` then `interrupted`."""
    from dnn_tui.rundir.launch import record_run

    folder = claim_run_dir(tmp_path / "run")
    (tmp_path / "run" / "output.log").write_text("background run of baseline, pid 1\n")
    with pytest.raises((DatasetError, RuntimeError)):
        record_run(CONFIG, folder, load, RunControls(None, 0.1))
    history = _history(tmp_path / "run")
    assert history["status"] == "failed" and history["error"].startswith(said)
    assert history["dataset"] is None and history["epochs"] == []
    assert not (tmp_path / "run" / "liveness.json").exists()
    assert (tmp_path / "run" / "output.log").read_text().startswith("background run")
    (entry,) = list_runs(tmp_path)  # listed as failed, not damaged
    assert (entry.status, entry.dataset) == ("failed", CONFIG.data.dataset)
    folder.close()


def test_a_stop_before_the_first_step_still_gives_the_folder_back(tmp_path: Path) -> None:
    from dnn_tui.rundir.launch import record_run

    folder = claim_run_dir(tmp_path / "run")
    controls = RunControls(None, 0.1)

    def stopped_while_loading() -> Any:
        controls.stop()
        return _digits()

    assert record_run(CONFIG, folder, stopped_while_loading, controls) is None
    assert not (tmp_path / "run").exists()


# --- the epoch log (epochs.jsonl) ------------------------------------------------------------


def test_a_killed_runs_epoch_log_is_joined_and_its_unfinished_last_line_left_out(
    tmp_path: Path,
) -> None:
    run = logged_run(tmp_path)
    assert [r["epoch"] for r in load_run(run).history["epochs"]] == [1, 2, 3]
    with (run / EPOCHS_FILE).open("a") as log:
        log.write('{"epoch": 4, "train_loss": 0.1')  # the writer was killed mid-line
    assert [r["epoch"] for r in load_run(run).history["epochs"]] == [1, 2, 3]
    lines = (run / EPOCHS_FILE).read_text().splitlines()
    (run / EPOCHS_FILE).write_text("\n".join([*lines[:3], "\0\0\0\0"]) + "\n")  # a zeroed block
    assert [r["epoch"] for r in load_run(run).history["epochs"]] == [1, 2, 3]


def test_an_ended_runs_history_json_is_whole_and_its_log_not_read(tmp_path: Path) -> None:
    run = logged_run(tmp_path, status="completed")
    (run / EPOCHS_FILE).write_text("damaged\n" * 3)
    assert load_run(run).history["epochs"] == []  # what history.json says


def _rewrite_line(run: Path, index: int, change: Callable[[str], str]) -> None:
    lines = (run / EPOCHS_FILE).read_text().splitlines()
    lines[index] = change(lines[index])
    (run / EPOCHS_FILE).write_text("\n".join(lines) + "\n")


def _set(key: str, value: Any) -> Callable[[str], str]:
    return lambda line: json.dumps({**json.loads(line), key: value})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda line: line[:40], "line 2: not valid JSON"),
        (_set("val_acc", "x"), 'line 2.val_acc: must be a number from 0 to 1 or null, got "x"'),
        (_set("epoch", 1), "line 2.epoch: must follow epoch 1, got 1"),
        (_set("grad_norm", [1.0]), "line 2.grad_norm: must be a list of 4 norms"),
        (_set("act_std", [0.1] * 40), "line 2.act_std: must hold at most 33 per-layer entries"),
        (_set("other_hist", [[0.1] * 65]), r"line 2.other_hist\[0\]: must be a list of at most"),
        (
            lambda line: line[:-1] + ', "pad": "' + "x" * MAX_EPOCH_BYTES + '"}',
            "line 2: longer than",
        ),
    ],
)
def test_a_damaged_epoch_log_line_before_the_last_is_named(
    tmp_path: Path, change: Callable[[str], str], message: str
) -> None:
    run = logged_run(tmp_path)
    _rewrite_line(run, 1, change)
    with pytest.raises(RunError, match=re.escape(str(run / EPOCHS_FILE)) + ": " + message):
        load_run(run)


@pytest.mark.parametrize("kind", ["fifo", "link", "device"])
def test_an_epoch_log_that_is_no_regular_file_is_refused_unread(tmp_path: Path, kind: str) -> None:
    run = logged_run(tmp_path)
    target = run / EPOCHS_FILE
    if kind == "fifo":
        target.unlink()
        os.mkfifo(target)
    elif kind == "link":
        real = tmp_path / "elsewhere.jsonl"
        target.rename(real)
        target.symlink_to(real)
    else:
        target.unlink()
        target.symlink_to("/dev/zero")
    with pytest.raises(RunError, match=re.escape(str(target)) + ": not read"):
        _never_blocks(lambda: load_run(run))
