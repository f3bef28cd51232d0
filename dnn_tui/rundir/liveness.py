"""Liveness: whether the process that runs a run is still there.

Runs without any UI and without torch. A run claims its directory by creating
``liveness.json`` (pid, host, start times) and rewrites it with a fresh heartbeat
every ``HEARTBEAT_S`` while it goes on. A reader decides from it whether a run
whose history.json says ``running`` really is:

- on the same host, the pid must exist and (on Linux) be the same process: its start
  time in ``/proc/<pid>/stat`` is recorded, so a pid reused by another program does not
  count; a stopped (SIGSTOP) or busy process is alive however old its heartbeat is;
- on another host (a shared network folder), the heartbeat must be younger than
  ``STALE_S``.

Everything else (no file, an unreadable one, a dead pid) means the process is gone, and
readers show such a run as ``interrupted``. The record is untrusted input (anyone who can
write to a shared runs folder wrote it): ``parse_liveness`` checks every field's type and
range in one place, and a record that breaks a rule counts as no record, never as an error.
A heartbeat dated more than ``CLOCK_SKEW_S`` ahead does not count: it would otherwise keep a
dead run "running" until that date.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dnn_tui.fileio import read_small_file
from dnn_tui.training.status import Status

LIVENESS_FILE = "liveness.json"
HEARTBEAT_S = 2.0
"""Seconds between two heartbeats of a running run."""
STALE_S = 30.0
"""A heartbeat older than this, from another host, means the run's process is gone."""
MAX_BYTES = 4096
"""liveness.json is a handful of fields; anything larger is not one."""
CLOCK_SKEW_S = 60.0
"""How far ahead of this host's clock another host's heartbeat may be and still count: clocks
of a cluster agree to within seconds; a heartbeat further ahead is damaged or made up."""
MAX_PID = 2**22
"""Linux's largest pid (``pid_max`` cannot be set higher): beyond it a pid is not one (and
``os.kill`` would overflow)."""
MAX_HOST = 255
"""A host name is at most 255 characters (RFC 1035's limit for a whole name)."""


@dataclass(frozen=True)
class Liveness:
    """The record a run keeps in ``liveness.json``."""

    pid: int
    host: str
    started: float
    """Unix time the run's process claimed the directory."""
    heartbeat: float
    """Unix time of the latest heartbeat."""
    process_start: int | None = None
    """The process's start time in clock ticks since boot (Linux), against pid reuse."""

    def alive(self, now: float | None = None) -> bool:
        """Whether the run's process is still there (see the module docstring)."""
        if self.host != hostname():
            age = (now if now is not None else time.time()) - self.heartbeat
            return -CLOCK_SKEW_S <= age < STALE_S
        if not pid_exists(self.pid):
            return False
        current = process_start_time(self.pid)
        return self.process_start is None or current is None or current == self.process_start

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def hostname() -> str:
    return socket.gethostname()


def pid_exists(pid: int) -> bool:
    """Whether a process with this pid exists (zombies count as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    stat = _proc_stat(pid)
    return stat is None or stat[0] != "Z"


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[-1].split()


def process_start_time(pid: int) -> int | None:
    """The start time of a process in clock ticks since boot (Linux), or None."""
    fields = _proc_stat(pid)
    try:
        return int(fields[19]) if fields else None
    except (IndexError, ValueError):
        return None


def current(started: float | None = None) -> Liveness:
    """The record of this process, with a heartbeat of now."""
    now = time.time()
    pid = os.getpid()
    return Liveness(
        pid=pid,
        host=hostname(),
        started=started if started is not None else now,
        heartbeat=now,
        process_start=process_start_time(pid),
    )


def _is_time(value: Any) -> bool:
    """A Unix time a record may hold: a finite, non-negative number (not a boolean)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value < 2**40
    )


def parse_liveness(raw: bytes) -> Liveness | None:
    """The record liveness.json's bytes hold, or None when they are not a valid one.

    The one place the fields are checked: ``pid`` an integer from 1 to ``MAX_PID``, ``host``
    a non-empty string of at most ``MAX_HOST`` characters, ``started`` and ``heartbeat``
    finite times, ``process_start`` null or a non-negative integer. Never raises: a damaged
    record means the same as a missing one (the run is shown as interrupted).
    """
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    pid, host = data.get("pid"), data.get("host")
    started, beat = data.get("started"), data.get("heartbeat")
    process_start = data.get("process_start")
    if not isinstance(pid, int) or isinstance(pid, bool) or not 0 < pid <= MAX_PID:
        return None
    if not isinstance(host, str) or not 0 < len(host) <= MAX_HOST:
        return None
    if not (_is_time(started) and _is_time(beat)):
        return None
    if process_start is not None and (
        not isinstance(process_start, int)
        or isinstance(process_start, bool)
        or not 0 <= process_start < 2**63
    ):
        return None
    return Liveness(
        pid=pid,
        host=host,
        started=float(started),
        heartbeat=float(beat),
        process_start=process_start,
    )


def read_liveness(run_dir: str | Path) -> Liveness | None:
    """The run's liveness record, or None when it is missing or not a valid one."""
    try:
        data = read_small_file(Path(run_dir) / LIVENESS_FILE, MAX_BYTES)
    except OSError:
        return None
    return parse_liveness(data)


def is_alive(run_dir: str | Path) -> bool:
    """Whether the process of the run in run_dir is still there."""
    record = read_liveness(run_dir)
    return record is not None and record.alive()


def shown_status(status: str, run_dir: str | Path) -> str:
    """The status every view shows for a run whose history says ``status``: ``interrupted``
    when it says running but its process is gone (killed without a chance to end it: SIGKILL,
    a lost node), else the status as recorded. The liveness record is read only then."""
    if status == Status.RUNNING and not is_alive(run_dir):
        return Status.INTERRUPTED
    return status
