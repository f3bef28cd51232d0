"""The run's side of its directory while it goes on: a heartbeat, and steering requests.

Runs without any UI. One thread per run: every ``POLL_S`` it reads the requests that
watchers appended to ``control.jsonl`` (see ``dnn_tui.rundir.follow.RemoteControls``) and
applies each to the run's ``RunControls``, exactly as a key of the dashboard that started
it would: the engine takes it at its next step and records it, and every watcher sees it
applied in events.jsonl. Every ``HEARTBEAT_S`` it rewrites ``liveness.json``.

A polled file rather than a socket: it needs no server, works on network filesystems
(a sweep's runs on a cluster), and costs one ``fstat`` per poll.

A request is one JSON object a line: ``{"kind": K, "value": V}`` with K one of
``stop`` (value true), ``pause`` (true pauses, false resumes), ``clipping`` (true/false),
``clip_norm`` (a number > 0) and ``lr`` (a number > 0). Anything else is refused with a
notice in events.jsonl, and the run goes on.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from dnn_tui.fileio import Folder
from dnn_tui.rundir.files import CONTROL_FILE
from dnn_tui.rundir.liveness import HEARTBEAT_S
from dnn_tui.rundir.recorder import heartbeat
from dnn_tui.training.controls import RunControls

POLL_S = 0.01
"""Seconds between two looks at control.jsonl: a steering key reaches the run within this
(a look is one fstat while nothing came: a hundred a second cost nothing measurable)."""
MAX_REQUEST_BYTES = 1024
"""A request line longer than this is not one."""
MAX_READ_BYTES = 64 * 1024
"""Bytes read from control.jsonl per poll, at most (a flood cannot stall the run)."""


def apply_request(controls: RunControls, request: Any) -> str | None:
    """Apply one request to controls; the reason when it is refused, else None."""
    if not isinstance(request, dict) or not isinstance(request.get("kind"), str):
        return "a request must be an object with a 'kind'"
    kind, value = request["kind"], request.get("value")
    try:
        if kind == "stop" and value is True:
            controls.stop()
        elif kind == "pause" and isinstance(value, bool):
            controls.pause() if value else controls.resume()
        elif kind == "clipping" and isinstance(value, bool):
            controls.set_clipping(value)
        elif kind in ("clip_norm", "lr") and isinstance(value, int | float):
            if isinstance(value, bool):
                raise ValueError(f"{kind}: must be a number, got {value!r}")
            (controls.set_clip_norm if kind == "clip_norm" else controls.set_lr)(float(value))
        else:
            return f"{kind[:40]!r} with value {str(value)[:40]!r} is not a steering request"
    except ValueError as error:
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
        self._offset = 0
        self._partial = b""
        self._fd = folder.open_read_create(CONTROL_FILE)
        self._thread = threading.Thread(target=self._loop, name="dnn-tui-channel", daemon=True)

    def start(self) -> RunChannel:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the thread (the run ended) and take the requests that are there."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
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
            with contextlib.suppress(OSError):  # a folder gone or unreadable: the recorder says so
                self.poll()
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + HEARTBEAT_S
                with contextlib.suppress(OSError):
                    heartbeat(self.folder, self.started)

    def poll(self) -> int:
        """Apply the requests appended since the last poll; returns how many lines were read."""
        size = os.fstat(self._fd).st_size
        if size <= self._offset:
            return 0
        data = os.pread(self._fd, min(size - self._offset, MAX_READ_BYTES), self._offset)
        self._offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        if len(self._partial) > MAX_REQUEST_BYTES:
            self._partial = b""
            self._refuse("a request line is too long")
        for line in lines:
            if not line.strip():
                continue
            try:
                request = json.loads(line) if len(line) <= MAX_REQUEST_BYTES else None
            except (ValueError, UnicodeDecodeError):
                request = None
            reason = apply_request(self.controls, request)
            if reason is not None:
                self._refuse(reason)
        return len(lines)

    def _refuse(self, reason: str) -> None:
        if self.note is not None:
            self.note(f"steering request refused: {reason}")
