"""A run seen through its directory: its events replayed and followed, its keys sent to it.

Runs without any UI. ``RunFollower`` reads the run so far and then the lines of
``events.jsonl`` appended since (the run live), as engine events, exactly those a
dashboard gets from a run in its own thread. A short log is replayed from its start; a long
one (``RESUME_FROM_BYTES``) is opened from its summary instead: the finished epochs from
history.json joined with the epoch log, the run's ``RunStarted`` from the log's first line,
and only the lines after the last finished epoch's ``EpochEnded`` (found by reading the log
backwards), so a run of any length opens in about the same time. It tells a run that ended
(``RunFinished``) from one whose process is gone without finishing (``liveness``). A run
older than the event log (only ``history.json``) is replayed from its history.

``RemoteControls`` are ``RunControls`` whose changes go to the run as requests appended to
its ``control.jsonl`` (see ``dnn_tui.rundir.channel``) instead of to an engine in this process;
their state follows what the run reports it applied, so every watcher shows the same. A request
that cannot be written (a read-only folder, a full disk) raises ``SteeringFailed`` saying why,
and the knob keeps the state the run last reported: a watcher never shows "paused" for a pause
the run never got.

Both read and write run files others may have made: events.jsonl and control.jsonl are opened
without following a symbolic link and without waiting on a FIFO, and used only when they are
regular files.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnn_tui.fileio import error_line, open_regular
from dnn_tui.rundir.eventlog import parse_event_line
from dnn_tui.rundir.files import (
    CONFIG_FILE,
    CONTROL_FILE,
    EPOCH_KEYS,
    EPOCHS_FILE,
    EVENTS_FILE,
    HISTORY_FILE,
    RunError,
    epoch_log,
    read_history,
)
from dnn_tui.rundir.liveness import is_alive, read_liveness
from dnn_tui.training.controls import RunControls
from dnn_tui.training.events import (
    ActivationsMeasured,
    ControlApplied,
    EpochEnded,
    Event,
    Notice,
    RunFinished,
    RunStarted,
    StepMeasured,
    WeightsMeasured,
)
from dnn_tui.training.status import Status

if TYPE_CHECKING:
    from dnn_tui.config import RunConfig

POLL_S = 0.1
"""Seconds between two looks at events.jsonl while following. The dashboard draws what came
every 0.5 s (the status line of a followed run) and every 2 s (its panels); each look wakes
a thread of the watching process, which takes a core from the run it watches. A key's
request ends the wait at once (see ``RunFollower.follow``)."""
HURRY_POLL_S = 0.005
"""Seconds between two looks while a steering request waits for the run's answer (the key's
effect shows as soon as the run has applied it)."""
LIVENESS_CHECK_S = 1.0
"""Seconds between two checks that the run's process is still there."""
READ_CHUNK = 1 << 20
"""Bytes read from events.jsonl at a time."""
MAX_LINE_BYTES = 16 << 20
"""An events.jsonl line longer than this is damaged (a RunStarted of a 32-layer model is
a few kB)."""
RESUME_FROM_BYTES = 1 << 20
"""events.jsonl from this size on (a few hundred epochs) is opened from the run's summary
(see the module docstring); a shorter one is replayed whole (its notices included)."""
TAIL_SCAN_BYTES = 64 << 20
"""How far back from its end events.jsonl is searched for the last finished epoch's line
(a few kB an epoch); beyond, it is replayed whole."""
HEAD_BYTES = 1 << 16
"""Bytes read from the start of a long events.jsonl: its RunStarted and the figures before the
first step (a RunStarted of a 32-layer model is a few kB)."""
HEAD_LINES = 8
"""Lines after RunStarted searched for the figures before the first step."""
FIRST_EPOCHS = 16
"""A long run's first epochs, told whole (a view compares the first with the next ones)."""
LAST_EPOCHS = 1000
"""A long run's last epochs, told whole: at least twice what a view's epoch table keeps (500),
so that the table, which then keeps the last ones, shows no gap."""
SAMPLE_BUCKETS = 256
"""Groups the epochs in between are told in: each by the records of its extremes."""
ENDED_PREFIX = b'\n{"event":"EpochEnded","record":{"epoch":'
"""How the recorder starts an EpochEnded line (after the previous line's newline)."""
PROBLEMS_NAMED = 5
"""Damaged events.jsonl lines named in a notice each; further ones are only counted."""


class RunGone(Exception):
    """The run's process ended without finishing the run (killed, or its machine went away)."""


class SteeringFailed(OSError):
    """A steering request could not be written to the run's control.jsonl; the message says
    which file and why."""


READ_FLAGS = os.O_RDONLY
"""How a watcher opens events.jsonl (``open_regular`` adds: no link followed, no FIFO waited on)."""
APPEND_FLAGS = os.O_WRONLY | os.O_APPEND
"""How a watcher appends a request to control.jsonl, a file the run created."""


class RunFollower:
    """The events of one run directory, read as they are appended."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.finished: RunFinished | None = None
        """The run's RunFinished once it was read."""
        self.started: RunStarted | None = None
        self.skipped = 0
        """Lines that were not events (damaged, or from a newer version): left out."""
        self.refused: str | None = None
        """Why events.jsonl is not read (not a regular file), once it was refused."""
        self.problems: list[str] = []
        """The first damaged lines, each named by its number and with the broken rule."""
        self._told = 0
        self._line = 0
        self._skipping = False
        self._offset = 0
        self._partial = b""
        self._from_history = False
        self._ended: RunFinished | None = None
        self._resumed_to = 0
        """The last epoch the summary told (a long log's opening)."""
        self.parsed = 0
        """Lines of events.jsonl parsed so far (a long run's opening parses only its tail)."""

    def read_new(self) -> list[Event]:
        """The events appended since the last call (all of them the first time)."""
        if self._from_history:
            return []
        path = self.run_dir / EVENTS_FILE
        try:
            fd = open_regular(path, READ_FLAGS)
        except FileNotFoundError:
            return self._replay_history() if self._offset == 0 else []
        except OSError as error:  # a FIFO, a device, a link: never read; said once
            if self.refused is not None:
                return []
            self.refused = error_line(error)
            replayed = self._replay_history() if self._offset == 0 else []
            shown = "shown from its history.json" if replayed else "the run's events are not shown"
            return [Notice(f"{self.refused}; {shown}", "warning"), *replayed]
        events: list[Event] = []
        try:
            if self._offset == 0:
                events.extend(self._resume(fd))
            while True:
                chunk = os.pread(fd, READ_CHUNK, self._offset)
                if not chunk:
                    break
                self._offset += len(chunk)
                events.extend(self._parse(chunk))
        finally:
            os.close(fd)
        ended, self._ended = self._ended, None
        if self.finished is None and ended is not None:
            self.finished = ended
            events.append(ended)
        return events

    def _parse(self, chunk: bytes) -> list[Event]:
        if self._skipping:  # the rest of a line over MAX_LINE_BYTES, up to its newline
            end = chunk.find(b"\n")
            if end < 0:
                return []
            self._skipping = False
            self._line += 1
            chunk = chunk[end + 1 :]
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        events = []
        for line in lines:
            self._line += 1
            if not line.strip():
                continue
            self.parsed += 1
            try:
                event = parse_event_line(line)
            except ValueError as error:
                self._skip(str(error))
                continue
            if isinstance(event, RunStarted):
                self.started = event
            elif isinstance(event, RunFinished):
                self.finished = event
            elif isinstance(event, EpochEnded) and event.record["epoch"] <= self._resumed_to:
                continue  # told by the summary already
            events.append(event)
        if len(self._partial) > MAX_LINE_BYTES:
            self._partial = b""
            self._skipping = True
            self._skip(f"longer than {MAX_LINE_BYTES:,} bytes", self._line + 1)
        return events

    def _resume(self, fd: int) -> list[Event]:
        """A long events.jsonl opened from the run's summary (the module docstring): the events
        that tell the finished epochs, with the offset set after the last one's line; nothing
        (a replay from the start) for a short log, or where the summary does not read."""
        if os.fstat(fd).st_size < RESUME_FROM_BYTES:
            return []
        head = [line for line in os.pread(fd, HEAD_BYTES, 0).split(b"\n")[:-1] if line.strip()]
        try:
            started = parse_event_line(head[0]) if head else None
        except ValueError:
            return []
        if not isinstance(started, RunStarted):
            return []
        started = self._epochs_now(started)
        try:
            if os.path.lexists(self.run_dir / EPOCHS_FILE):
                events, last = self._logged_epochs(started, head[1:HEAD_LINES])
            else:  # a run older than the epoch log: its history.json has every epoch
                events, last = self._history_epochs(started)
        except (RunError, OSError, KeyError, TypeError, ValueError, AttributeError):
            return []
        # Taken now, the log holds every epoch read above (each is written there first).
        offset = after_epoch(fd, os.fstat(fd).st_size, last) if last else None
        if offset is None:
            return []
        self.started = started
        self._resumed_to = last
        self._offset = offset
        self._line = _count_lines(fd, offset)
        return events

    def _epochs_now(self, started: RunStarted) -> RunStarted:
        """The run's start with the epochs its config.toml says now: a continued run's log
        opens with the first run's start, and its RunResumed (which says how far it goes now)
        lies among the epochs the summary tells."""
        from dnn_tui.config import ConfigError, load

        try:
            epochs = load(self.run_dir / CONFIG_FILE).train.epochs
        except (OSError, ValueError, ConfigError):
            return started
        config = started.config
        if epochs == config.train.epochs:
            return started
        return replace(started, config=replace(config, train=replace(config.train, epochs=epochs)))

    def _logged_epochs(self, started: RunStarted, head: list[bytes]) -> tuple[list[Event], int]:
        """The finished epochs from the epoch log, read one at a time and sampled
        (``EpochSample``), with the start's and the last epoch's activation figures."""
        initial, initial_weights = None, None
        for line in head:  # the figures before the first step come just after RunStarted
            self.parsed += 1
            with contextlib.suppress(ValueError):
                event = parse_event_line(line)
                if isinstance(event, ActivationsMeasured) and event.epoch == 0:
                    initial = event
                elif isinstance(event, WeightsMeasured) and event.epoch == 0:
                    initial_weights = event
            if initial is not None and initial_weights is not None:
                break
        path = self.run_dir / EPOCHS_FILE
        sample = EpochSample(os.stat(path).st_size)
        for record in epoch_log(path, 0, len(started.layers)):
            sample.add(record)
        config = started.config
        events: list[Event] = [started, *([initial] if initial else [])]
        events += [initial_weights] if initial_weights else []
        events += [EpochEnded(record, best, config.train.epochs) for record, best in sample.kept()]
        last = sample.last
        if last is not None and "weight_norm" in last:
            with contextlib.suppress(KeyError, TypeError, ValueError, IndexError):
                events.append(WeightsMeasured.from_history(last, started.layers, last["epoch"]))
        if initial is not None and last is not None:
            about = {
                "layers": initial.layers,
                "samples": initial.samples,
                "share": initial.share_kind,
                "hist_range": initial.hist_range,
            }
            with contextlib.suppress(KeyError, TypeError, ValueError, IndexError):
                activation = config.model.activation
                events.append(
                    ActivationsMeasured.from_history(last, about, activation, last["epoch"], 1)
                )
        return events, last["epoch"] if last else 0

    def _history_epochs(self, started: RunStarted) -> tuple[list[Event], int]:
        """The finished epochs of a run without an epoch log, from its history.json."""
        history = read_history(self.run_dir / HISTORY_FILE)
        self.parsed += 1
        self._ended = history_finished(history)  # told by the tail too, unless it was cut
        events = history_events(history, started.config, started, every_signal=False)
        epochs = history["epochs"]
        return events, epochs[-1]["epoch"] if epochs else 0

    def _skip(self, reason: str, line: int | None = None) -> None:
        """Leave out a damaged line, naming it (the first PROBLEMS_NAMED of them)."""
        self.skipped += 1
        if len(self.problems) < PROBLEMS_NAMED:
            self.problems.append(
                f"{EVENTS_FILE} line {line or self._line}: skipped: {reason[:200]}"
            )
        elif len(self.problems) == PROBLEMS_NAMED:
            self.problems.append(f"{EVENTS_FILE}: further damaged lines are skipped unnamed")

    def _replay_history(self) -> list[Event]:
        """A run without events.jsonl (older, or a plain copy): its history as events."""
        from dnn_tui.config import ConfigError, load

        try:  # checked as the loader checks it: a damaged history replays nothing
            history = read_history(self.run_dir / HISTORY_FILE)
            config = load(self.run_dir / CONFIG_FILE)
        except (RunError, OSError, ValueError, ConfigError):
            return []
        self._from_history = True
        try:
            events = history_events(history, config)
        except (KeyError, TypeError, ValueError, AttributeError):
            self.skipped += 1
            return []
        for event in events:  # as _parse does: an ended run's replay ends the follow
            if isinstance(event, RunStarted):
                self.started = event
            elif isinstance(event, RunFinished):
                self.finished = event
        return events

    def process_alive(self) -> bool:
        """Whether the run's process is still there."""
        return is_alive(self.run_dir)

    def follow(
        self,
        emit: Callable[[Event], None],
        cancelled: Callable[[], bool],
        poll_s: float = POLL_S,
        controls: RemoteControls | None = None,
    ) -> RunFinished:
        """Emit every event, the past ones first, until the run finishes (returned).

        While a request of ``controls`` waits for the run's answer, events.jsonl is read
        every ``HURRY_POLL_S`` instead of every ``poll_s``, from the moment it is sent (a
        request ends the wait at once), so a key's effect shows as soon as the run applied it.

        Raises RunGone when the run's process is gone without finishing it; returns early
        (with the finished event if any) when ``cancelled()`` says so.
        """
        next_check = 0.0
        while True:
            for event in self.read_new():
                emit(event)
            for problem in self.problems[self._told :]:  # the watch goes on, and says so
                emit(Notice(problem, "warning"))
            self._told = len(self.problems)
            if self.finished is not None or cancelled():
                return self.finished  # type: ignore[return-value]
            now = time.monotonic()
            if now >= next_check:
                next_check = now + LIVENESS_CHECK_S
                if not self.process_alive():
                    for event in self.read_new():  # what it wrote before it went
                        emit(event)
                    if self.finished is not None:
                        return self.finished
                    raise RunGone(self.gone_reason())
            if controls is None:
                time.sleep(poll_s)
            elif controls.requested.wait(HURRY_POLL_S if controls.pending else poll_s):
                controls.requested.clear()

    def gone_reason(self) -> str:
        record = read_liveness(self.run_dir)
        if record is None:
            return "its process is gone (no liveness record)"
        return f"its process (pid {record.pid} on {record.host}) is gone"


class EpochSample:
    """What a view draws of a long run's finished epochs, taken one at a time: the first
    FIRST_EPOCHS and the last LAST_EPOCHS whole, and of the epochs in between, in
    SAMPLE_BUCKETS groups, the records that hold each group's highest losses and lowest
    accuracies (its curves draw each cell's worst value, so no spike is lost), each with the
    best epoch at that point (the engine's rule). Its size is bounded whatever the run's
    length: a view gets a few thousand epochs to show, not 50,000."""

    WORST = (("train_loss", max), ("val_loss", max), ("train_acc", min), ("val_acc", min))

    def __init__(self, log_bytes: int) -> None:
        self._group_epochs = 1 + log_bytes // (SAMPLE_BUCKETS * 400)  # lines of 400 B at least
        self._kept: list[tuple[dict[str, Any], int | None]] = []
        self._last: deque[tuple[dict[str, Any], int | None]] = deque()
        self._group: dict[str, tuple[float, dict[str, Any], int | None]] = {}
        self._group_index = -1
        self._count = 0
        self._best: int | None = None
        self._lowest = math.inf
        self.last: dict[str, Any] | None = None
        """The last epoch's record."""

    def add(self, record: dict[str, Any]) -> None:
        loss = record.get("val_loss")
        if isinstance(loss, int | float) and loss < self._lowest:
            self._best, self._lowest = record["epoch"], loss
        self._count += 1
        self.last = record
        item = ({key: record[key] for key in EPOCH_KEYS}, self._best)  # the figures a view
        # draws of a past epoch; the activation lists (most of a record) only for the last one
        if self._count <= FIRST_EPOCHS:
            self._kept.append(item)
            return
        self._last.append(item)
        if len(self._last) > LAST_EPOCHS:
            self._group_of(self._last.popleft(), self._count - LAST_EPOCHS - 1)

    def _group_of(self, item: tuple[dict[str, Any], int | None], index: int) -> None:
        group = index // self._group_epochs
        if group != self._group_index:
            self._close_group()
            self._group_index = group
        record, best = item
        for key, worst in self.WORST:
            value = record.get(key)
            if isinstance(value, int | float):
                held = self._group.get(key)
                if held is None or worst(value, held[0]) != held[0]:
                    self._group[key] = (value, record, best)

    def _close_group(self) -> None:
        chosen = {id(record): (record, best) for _, record, best in self._group.values()}
        self._kept += sorted(chosen.values(), key=lambda item: item[0]["epoch"])
        self._group.clear()

    def kept(self) -> list[tuple[dict[str, Any], int | None]]:
        """The records told, in epoch order, each with the best epoch at that point (the last
        one whole, the others with the keys of ``EPOCH_KEYS``)."""
        self._close_group()
        kept = [*self._kept, *self._last]
        if kept and self.last is not None:
            kept[-1] = (self.last, kept[-1][1])
        return kept


def after_epoch(fd: int, size: int, epoch: int) -> int | None:
    """The offset just after the EpochEnded line of ``epoch`` (or of the last epoch before it)
    in events.jsonl open as fd, searched backwards from its end; None when not found within
    TAIL_SCAN_BYTES."""
    end, carry = size, b""
    while end > 0 and size - end < TAIL_SCAN_BYTES:
        start = max(0, end - READ_CHUNK)
        chunk = os.pread(fd, end - start, start) + carry
        at = len(chunk)
        while (at := chunk.rfind(ENDED_PREFIX, 0, at)) >= 0:
            digits = chunk[at + len(ENDED_PREFIX) : at + len(ENDED_PREFIX) + 12]
            number = digits[: len(digits) - len(digits.lstrip(b"0123456789"))]
            if number and int(number) <= epoch:
                line_start = start + at + 1
                rest = os.pread(fd, MAX_LINE_BYTES, line_start)
                newline = rest.find(b"\n")
                return None if newline < 0 else line_start + newline + 1
        carry = chunk[: len(ENDED_PREFIX) + 12]
        end = start
    return None


def _count_lines(fd: int, offset: int) -> int:
    """Lines of the file open as fd before offset (damaged lines are named by their number)."""
    count, at = 0, 0
    while at < offset:
        chunk = os.pread(fd, min(READ_CHUNK, offset - at), at)
        if not chunk:
            break
        count += chunk.count(b"\n")
        at += len(chunk)
    return count


def history_events(
    history: dict[str, Any],
    config: Any,
    started: RunStarted | None = None,
    *,
    every_signal: bool = True,
) -> list[Event]:
    """Engine events that tell what a history.json says (for runs without events.jsonl, and
    the finished epochs of a long run: then with its own ``started`` and only the last epoch's
    activation figures, which are all the signal panel shows)."""
    layers = tuple(history.get("layers") or ())
    events: list[Event] = [
        started
        or RunStarted(
            config=config,
            dataset=history.get("dataset") or {},
            layers=layers,
            parameters=tuple(f"{layer}.weight" for layer in layers),
            summary="",
            total_params=0,
            device="?",
            steps_per_epoch=1,
        )
    ]
    about = history.get("activations")

    def signal(figures: Any, epoch: int) -> None:
        """The activation figures of the run's start or of an epoch end, when it has them."""
        if isinstance(about, dict) and isinstance(figures, dict) and "act_std" in figures:
            with contextlib.suppress(KeyError, TypeError, ValueError, IndexError):
                events.append(
                    ActivationsMeasured.from_history(
                        figures, about, config.model.activation, epoch, 0 if epoch == 0 else 1
                    )
                )

    def weights(figures: Any, epoch: int) -> None:
        """The weights' figures of the run's start or of an epoch end, when it has them."""
        if isinstance(figures, dict) and "weight_norm" in figures:
            with contextlib.suppress(KeyError, TypeError, ValueError, IndexError):
                events.append(WeightsMeasured.from_history(figures, layers, epoch))

    signal(history.get("initial"), 0)
    weights(history.get("initial"), 0)
    best, best_loss = None, float("inf")
    records = history.get("epochs") or []
    for index, record in enumerate(records):
        loss = record.get("val_loss")
        if isinstance(loss, int | float) and loss < best_loss:  # the engine's rule
            best, best_loss = record.get("epoch"), loss
        epoch = record.get("epoch")
        if every_signal or index == len(records) - 1:
            signal(record, epoch if isinstance(epoch, int) else 0)
            weights(record, epoch if isinstance(epoch, int) else 0)
        events.append(EpochEnded(record, best, config.train.epochs))
    finished = history_finished(history)
    if finished is not None and every_signal:
        events.append(finished)
    return events


def history_finished(history: dict[str, Any]) -> RunFinished | None:
    """The end a history.json tells (None while it says running)."""
    status = history.get("status")
    if not status or status == Status.RUNNING:
        return None
    return RunFinished(
        status=status,
        best_epoch=history.get("best_epoch"),
        test=history.get("test"),
        diverged=history.get("diverged"),
        seconds=sum(r.get("seconds") or 0.0 for r in history.get("epochs") or []),
        error=history.get("error"),
        partial_epoch=history.get("partial_epoch"),
    )


class RemoteControls(RunControls):
    """The knobs of a run in another process (see the module docstring)."""

    def __init__(
        self,
        run_dir: str | Path,
        clip_norm: float | None,
        lr: float | None,
        config: RunConfig | None = None,
    ) -> None:
        super().__init__(clip_norm, lr)
        self.run_dir = Path(run_dir)
        self.config = config
        """The run's config.toml when it was there to read."""
        self._write_lock = threading.Lock()
        self._sent: set[str] = set()
        self._known = self._state()
        """Each knob as the run reported it or as a request that was written asks."""
        self.requested = threading.Event()
        """Set when a request was sent (wakes a follower waiting for its next look)."""

    @classmethod
    def of(cls, run_dir: str | Path) -> RemoteControls:
        """The controls of the run in run_dir, starting from its config.toml when it has one."""
        from dnn_tui.config import ConfigError, load

        try:
            config = load(Path(run_dir) / CONFIG_FILE)
        except ConfigError:
            return cls(run_dir, None, None)
        return cls(run_dir, config.train.clip_norm, config.train.lr, config)

    def _changed(self, kind: str, value: Any) -> None:
        """Send the change to the run (the run applies it at its next step and says so).

        Called with the knob already turned; when the request cannot be written the knob is
        turned back and SteeringFailed says why.
        """
        line = (json.dumps({"kind": kind, "value": value}, allow_nan=False) + "\n").encode()
        path = self.run_dir / CONTROL_FILE
        try:
            with self._write_lock:
                # Appends of one short line are atomic: several watchers may write at once.
                fd = open_regular(path, APPEND_FLAGS)
                try:
                    written = os.write(fd, line)
                finally:
                    os.close(fd)
            if written != len(line):
                raise OSError(errno.ENOSPC, "only part of the request was written")
        except OSError as error:
            self._restore(kind)
            reason = error.strerror or str(error)
            raise SteeringFailed(f"{path}: {kind} not sent to the run: {reason}") from None
        self.version += 1
        self._known = self._state()
        self._sent.add(kind)
        self.requested.set()

    def _send(self, kind: str, value: Any) -> None:
        """Append a request that turns no recorded knob (``trace``, ``boundary``)."""
        try:
            with self._write_lock:
                append_request(self.run_dir, kind, value)
        except OSError as error:
            reason = error.strerror or str(error)
            path = self.run_dir / CONTROL_FILE
            raise SteeringFailed(f"{path}: {kind} not sent to the run: {reason}") from None
        self.requested.set()

    def trace(self, sample: int) -> bool:
        """Ask the paused run to trace this sample into its trace.json."""
        if not self.paused or self.stop_requested:
            return False
        self.trace_sample = sample
        self._send("trace", sample)
        return True

    def want_boundary(self, on: bool) -> None:
        """Ask the run to measure the decision regions (or to stop): sent only on a change,
        and a request that cannot be written leaves them unasked (the panel says they are not
        measured; the run never depends on it)."""
        if on == self.boundary_wanted:
            return
        if self.stop_requested:  # the run ends or ended: nothing to ask of it any more
            self.boundary_wanted = on
            return
        try:
            self._send("boundary", on)
        except SteeringFailed:
            return
        self.boundary_wanted = on

    def _state(self) -> dict[str, Any]:
        return {
            "stop": self._stop.is_set(),
            "pause": not self._resumed.is_set(),
            "clipping": self._clipping,
            "clip_norm": self._clip_norm,
            "lr": self._lr,
        }

    def _restore(self, kind: str) -> None:
        """Turn one knob back to the state known before a request that was not sent."""
        if kind == "step":
            return  # a step turns no knob
        value = self._known[kind]
        if kind == "stop":
            (self._stop.set if value else self._stop.clear)()
        elif kind == "pause":
            (self._resumed.clear if value else self._resumed.set)()
        elif kind == "clipping":
            self._clipping = value
        elif kind == "clip_norm":
            self._clip_norm = value
        else:
            self._lr = value

    @property
    def pending(self) -> bool:
        """Whether a request was sent that the run has not said it applied yet."""
        return bool(self._sent)

    def observe(self, event: Event) -> None:
        """Take the run's own account of its knobs (what it applied) as the state."""
        with self._lock:
            if isinstance(event, RunStarted):
                clip = event.config.train.clip_norm
                self._clipping = clip is not None
                if clip is not None:
                    self._clip_norm = clip
                self._lr = event.config.train.lr
            elif isinstance(event, StepMeasured):
                self._clipping, self._clip_norm, self._lr = (
                    event.clipping,
                    event.clip_norm,
                    event.lr,
                )
            elif isinstance(event, ControlApplied):
                self._sent.discard(event.kind)
                if event.kind == "clipping":
                    self._clipping = bool(event.value)
                elif event.kind == "clip_norm":
                    self._clip_norm = float(event.value)
                elif event.kind == "lr":
                    self._lr = float(event.value)
                elif event.kind == "pause":
                    (self._resumed.clear if event.value else self._resumed.set)()
                elif event.kind == "stop":
                    self._stop.set()
            elif isinstance(event, RunFinished):
                self._stop.set()
                self._resumed.set()
                self._sent.clear()
            self._known = self._state()


def append_request(run_dir: str | Path, kind: str, value: Any) -> None:
    """Append one steering request to the run's control.jsonl (a regular file only, never
    through a link); OSError says why it could not be written."""
    line = (json.dumps({"kind": kind, "value": value}, allow_nan=False) + "\n").encode()
    fd = open_regular(Path(run_dir) / CONTROL_FILE, APPEND_FLAGS)
    try:
        if os.write(fd, line) != len(line):
            raise OSError(errno.ENOSPC, "only part of the request was written")
    finally:
        os.close(fd)
