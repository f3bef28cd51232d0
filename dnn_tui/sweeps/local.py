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
import math
import os
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

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

if TYPE_CHECKING:
    from dnn_tui.sweeps.search import Search

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
    def progress(self) -> list[tuple[str, int, float]]: ...
    def prune(self, name: str) -> None: ...
    def wait(self, timeout: float) -> list[Ended]: ...
    def stop(self) -> None: ...
    def kill(self) -> None: ...


def error_line(text: str) -> str | None:
    """The last ``dnn-tui: error:`` line of a run's output, without the prefix."""
    lines = [line for line in text.splitlines() if line.startswith(ERROR_PREFIX)]
    return lines[-1][len(ERROR_PREFIX) :].strip() if lines else None


class EpochWatch:
    """The epoch ends of one run as its events.jsonl tells them: ``(epoch, val_loss)``."""

    def __init__(self, run_dir: Path) -> None:
        from dnn_tui.rundir.follow import RunFollower

        self.follower = RunFollower(run_dir)

    def new(self) -> list[tuple[int, float]]:
        from dnn_tui.training.events import EpochEnded

        out = []
        for event in self.follower.read_new():
            if isinstance(event, EpochEnded):
                loss = _number(event.record, "val_loss")
                if loss is not None:
                    out.append((int(event.record["epoch"]), loss))
        return out


def prune_run(run_dir: Path) -> bool:
    """Ask the run in run_dir to stop after its current step as ``pruned`` (its control
    channel); False when the request cannot be written."""
    from dnn_tui.rundir.channel import PRUNED
    from dnn_tui.rundir.follow import append_request

    try:
        append_request(run_dir, "stop", PRUNED)
    except OSError:
        return False
    return True


class AdoptedRun:
    """A run's process this sweep did not start (a killed driver's, found alive on
    ``--resume``): followed through its run directory, stopped through its control channel."""

    returncode: int | None = None

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def poll(self) -> int | None:
        from dnn_tui.rundir.liveness import is_alive

        return None if is_alive(self.run_dir) else 0

    def send_signal(self, _signum: int) -> None:
        from dnn_tui.rundir.follow import append_request

        with contextlib.suppress(OSError):
            append_request(self.run_dir, "stop", True)


class LocalBackend:
    """Up to ``jobs`` runs at once, each a process of its own with ``threads`` torch threads."""

    queued_status = Status.RUNNING

    def __init__(self, root: Path, jobs: int, threads: int) -> None:
        self.root, self.jobs, self.threads = root, jobs, threads
        self.running: dict[str, tuple[PlannedRun, Any, IO[bytes]]] = {}
        self.watches: dict[str, EpochWatch] = {}

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

    def adopt(self, run: PlannedRun) -> None:
        """Take in a run whose process is still going (see ``AdoptedRun``)."""
        errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the run ends, as submit's
        self.running[run.name] = (run, AdoptedRun(self.root / run.name), errors)

    def progress(self) -> list[tuple[str, int, float]]:
        """The epoch ends the running runs told since the last call: (name, epoch, val loss)."""
        out = []
        for name in self.running:
            watch = self.watches.setdefault(name, EpochWatch(self.root / name))
            out.extend((name, epoch, loss) for epoch, loss in watch.new())
        return out

    def prune(self, name: str) -> None:
        prune_run(self.root / name)

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
            self.watches.pop(name, None)
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


def _number(record: Mapping[str, Any] | None, key: str) -> float | None:
    value = None if record is None else record.get(key)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


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
        "best_val_loss": _number(best_record(records), "val_loss") if best is not None else None,
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
    search: Search | None = None,
) -> dict[str, Any]:
    """Run every run through backend, keeping sweep.json current; returns the final state.

    ``stop`` stops the running runs (they save themselves as stopped) and starts no more;
    ``kill`` ends them at once. A run that fails does not stop the others. With a search,
    a trial is asked whenever the backend has room, until the search has its trials; each
    running trial's epoch ends go to its pruner, and each ended one is told to the study.
    """
    entries = {entry["dir"]: entry for entry in state["runs"]}
    pending, stopping, killed = deque(runs), False, False
    done = sum(1 for entry in state["runs"] if entry.get("status") in _ENDED)
    total = search.trials if search is not None else done + len(runs) + _busy(state)

    def asking() -> bool:
        return search is not None and not stopping and search.counted(state["runs"]) < total

    write_state(root, state)
    while pending or backend.busy() or asking():
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
        while (pending or asking()) and backend.room():
            run = pending.popleft() if pending else _asked(search, state, entries)
            entry = entries[run.name]
            entry["started"] = time.time()
            try:
                backend.submit(run)
            except Exception as error:  # this run cannot start; the others go on
                entry.update(status=Status.FAILED, error=str(error), seconds=0.0)
                done += 1
                if search is not None:
                    search.tell(run.name, entry)
                report(entry, done, total)
            else:
                entry["status"] = backend.queued_status
            write_state(root, state)
        if search is not None and search.prune_with is not None and not stopping:
            _prune(search, backend)
        for ended in backend.wait(0.2):
            entry = entries[ended.run.name]
            _record_end(root, entry, ended, stopping)
            if search is not None:
                search.tell(ended.run.name, entry)
            if ended.skipped:
                continue
            done += 1
            write_state(root, state)
            report(entry, done, total)
    state["status"] = _sweep_status(state, stopping)
    state["ended"] = time.time()
    write_state(root, state)
    return state


_REPLACED = frozenset({Status.INTERRUPTED, Status.STOPPED, "skipped"})
"""A search's trials that ended without a result: a new trial was asked in their place."""


def _sweep_status(state: Mapping[str, Any], stopping: bool) -> str:
    """Stopped, completed (every run ended with a result; a search's trials without one were
    replaced), or failed."""
    if stopping:
        return Status.STOPPED
    ended_so = all(
        entry["status"] in ENDED_ON_ITS_OWN or (entry["status"] in _REPLACED and "trial" in entry)
        for entry in state["runs"]
    )
    return Status.COMPLETED if ended_so else Status.FAILED


def _prune(search: Search, backend: Backend) -> None:
    """Report the running trials' epoch ends; stop those the pruner gives up on."""
    for name, epoch, loss in backend.progress():
        if search.report(name, epoch, loss):
            backend.prune(name)


def _record_end(root: Path, entry: dict[str, Any], ended: Ended, stopping: bool) -> None:
    """sweep.json's entry of a run that ended (or was skipped)."""
    if ended.skipped:
        entry["status"] = "skipped"
        return
    entry.update(outcome(root, ended, stopping))
    entry["seconds"] = round(time.time() - entry.get("started", time.time()), 3)
    if entry["status"] == Status.PRUNED:
        entry["pruned_at"] = entry["epochs"]  # the last epoch it finished


_ENDED = ENDED_ON_ITS_OWN | {Status.FAILED}
"""Entries whose run ended with a result or an error: counted as done."""


def _busy(state: Mapping[str, Any]) -> int:
    """Runs of a resumed sweep still going (adopted by the backend before the drive)."""
    return sum(1 for e in state["runs"] if e.get("status") in (Status.RUNNING, "queued"))


def _asked(search: Any, state: dict[str, Any], entries: dict[str, Any]) -> PlannedRun:
    """A new trial of the search, its entry added to sweep.json's runs."""
    run, number = search.ask()
    entry = {"dir": run.name, "base": run.base, "values": run.values, "status": "pending"}
    entry["trial"] = number
    state["runs"].append(entry)
    entries[run.name] = entry
    return run
