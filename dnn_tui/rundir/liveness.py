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
readers show such a run as ``interrupted``.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from dnn_tui.fileio import read_small_file
from dnn_tui.training.status import Status

LIVENESS_FILE = "liveness.json"
HEARTBEAT_S = 2.0
"""Seconds between two heartbeats of a running run."""
STALE_S = 30.0
"""A heartbeat older than this, from another host, means the run's process is gone."""
MAX_BYTES = 4096
"""liveness.json is a handful of fields; anything larger is not one."""


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
            return (now if now is not None else time.time()) - self.heartbeat < STALE_S
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


def read_liveness(run_dir: str | Path) -> Liveness | None:
    """The run's liveness record, or None when it is missing or not a valid one."""
    try:
        data = json.loads(read_small_file(Path(run_dir) / LIVENESS_FILE, MAX_BYTES))
        record = Liveness(
            pid=data["pid"],
            host=data["host"],
            started=data["started"],
            heartbeat=data["heartbeat"],
            process_start=data.get("process_start"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    numbers = (record.pid, record.started, record.heartbeat)
    if not isinstance(record.host, str) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in numbers
    ):
        return None
    if record.process_start is not None and not isinstance(record.process_start, int):
        return None
    return record


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
