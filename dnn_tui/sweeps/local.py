"""Running a sweep: its runs as processes of their own on this machine (``LocalBackend``) or
as Ray tasks (``dnn_tui.sweeps.ray_tasks``), and the loop that keeps ``sweep.json`` up to date.

Runs without any UI; torch is imported only by the runs' own processes. Each run is the
headless ``train`` of a background run (``python -m dnn_tui.rundir.launch RUN_DIR``), started in a
session of its own with its PyTorch threads set through ``OMP_NUM_THREADS``. Stopping sends
each running run SIGTERM, so it stops after its current step and saves itself as
``stopped``; a run that ends before its first step (refused by the engine, stopped while its
data loads) still leaves a run directory whose history.json says how it ended and why.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from dnn_tui.fileio import Folder, open_regular, read_small_file
from dnn_tui.rundir.files import (
    HISTORY_FILE,
    LOG_FILE,
    MAX_HISTORY_BYTES,
)
from dnn_tui.rundir.liveness import shown_status
from dnn_tui.rundir.readings import acc_on_test, best_record, best_val_acc, max_val_acc
from dnn_tui.rundir.recorder import record_unstarted
from dnn_tui.sweeps.planning import PlannedRun, write_state
from dnn_tui.training.status import ENDED_ON_ITS_OWN, Status

ERROR_PREFIX = "dnn-tui: error: "


@dataclass(frozen=True)
class Ended:
    """A run whose process has ended: its exit code (None when unknown) and last error line."""

    run: PlannedRun
    code: int | None
    error: str | None = None
    skipped: bool = False
    """It never started: the sweep was stopped first."""


class Backend(Protocol):
    queued_status: str
    """What sweep.json says of a submitted run: ``running``, or ``queued`` where a scheduler
    decides when it starts."""

    def room(self) -> bool: ...
    def busy(self) -> bool: ...
    def submit(self, run: PlannedRun) -> None: ...
    def wait(self, timeout: float) -> list[Ended]: ...
    def stop(self) -> None: ...
    def kill(self) -> None: ...


def error_line(text: str) -> str | None:
    """The last ``dnn-tui: error:`` line of a run's output, without the prefix."""
    lines = [line for line in text.splitlines() if line.startswith(ERROR_PREFIX)]
    return lines[-1][len(ERROR_PREFIX) :].strip() if lines else None


class LocalBackend:
    """Up to ``jobs`` runs at once, each a process of its own with ``threads`` torch threads."""

    queued_status = Status.RUNNING

    def __init__(self, root: Path, jobs: int, threads: int) -> None:
        self.root, self.jobs, self.threads = root, jobs, threads
        self.running: dict[str, tuple[PlannedRun, Any, IO[bytes]]] = {}

    def room(self) -> bool:
        return len(self.running) < self.jobs

    def busy(self) -> bool:
        return bool(self.running)

    def submit(self, run: PlannedRun) -> None:
        from dnn_tui.rundir.launch import spawn_run_process
        from dnn_tui.rundir.recorder import claim_run_dir

        folder = claim_run_dir(self.root / run.name)
        errors = tempfile.TemporaryFile()  # noqa: SIM115 - its stderr: the reason, should it fail
        try:
            child = spawn_run_process(folder, run.config, threads=self.threads, stderr=errors)
        except BaseException:
            errors.close()
            raise
        finally:
            folder.close()
        self.running[run.name] = (run, child, errors)

    def wait(self, timeout: float) -> list[Ended]:
        deadline = time.monotonic() + timeout
        while True:
            ended = [name for name, job in self.running.items() if job[1].poll() is not None]
            if ended or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        out = []
        for name in ended:
            run, child, errors = self.running.pop(name)
            errors.seek(0)
            text = errors.read().decode("utf-8", errors="replace")
            errors.close()
            keep_output(self.root / name, text)
            out.append(Ended(run, child.returncode, error_line(text)))
        return out

    def _signal(self, signum: int) -> None:
        for _, child, _ in self.running.values():
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signum)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)


def keep_output(run_dir: Path, text: str) -> None:
    """Append what a run's process said on stderr to its output.log (only to a regular file:
    never through a link someone put there, never waiting on a FIFO)."""
    if text and run_dir.is_dir():
        with contextlib.suppress(OSError):
            fd = open_regular(run_dir / LOG_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            try:
                os.write(fd, text.encode("utf-8", "replace"))
            finally:
                os.close(fd)


def _history(run_dir: Path) -> dict[str, Any] | None:
    try:
        history = json.loads(read_small_file(run_dir / HISTORY_FILE, MAX_HISTORY_BYTES))
    except (OSError, ValueError, RecursionError):
        return None
    valid = isinstance(history, dict) and isinstance(history.get("epochs"), list)
    return history if valid else None


def write_unstarted(run_dir: Path, run: PlannedRun, status: str, error: str | None) -> None:
    """history.json of a run that ended before its first step, so the folder says so."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with Folder(run_dir) as folder:
        record_unstarted(folder, run.config, status, error)


def outcome(root: Path, ended: Ended, stopping: bool) -> dict[str, Any]:
    """sweep.json's record of an ended run, read from its history.json."""
    run_dir = root / ended.run.name
    history = _history(run_dir)
    stopped_code = ended.code in (130, -signal.SIGTERM, -signal.SIGINT)
    if history is None:
        status = Status.STOPPED if stopping and stopped_code else Status.FAILED
        reason = ended.error or (None if status == Status.STOPPED else f"exit code {ended.code}")
        write_unstarted(run_dir, ended.run, status, reason)
        history = {"status": status, "epochs": [], "error": reason}
    status = shown_status(history.get("status"), run_dir)
    # Read loosely (this history was not checked): only records that are objects count.
    records = {
        "epochs": [e for e in history["epochs"] if isinstance(e, dict)],
        "best_epoch": history.get("best_epoch"),
        "test": history.get("test"),
    }
    best = records["best_epoch"] if best_record(records) is not None else None
    return {
        "status": status,
        "exit_code": ended.code,
        "epochs": len(history["epochs"]),
        "best_epoch": best,
        "best_val_acc": best_val_acc(records),
        "max_val_acc": max_val_acc(records),
        "test_acc": acc_on_test(records) if best is not None else None,
        "error": history.get("error") or (ended.error if status == Status.FAILED else None),
    }


def drive(
    root: Path,
    runs: Sequence[PlannedRun],
    state: dict[str, Any],
    backend: Backend,
    *,
    stop: threading.Event,
    kill: threading.Event,
    report: Callable[[Mapping[str, Any], int, int], None],
) -> dict[str, Any]:
    """Run every run through backend, keeping sweep.json current; returns the final state.

    ``stop`` stops the running runs (they save themselves as stopped) and starts no more;
    ``kill`` ends them at once. A run that fails does not stop the others.
    """
    entries = {entry["dir"]: entry for entry in state["runs"]}
    pending, stopping, killed, done = deque(runs), False, False, 0
    write_state(root, state)
    while pending or backend.busy():
        if stop.is_set() and not stopping:
            stopping = True
            backend.stop()
            for run in pending:
                entries[run.name]["status"] = "skipped"
            pending.clear()
            write_state(root, state)
        if kill.is_set() and not killed:
            killed = True
            backend.kill()
        while pending and backend.room():
            run = pending.popleft()
            entry = entries[run.name]
            entry["started"] = time.time()
            try:
                backend.submit(run)
            except Exception as error:  # this run cannot start; the others go on
                entry.update(status=Status.FAILED, error=str(error), seconds=0.0)
                done += 1
                report(entry, done, len(runs))
            else:
                entry["status"] = backend.queued_status
            write_state(root, state)
        for ended in backend.wait(0.2):
            entry = entries[ended.run.name]
            if ended.skipped:
                entry["status"] = "skipped"
                continue
            entry.update(outcome(root, ended, stopping))
            entry["seconds"] = round(time.time() - entry.get("started", time.time()), 3)
            done += 1
            write_state(root, state)
            report(entry, done, len(runs))
    statuses = [entry["status"] for entry in state["runs"]]
    if stopping:
        state["status"] = Status.STOPPED
    else:
        ended_so = all(s in ENDED_ON_ITS_OWN for s in statuses)
        state["status"] = Status.COMPLETED if ended_so else Status.FAILED
    state["ended"] = time.time()
    write_state(root, state)
    return state
