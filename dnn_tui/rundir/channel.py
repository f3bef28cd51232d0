"""The run's side of its directory while it goes on: a heartbeat, and steering requests.

Runs without any UI. One thread per run: every ``POLL_S`` it reads the requests that
watchers appended to ``control.jsonl`` (see ``dnn_tui.rundir.follow.RemoteControls``) and
applies each to the run's ``RunControls``, exactly as a key of the dashboard that started
it would: the engine takes it at its next step and records it, and every watcher sees it
applied in events.jsonl. Every ``HEARTBEAT_S`` it rewrites ``liveness.json``.

A polled file rather than a socket: it needs no server, works on network filesystems
(a sweep's runs on a cluster), and costs one ``fstat`` per poll.

A request is one JSON object a line: ``{"kind": K, "value": V}`` with K one of
``stop`` (value true; ``"pruned"`` from a search's pruner: the run ends ``pruned``),
``pause`` (true pauses, false resumes), ``clipping`` (true/false), ``clip_norm`` (a number
> 0), ``lr`` (a number > 0) and ``step`` (value true: one optimizer step of a paused run,
refused when the run is not paused). Two more change nothing the run learns and are not
recorded as controls: ``trace`` (an integer: the sample whose pass a paused run traces into
trace.json, wrapped to its split's size; refused when the run is not paused) and ``boundary``
(true/false: whether a watcher shows the decision regions, measured only then). Anything
else is refused with a notice in events.jsonl, and the run goes on.

control.jsonl is untrusted input: anyone who can write to the runs folder can append to it.
So nothing in it can end the thread (every line is refused with a reason or applied, and a
failure of a whole poll is recorded once and the loop goes on), the heartbeat has its own
guard, and a flood is not amplified: of the requests of one kind only the latest counts, a
kind is applied at most every ``MIN_APPLY_S`` (steps are counted, not replaced: each is
one step, up to ``MAX_STEPS_WAITING`` waiting), a line longer than ``MAX_REQUEST_BYTES`` is
dropped whole up to its newline, only the first ``REFUSALS_NOTED`` refusals get a notice
each, and what was ignored or refused beyond them is counted and told in one notice (at most
every ``SUMMARY_S``, and when the run ends).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from dnn_tui.fileio import FileRefused, Folder, error_line, shorten
from dnn_tui.rundir.files import CONTROL_FILE
from dnn_tui.rundir.liveness import HEARTBEAT_S
from dnn_tui.rundir.recorder import heartbeat
from dnn_tui.training.controls import RunControls

PRUNED = "pruned"
"""The value of a ``stop`` request from a search's pruner."""
POLL_S = 0.01
"""Seconds between two looks at control.jsonl: a steering key reaches the run within this
(a look is one fstat while nothing came: a hundred a second cost nothing measurable)."""
MAX_REQUEST_BYTES = 1024
"""A request line longer than this is not one."""
MAX_READ_BYTES = 64 * 1024
"""Bytes read from control.jsonl per poll, at most (a flood cannot stall the run)."""
MIN_APPLY_S = 0.1
"""Seconds between two requests of one kind applied, at least (``stop`` excepted): a key held
down is followed within this, a flood writes at most ten changes a second per kind into the
run's history. A request that comes sooner waits, replaced by any later one of its kind."""
MAX_SAMPLE = 1 << 31
"""A ``trace`` request's sample lies in [-MAX_SAMPLE, MAX_SAMPLE) (wrapped to the split's size)."""
MAX_STEPS_WAITING = 100
"""Step requests that wait to be applied, at most; more are ignored (counted as replaced)."""
REFUSALS_NOTED = 5
"""Refused requests that get a notice each; further ones are counted (see ``SUMMARY_S``)."""
SUMMARY_S = 10.0
"""Seconds between two notices that count the requests ignored or refused since the last."""


def parse_request(line: bytes) -> tuple[str, Any] | str:
    """``(kind, value)`` of a well-formed request line, else the reason it is refused.

    Never raises: the line is untrusted (deep nesting, huge numbers, bytes that are no UTF-8
    all end as a reason). Values are checked by type here and by range when applied.
    """
    if len(line) > MAX_REQUEST_BYTES:
        return f"a request line is longer than {MAX_REQUEST_BYTES} bytes"
    try:
        request = json.loads(line)
    except RecursionError:
        return "a request line is nested too deeply"
    except (ValueError, UnicodeDecodeError):
        return "a request line is not JSON"
    return check_request(request)


def check_request(request: Any) -> tuple[str, Any] | str:
    """``(kind, value)`` when request (a JSON value) is a steering request, else the reason."""
    if not isinstance(request, dict) or not isinstance(request.get("kind"), str):
        return "a request must be an object with a 'kind'"
    kind, value = request["kind"], request.get("value")
    if kind == "step" and value is True:
        return kind, value
    if kind == "stop" and (value is True or value == PRUNED):
        return kind, value
    if kind in ("pause", "clipping", "boundary") and isinstance(value, bool):
        return kind, value
    if kind == "trace":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"trace: must be an integer (a sample's index), got {shorten(value)}"
        if not -MAX_SAMPLE <= value < MAX_SAMPLE:
            return f"trace: must lie in [-{MAX_SAMPLE}, {MAX_SAMPLE}), got {shorten(value)}"
        return kind, value
    if kind in ("clip_norm", "lr"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{kind}: must be a number, got {shorten(value)}"
        return kind, value
    return f"{shorten(kind)} with value {shorten(value)} is not a steering request"


def apply_request(controls: RunControls, request: Any) -> str | None:
    """Apply one request (a JSON value) to controls; the reason when it is refused, else None."""
    checked = check_request(request)
    return checked if isinstance(checked, str) else _apply(controls, *checked)


def _apply(controls: RunControls, kind: str, value: Any) -> str | None:
    """Turn the knob of a well-formed request; the reason when its value is out of range."""
    try:
        if kind == "stop":
            controls.prune() if value == PRUNED else controls.stop()
        elif kind == "pause":
            controls.pause() if value else controls.resume()
        elif kind == "clipping":
            controls.set_clipping(value)
        elif kind == "step":
            if not controls.step():
                return "step: one step needs a paused run (pause it first)"
        elif kind == "trace":
            if not controls.trace(value):
                return "trace: tracing a sample needs a paused run (pause it first)"
        elif kind == "boundary":
            controls.want_boundary(value)
        elif kind == "clip_norm":
            controls.set_clip_norm(value)
        else:
            controls.set_lr(value)
    except (ValueError, OverflowError) as error:
        return str(error)
    return None


class RunChannel:
    """The thread that keeps liveness.json fresh and takes steering requests."""

    def __init__(
        self,
        folder: Folder,
        controls: RunControls,
        note: Callable[[str], None] | None = None,
        started: float | None = None,
    ) -> None:
        self.folder = folder
        self.controls = controls
        self.note = note
        """Where refused requests are reported (the recorder's events.jsonl)."""
        self.started = started if started is not None else time.time()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        """Held while requests are taken or counted (the run's thread tells the counts)."""
        self._offset = 0
        self._partial = b""
        self._skipping = False
        """Inside a line longer than MAX_REQUEST_BYTES: dropped up to its newline."""
        self._waiting: dict[str, Any] = {}
        """The latest request of each kind that waits for MIN_APPLY_S to pass."""
        self._applied_at: dict[str, float] = {}
        self.ignored = 0
        """Requests replaced by a later one of their kind before they were applied."""
        self.refused = 0
        """Requests refused (a reason each)."""
        self._untold = [0, 0]
        """Ignored and refused requests no notice told of yet."""
        self._last_reason = ""
        self._next_summary = time.monotonic() + SUMMARY_S
        self._poll_failed = False
        self._beat_failed = False
        self._fd = -1
        try:
            self._fd = folder.open_read_create(CONTROL_FILE)
        except FileRefused as error:  # a FIFO, a device or a link put there: never read
            self._say(f"steering requests are not read: {error_line(error)}")
        self._thread = threading.Thread(target=self._loop, name="dnn-tui-channel", daemon=True)

    def start(self) -> RunChannel:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the thread (the run ended) and take the requests that are there."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.tell_counts()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> RunChannel:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _loop(self) -> None:
        next_beat = time.monotonic() + HEARTBEAT_S
        while not self._stop.wait(POLL_S):
            try:
                self.poll()
            except Exception as error:  # a folder gone, or a bug: said once, the loop goes on
                if not self._poll_failed:
                    self._poll_failed = True
                    self._say(f"steering requests cannot be read: {error_line(error)}")
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + HEARTBEAT_S
                try:
                    heartbeat(self.folder, self.started)
                except OSError:
                    pass  # a folder that cannot be written: the recorder names it
                except Exception as error:  # a bug: said once, the next beat is tried anyway
                    if not self._beat_failed:
                        self._beat_failed = True
                        self._say(f"the heartbeat failed: {error_line(error)}")

    def poll(self) -> int:
        """Apply the requests appended since the last poll; returns how many lines were read."""
        with self._lock:
            return self._poll()

    def tell_counts(self) -> None:
        """Say now what was ignored or refused since the last notice (the run is ending: its
        files are written once more, and the count belongs in them)."""
        with self._lock:
            self._summarise(force=True)

    def _poll(self) -> int:
        lines: list[bytes] = []
        if self._fd >= 0:
            size = os.fstat(self._fd).st_size
            if size > self._offset:
                data = os.pread(self._fd, min(size - self._offset, MAX_READ_BYTES), self._offset)
                self._offset += len(data)
                lines = self._lines(data)
        for line in lines:
            if not line.strip():
                continue
            parsed = parse_request(line)
            if isinstance(parsed, str):
                self._refuse(parsed)
                continue
            kind, value = parsed
            queued = self._waiting.pop(kind, None)
            if kind == "step":  # counted: each request is one step
                value = min((queued or 0) + 1, MAX_STEPS_WAITING)
            if queued is not None and (kind != "step" or queued == MAX_STEPS_WAITING):
                self.ignored += 1
                self._untold[0] += 1
            self._waiting[kind] = value  # latest last: kinds are applied in their order
        self._apply_waiting()
        self._summarise()
        return len(lines)

    def _lines(self, data: bytes) -> list[bytes]:
        """The whole lines data completes; a line over the limit is dropped up to its newline."""
        if self._skipping:
            end = data.find(b"\n")
            if end < 0:
                return []
            self._skipping = False
            data = data[end + 1 :]
        *lines, self._partial = (self._partial + data).split(b"\n")
        if len(self._partial) > MAX_REQUEST_BYTES:
            self._partial = b""
            self._skipping = True
            self._refuse(f"a request line is longer than {MAX_REQUEST_BYTES} bytes")
        return lines

    def _apply_waiting(self) -> None:
        now = time.monotonic()
        for kind, value in list(self._waiting.items()):
            if kind != "stop" and now - self._applied_at.get(kind, -MIN_APPLY_S) < MIN_APPLY_S:
                continue
            del self._waiting[kind]
            self._applied_at[kind] = now
            if kind == "step":
                if value > 1:
                    self._waiting[kind] = value - 1
                value = True
            reason = _apply(self.controls, kind, value)
            if reason is not None:
                self._refuse(reason)

    def _refuse(self, reason: str) -> None:
        self.refused += 1
        self._last_reason = reason
        if self.refused <= REFUSALS_NOTED:
            self._say(f"steering request refused: {reason}")
        else:
            self._untold[1] += 1

    def _summarise(self, *, force: bool = False) -> None:
        """One notice that counts what was ignored or refused without a notice of its own."""
        now = time.monotonic()
        ignored, refused = self._untold
        if (not force and now < self._next_summary) or not (ignored or refused):
            return
        self._next_summary = now + SUMMARY_S
        self._untold = [0, 0]
        parts = []
        if ignored:
            parts.append(f"ignored {ignored:,} requests replaced by a later one of their kind")
        if refused:
            parts.append(f"refused {refused:,} more (the latest: {self._last_reason})")
        self._say(f"{CONTROL_FILE}: steering requests " + "; ".join(parts))

    def _say(self, text: str) -> None:
        if self.note is not None:
            self.note(text)
