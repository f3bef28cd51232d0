"""Following a run through its directory: events.jsonl read as it grows, steering requests
written by RemoteControls and applied by the run's channel, history replayed for old runs."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import dnn_tui.rundir.follow as follow_module
from dnn_tui.fileio import Folder
from dnn_tui.rundir.channel import RunChannel, apply_request
from dnn_tui.rundir.follow import (
    FIRST_EPOCHS,
    HEAD_LINES,
    LAST_EPOCHS,
    EpochSample,
    RemoteControls,
    RunFollower,
    history_events,
)
from dnn_tui.rundir.recorder import RunRecorder, claim_run_dir
from dnn_tui.training.controls import RunControls
from dnn_tui.training.events import (
    EVENT_TYPES,
    BoundaryMeasured,
    ControlApplied,
    EpochEnded,
    Notice,
    RunFinished,
    RunResumed,
    RunStarted,
    StepMeasured,
    from_record,
    to_record,
)
from tests.helpers.run_files import (
    CONFIG,
    finished,
    record,
    run_channel,
    signal,
    started,
    weights,
)
from tests.helpers.waiting import wait_for


def step(epoch: int = 1, clipping: bool = False, clip_norm: float = 1.0, lr: float = 0.1):
    return StepMeasured(
        epoch,
        1,
        10,
        0.5,
        0.5,
        0.5,
        (1.0,),
        (1.0,),
        1.0,
        1.0,
        0.0,
        10.0,
        clipping,
        clip_norm,
        lr,
        1.0,
    )


def test_every_event_type_survives_a_round_trip_through_json() -> None:
    events = [
        Notice("text", "warning"),
        started(),
        step(),
        signal(0),
        weights(0),
        weights(1),
        ControlApplied(1, 2, "lr", 0.5),
        EpochEnded(record(1), 1, 3),
        RunFinished("failed", 1, None, None, 2.0, error="boom", partial_epoch={"epoch": 2}),
        BoundaryMeasured(1, 2, (-1.0, 1.0), (-1.5, 1.5), 2, ((0, 1), (1, 1)), ((1, 0, 0),)),
        RunResumed(3, 6),
    ]
    assert {type(e).__name__ for e in events} == set(EVENT_TYPES)
    for event in events:
        back = from_record(json.loads(json.dumps(to_record(event))))
        assert back == event


@pytest.mark.parametrize(
    "record",
    [{}, {"event": "Exploded"}, {"event": "ControlApplied", "epoch": 1}, [], {"event": 3}],
)
def test_records_that_are_not_events_are_refused(record) -> None:
    with pytest.raises(ValueError):
        from_record(record)


def test_the_follower_reads_complete_lines_as_they_are_appended(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    lines = [json.dumps(to_record(e)) + "\n" for e in (started(), step(), finished())]
    follower = RunFollower(tmp_path)
    assert follower.read_new() == []  # no log, no history yet
    log.write_text(lines[0] + lines[1][:20])
    assert [type(e) for e in follower.read_new()] == [RunStarted]
    with log.open("a") as handle:
        handle.write(lines[1][20:] + "not json\n" + lines[2])
    assert [type(e) for e in follower.read_new()] == [StepMeasured, RunFinished]
    assert follower.skipped == 1
    assert follower.finished is not None and follower.started is not None


def test_a_run_without_an_event_log_is_replayed_from_its_history(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    recorder(EpochEnded(record(1), 1, 3))
    recorder(EpochEnded(dict(record(2), val_loss=0.9), 1, 3))
    recorder(finished())
    (tmp_path / "events.jsonl").unlink()
    events = RunFollower(tmp_path).read_new()
    assert [type(e) for e in events] == [RunStarted, EpochEnded, EpochEnded, RunFinished]
    assert events[0].config == CONFIG
    assert [e.best_epoch for e in events[1:3]] == [1, 1]
    assert events[3].status == "completed"
    assert history_events({"epochs": []}, CONFIG)[0].layers == ()


def test_a_history_without_a_log_replays_its_activation_figures(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path)
    recorder(started())
    recorder(signal(0))
    recorder(EpochEnded({**record(1), **signal(1).record()}, 1, 3))
    recorder(EpochEnded(record(2), 1, 3))  # a record without figures (schema 1 style)
    recorder(finished())
    (tmp_path / "events.jsonl").unlink()
    events = RunFollower(tmp_path).read_new()
    assert [type(e).__name__ for e in events] == [
        "RunStarted", "ActivationsMeasured", "ActivationsMeasured", "EpochEnded", "EpochEnded",
        "RunFinished",
    ]  # fmt: skip
    assert events[1].record() == signal(0).record() and events[1].epoch == 0
    assert events[2].std == signal(1).std and events[2].epoch == 1


def test_following_an_ended_run_without_an_event_log_returns_its_end(tmp_path: Path) -> None:
    """No events.jsonl and no liveness record: the replayed history ends the follow with the
    run's own status, never as a run whose process is gone."""
    recorder = RunRecorder(tmp_path)
    recorder(started())
    recorder(EpochEnded(record(1), 1, 3))
    recorder(finished())
    for name in ("events.jsonl", "liveness.json"):
        (tmp_path / name).unlink(missing_ok=True)
    seen = []
    follower = RunFollower(tmp_path)
    end = follower.follow(seen.append, lambda: False, poll_s=0.001)
    assert end.status == "completed"
    assert follower.started is seen[0]
    assert [type(e) for e in seen] == [RunStarted, EpochEnded, RunFinished]


@pytest.mark.parametrize(
    ("line", "check"),
    [
        ({"kind": "stop", "value": True}, lambda c: c.stop_requested),
        ({"kind": "pause", "value": True}, lambda c: c.paused),
        ({"kind": "clipping", "value": True}, lambda c: c.clipping),
        ({"kind": "clip_norm", "value": 0.25}, lambda c: c.clip_norm == 0.25),
        ({"kind": "lr", "value": 3e-4}, lambda c: c.lr == 3e-4),
    ],
)
def test_each_steering_request_turns_its_knob(line, check) -> None:
    controls = RunControls(None, 0.1)
    assert apply_request(controls, line) is None
    assert check(controls)


@pytest.mark.parametrize(
    "line",
    [
        None,
        [],
        {"kind": "lr", "value": -1},
        {"kind": "lr", "value": "fast"},
        {"kind": "clip_norm", "value": True},
        {"kind": "stop", "value": False},
        {"kind": "explode", "value": 1},
        {"value": 1},
    ],
)
def test_bad_steering_requests_are_refused_with_a_reason(line) -> None:
    controls = RunControls(None, 0.1)
    reason = apply_request(controls, line)
    assert isinstance(reason, str) and reason
    assert controls.version == 0


def test_remote_controls_reach_the_runs_channel(tmp_path: Path) -> None:
    run_side = RunControls(None, 0.1)
    folder, channel, notes = run_channel(tmp_path / "run", run_side)
    watcher = RemoteControls(tmp_path / "run", None, 0.1)
    other = RemoteControls(tmp_path / "run", None, 0.1)  # a second watcher
    watcher.toggle_clipping()
    other.set_lr(0.05)
    watcher.scale_clip_norm(0.5)
    watcher.pause()
    with (tmp_path / "run" / "control.jsonl").open("a") as handle:
        handle.write('{"kind": "lr", "value": "x"}\n{"kind": "stop", "va')
    assert channel.poll() == 5
    assert run_side.clipping and run_side.clip_norm == 0.5 and run_side.lr == 0.05
    assert run_side.paused
    assert len(notes) == 1 and "lr" in notes[0]
    assert not run_side.stop_requested
    with (tmp_path / "run" / "control.jsonl").open("a") as handle:
        handle.write('lue": true}\n')
    channel.poll()
    assert run_side.stop_requested
    assert [kind for kind, _ in run_side.take_changes()] == [
        "clipping",
        "lr",
        "clip_norm",
        "pause",
        "stop",
    ]
    channel.close()
    folder.close()


def test_the_channel_thread_applies_requests_and_keeps_a_heartbeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dnn_tui.rundir.channel as channel_module

    monkeypatch.setattr(channel_module, "HEARTBEAT_S", 0.1)
    folder = claim_run_dir(tmp_path / "run")
    before = json.loads((tmp_path / "run" / "liveness.json").read_text())["heartbeat"]
    controls = RunControls(None, 0.1)
    with RunChannel(folder, controls):
        RemoteControls(tmp_path / "run", None, 0.1).stop()
        wait_for(lambda: controls.stop_requested, "the stop applied", timeout=5, interval=0.01)
        time.sleep(0.3)  # three heartbeats: liveness.json must have been rewritten meanwhile
    assert controls.stop_requested
    after = json.loads((tmp_path / "run" / "liveness.json").read_text())
    assert after["heartbeat"] > before and after["pid"] == os.getpid()
    folder.close()


def test_remote_controls_follow_what_the_run_applied(tmp_path: Path) -> None:
    (tmp_path / "control.jsonl").touch()
    controls = RemoteControls(tmp_path, None, 0.1)
    controls.observe(started())
    assert not controls.clipping and controls.lr == CONFIG.train.lr
    controls.observe(step(clipping=True, clip_norm=2.0, lr=0.01))
    assert (controls.clipping, controls.clip_norm, controls.lr) == (True, 2.0, 0.01)
    controls.observe(ControlApplied(1, 2, "pause", True))
    assert controls.paused
    controls.observe(ControlApplied(1, 2, "pause", False))
    assert not controls.paused
    assert (tmp_path / "control.jsonl").read_text() == ""  # observing sends nothing
    controls.toggle_clipping()
    assert controls.pending and not controls.clipping  # shown as sent until the run says so
    assert json.loads((tmp_path / "control.jsonl").read_text()) == {
        "kind": "clipping",
        "value": False,
    }
    controls.observe(ControlApplied(1, 3, "clipping", False))
    assert not controls.pending
    controls.observe(finished())
    assert controls.stop_requested


def test_a_folder_is_written_by_descriptor(tmp_path: Path) -> None:
    folder = Folder(tmp_path)
    folder.write_atomic("a.txt", b"one")
    (tmp_path).rename(tmp_path.with_name(tmp_path.name + "-moved"))
    folder.write_atomic("a.txt", b"two")  # still the same folder, under its new name
    moved = tmp_path.with_name(tmp_path.name + "-moved")
    assert (moved / "a.txt").read_bytes() == b"two"
    assert not tmp_path.exists()
    folder.close()
    moved.rename(tmp_path)


def test_a_sent_request_wakes_the_follower_at_once(tmp_path: Path) -> None:
    """A key's request must not wait out the follower's pause between two looks: the run's
    answer is looked for from the moment the request went."""
    run_dir = tmp_path / "run"
    recorder = RunRecorder(claim_run_dir(run_dir))  # this process is the run's, alive
    recorder(started())
    recorder.flush()
    (run_dir / "control.jsonl").touch()  # a run's channel makes it
    controls = RemoteControls.of(run_dir)
    seen: list = []
    ended: list = []
    follower = RunFollower(run_dir)
    thread = threading.Thread(
        target=lambda: ended.append(
            follower.follow(seen.append, lambda: False, poll_s=60, controls=controls)
        )
    )
    thread.start()
    wait_for(lambda: seen, "the follower's first event", timeout=10, interval=0.01)
    recorder(finished())  # the run ends while the follower waits out its 60 s pause
    recorder.flush()
    sent = time.monotonic()
    controls.toggle_clipping()
    thread.join(timeout=10)
    assert ended and ended[0].status == "completed"
    assert time.monotonic() - sent < 5


def long_run(path: Path, epochs: int, *, end: bool) -> RunRecorder:
    """A run of many epochs written by the recorder (progress reports between the epochs)."""
    recorder = RunRecorder(path)
    recorder(started())
    for epoch in range(1, epochs + 1):
        recorder(Notice(f"epoch {epoch} of a long run " + "." * 300))
        recorder(EpochEnded(record(epoch), best_epoch=epoch, epochs=epochs))
    if end:
        recorder(finished(best=epochs))
    else:
        recorder.flush()
    return recorder


def test_a_long_finished_run_opens_from_its_summary_and_parses_only_its_tail(
    tmp_path: Path,
) -> None:
    long_run(tmp_path, 3000, end=True)
    assert (tmp_path / "events.jsonl").stat().st_size > 1 << 20
    follower = RunFollower(tmp_path)
    events = follower.read_new()
    assert follower.parsed <= HEAD_LINES + 1  # its first lines and the RunFinished line
    ended = [e.record["epoch"] for e in events if isinstance(e, EpochEnded)]
    # the first and the last epochs whole, a bounded sample of those in between
    assert ended[:FIRST_EPOCHS] == list(range(1, FIRST_EPOCHS + 1))
    assert ended[-LAST_EPOCHS:] == list(range(3001 - LAST_EPOCHS, 3001))
    assert ended == sorted(set(ended)) and len(ended) <= FIRST_EPOCHS + LAST_EPOCHS + 4 * 256
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    assert follower.finished is not None and follower.finished.best_epoch == 3000


def test_a_long_running_run_opens_from_its_summary_then_follows_what_is_new(
    tmp_path: Path,
) -> None:
    recorder = long_run(tmp_path, 3000, end=False)
    follower = RunFollower(tmp_path)
    events = follower.read_new()
    assert follower.parsed <= HEAD_LINES
    assert [e.record["epoch"] for e in events if isinstance(e, EpochEnded)][-1] == 3000
    assert follower.finished is None
    recorder(EpochEnded(record(3001), best_epoch=3000, epochs=3001))
    recorder(finished(best=3000))
    new = follower.read_new()
    assert [type(e) for e in new] == [EpochEnded, RunFinished]
    assert new[0].record["epoch"] == 3001


def test_epochs_that_end_while_a_long_run_opens_are_told_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = long_run(tmp_path, 3000, end=False)
    real = follow_module.epoch_log

    def epochs_end_meanwhile(*args: object) -> Iterator[dict]:
        for epoch in (3001, 3002, 3003):
            recorder(EpochEnded(record(epoch), best_epoch=1, epochs=3003))
        recorder.flush()
        return real(*args)

    monkeypatch.setattr(follow_module, "epoch_log", epochs_end_meanwhile)
    ended = [
        e.record["epoch"] for e in RunFollower(tmp_path).read_new() if isinstance(e, EpochEnded)
    ]
    assert ended == sorted(set(ended)) and ended[-LAST_EPOCHS:] == list(
        range(3004 - LAST_EPOCHS, 3004)
    )
    recorder.close()


def test_a_sample_of_a_long_runs_epochs_keeps_every_spike_and_the_best_epoch() -> None:
    sample = EpochSample(50_000 * 900)
    for epoch in range(1, 50_001):
        val_loss = 9.0 if epoch == 20_000 else 1.0 - epoch / 100_000
        train_acc = 0.01 if epoch == 30_000 else 0.9
        sample.add({**record(epoch), "val_loss": val_loss, "train_acc": train_acc})
    kept = sample.kept()
    epochs = [r["epoch"] for r, _ in kept]
    assert epochs == sorted(set(epochs)) and len(kept) <= FIRST_EPOCHS + LAST_EPOCHS + 4 * 256
    assert {20_000, 30_000} <= set(epochs)  # the spikes, however short
    best = {r["epoch"]: b for r, b in kept}
    assert best[20_000] == 19_999 and best[50_000] == 50_000  # the best at that point


def test_a_long_run_without_an_epoch_log_opens_from_its_history(tmp_path: Path) -> None:
    long_run(tmp_path, 3000, end=True)
    (tmp_path / "epochs.jsonl").unlink()  # as a run older than the epoch log left it
    follower = RunFollower(tmp_path)
    events = follower.read_new()
    assert follower.parsed <= 3
    ended = [e.record["epoch"] for e in events if isinstance(e, EpochEnded)]
    assert ended == list(range(1, 3001)) and isinstance(events[-1], RunFinished)


def test_a_long_continued_run_opens_with_the_epochs_it_goes_on_to(tmp_path: Path) -> None:
    """Its log opens with the first run's start; config.toml says how far it goes now."""
    from dnn_tui.config import dumps

    long_run(tmp_path, 3000, end=False)
    config = dataclasses.replace(CONFIG, train=dataclasses.replace(CONFIG.train, epochs=5000))
    (tmp_path / "config.toml").write_text(dumps(config))
    events = RunFollower(tmp_path).read_new()
    assert isinstance(events[0], RunStarted) and events[0].config.train.epochs == 5000
    assert {e.epochs for e in events if isinstance(e, EpochEnded)} == {5000}
