"""The writing side of a run directory: claiming it, and keeping it up to date as a run goes on.

Runs without any UI; torch and safetensors are imported only when weights are written.
``dnn_tui.rundir.files`` describes the files and reads them back.

A run directory is claimed atomically before anything else happens (``claim_run_dir``,
``claim_new_run_dir``): a new folder is made with ``mkdir`` (never shared), or an existing
empty one taken by creating ``liveness.json`` exclusively; a folder that holds anything
is refused unless ``force`` is given and it holds a run that has ended. The claimed folder
is then held by its descriptor (``fileio.Folder``), so the run writes into the directory
it claimed even if a path to it changes, and fails, naming it, if it is deleted.

``RunRecorder`` is an event sink. The training thread only puts events on a queue; one
writer thread appends each to ``events.jsonl`` (one strict JSON object a line, written
as it comes; progress reports at most ``LOG_STEP_INTERVAL`` apart), appends each finished
epoch's record to the epoch log (``epochs.jsonl``) and its row to ``history.csv``, rewrites
``history.json`` from the log now and then (``HISTORY_MIN_S`` apart at least, and never more
than ``HISTORY_SHARE`` of the time) and at the end, saves the best weights so far whenever a
new best epoch arrives (at most every ``BEST_SAVE_MIN_S``, and never more than
``BEST_SAVE_SHARE`` of the time), and writes the final files when the run finishes (the
weights, evaluation.json, then history.json with the run's status). So an epoch costs the
same bytes and time at epoch 50,000 as at epoch 5 (appends of one record), and the recorder
keeps no epoch in memory. The activation and weight figures measured before the first step
become history.json's ``initial`` record (those of each epoch end travel in its record).
The training thread therefore never waits on the disk, except for the final files
(``RunFinished`` returns once everything is written). A write that fails (a full disk, a
deleted folder) is reported once through ``on_error`` with the file's path, so the run can
end as ``failed``; the recorder keeps trying to write what it can.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnn_tui.config import RunConfig, config_hash, dumps, to_dict
from dnn_tui.fileio import Folder
from dnn_tui.rundir import liveness
from dnn_tui.rundir.files import (
    CHECKPOINT_FILE,
    CHECKPOINT_META,
    CONFIG_FILE,
    CONTROL_FILE,
    EPOCHS_FILE,
    EVALUATION_FILE,
    EVENTS_FILE,
    HISTORY_CSV,
    HISTORY_FILE,
    LIVENESS_FILE,
    LOG_FILE,
    MAX_EPOCH_LOG_BYTES,
    RUN_FILES,
    TRACE_FILE,
    WEIGHTS_FILE,
    RunError,
    bounded_record,
    csv_header,
    dumps_checkpoint,
    dumps_evaluation,
    dumps_history,
    dumps_trace,
    epoch_csv_row,
    epoch_line,
    has_ended,
    history_csv,
    new_history,
    read_history,
    strict_json,
)
from dnn_tui.training.events import (
    ActivationsMeasured,
    BoundaryMeasured,
    ControlApplied,
    EpochEnded,
    Event,
    Notice,
    PassTraced,
    RunFinished,
    RunStarted,
    StepMeasured,
    WeightsMeasured,
    to_record,
)
from dnn_tui.training.status import Status

if TYPE_CHECKING:
    from torch import Tensor

    from dnn_tui.training.checkpoint import Checkpoint

LOG_STEP_INTERVAL = 0.25
"""Seconds between two progress reports in events.jsonl (about 4 a second)."""
LOG_BOUNDARY_INTERVAL = 2.0
"""Seconds between two decision regions in events.jsonl, the pace at which a watcher redraws
its panels: a grid (48 x 24 and the points of moons) is about 3.3 kB, so a run whose regions
are shown for an hour logs about 6 MB of them, not the 24 MB of every measure. The engine
measures them only while a view shows them (a watcher asks through control.jsonl)."""
BEST_SAVE_MIN_S = 1.0
"""Seconds between two saves of the best weights so far, at least."""
BEST_SAVE_SHARE = 0.02
"""Saving the best weights takes at most this share of the time: after a save that took
t seconds, the next waits at least t / BEST_SAVE_SHARE."""
CHECKPOINT_SHARE = 0.02
"""Writing the checkpoint takes at most this share of the time: after a write that took t
seconds, the next waits at least t / CHECKPOINT_SHARE (a newer epoch's state replaces one
that waits; the latest is always written when the run ends)."""
HISTORY_MIN_S = 30.0
"""Seconds between two rewrites of history.json while the run goes on, at least (the epoch
log has every epoch in between; readers join the two)."""
HISTORY_SHARE = 0.01
"""Rewriting history.json takes at most this share of the time (a run of 100,000 epochs has
a file of over 100 MB): after a rewrite that took t seconds, the next waits t / HISTORY_SHARE."""


class ClaimError(Exception):
    """A folder that cannot become this run's directory; the message says why and what to do."""


# --- claiming -----------------------------------------------------------------------------------


def _claim(folder: Folder) -> Folder:
    try:
        folder.create_exclusive(LIVENESS_FILE, liveness.current().to_json().encode())
    except FileExistsError:
        folder.close()
        raise ClaimError(f"{folder.path}: another run claimed this directory first") from None
    except BaseException:
        folder.close()
        raise
    return folder


def _clear_old_run(path: Path) -> None:
    """``--force``: remove the files of a run that has ended (and nothing else)."""
    names = {entry.name for entry in path.iterdir()}
    if not names & {CONFIG_FILE, HISTORY_FILE, LIVENESS_FILE, EVENTS_FILE}:
        raise ClaimError(
            f"{path}: not empty and not a run directory; --force replaces only a run's files"
        )
    record = liveness.read_liveness(path)
    if record is not None and not has_ended(path) and record.alive():
        raise ClaimError(
            f"{path}: its run is still going (pid {record.pid} on {record.host}); "
            "stop it first (dnn-tui watch, then s)"
        )
    strangers = sorted(
        name for name in names if name not in RUN_FILES and not re.match(r"\..*\.tmp$", name)
    )
    if strangers:
        shown = ", ".join(strangers[:3]) + (" ..." if len(strangers) > 3 else "")
        raise ClaimError(f"{path}: holds files that are not a run's ({shown}); not replaced")
    for name in names:
        (path / name).unlink(missing_ok=True)


def _ended_unstarted(path: Path) -> bool:
    """Whether path holds a run that ended before its first step (it failed to load its data,
    say): no epoch, no weights, nothing to lose; it is claimed again without --force."""
    try:
        history = read_history(path / HISTORY_FILE)
    except (RunError, OSError):
        return False
    return history["status"] != Status.RUNNING and not history["epochs"]


def claim_run_dir(path: str | Path, *, force: bool = False) -> Folder:
    """Make path this run's directory: new, or existing and empty (or a finished run's, with
    force; or one that ended before its first step, without). ClaimError says why not."""
    if str(path).strip() == "":  # Path("") would be ".", the current directory
        raise ClaimError("--out: the run directory must not be empty")
    path = Path(path)
    try:
        path.mkdir(parents=True)
    except FileExistsError:
        if not path.is_dir():
            raise ClaimError(f"{path}: exists and is not a directory") from None
        if any(path.iterdir()):
            if not force and not _ended_unstarted(path):
                raise ClaimError(
                    f"{path}: not empty; choose a new directory, or --force to replace the "
                    "finished run in it"
                ) from None
            _clear_old_run(path)
    return _claim(Folder(path))


def make_new_dir(name: str | None, root: Path = Path("runs")) -> Path:
    """A new folder ``root/<YYYYmmdd-HHMMSS>-<name or "custom">`` (``-2``, ``-3`` ... when
    taken), made with mkdir so that two processes started in the same second never share it."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name or "custom").strip("-.") or "custom"
    base = f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}"
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        candidate = root / (base if n == 1 else f"{base}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise ClaimError(f"{root}: no free directory name for {base}")


def claim_new_run_dir(preset: str | None, root: Path = Path("runs")) -> Folder:
    """A new run directory under root, named after the time and the preset (see make_new_dir)."""
    return _claim(Folder(make_new_dir(preset, root)))


def release(folder: Folder) -> None:
    """Give back a claimed directory before its run started: remove what the claim made."""
    for name in (LIVENESS_FILE, LOG_FILE, CONTROL_FILE, EVENTS_FILE, EPOCHS_FILE):
        folder.remove(name)
    folder.close()
    with contextlib.suppress(OSError):  # something else is in it now (or it is gone): leave it
        folder.path.rmdir()


def record_unstarted(folder: Folder, config: RunConfig, status: str, error: str | None) -> None:
    """The files of a run that ended before its first step (a dataset that would not load, a
    sweep run that never started): history.json says so and why, history.csv has its header,
    and nothing claims the run is alive. output.log, if any, stays."""
    history = new_history(config, status=status, error=error)
    folder.write_atomic(HISTORY_FILE, dumps_history(history).encode("utf-8"))
    folder.write_atomic(HISTORY_CSV, history_csv([]).encode("utf-8"))
    for name in (LIVENESS_FILE, CONTROL_FILE, EVENTS_FILE, EPOCHS_FILE):
        folder.remove(name)


def heartbeat(folder: Folder, started: float) -> None:
    """Rewrite liveness.json with a fresh heartbeat (no fsync: a lost one only looks stale)."""
    folder.write_atomic(LIVENESS_FILE, liveness.current(started).to_json().encode(), fsync=False)


# --- recording ------------------------------------------------------------------------------------


def log_line(event: Event) -> bytes:
    """events.jsonl's line for event: strict JSON (non-finite numbers are null)."""
    text = json.dumps(strict_json(to_record(event)), allow_nan=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8")


class _Flush:
    """A marker on the writer's queue: set ``done`` once everything before it is written."""

    def __init__(self, done: threading.Event) -> None:
        self.done = done


class RunRecorder:
    """An event sink that keeps a run directory up to date (see the module docstring)."""

    def __init__(
        self,
        run_dir: Path | Folder,
        *,
        on_error: Callable[[str], None] | None = None,
        resumed: dict[str, Any] | None = None,
    ) -> None:
        if isinstance(run_dir, Folder):
            self.folder = run_dir
        else:
            Path(run_dir).mkdir(parents=True, exist_ok=True)
            self.folder = Folder(Path(run_dir))
        self.run_dir = self.folder.path
        self.on_error = on_error
        self.error: str | None = None
        """The first write that failed, naming the file; None while all went well."""
        self.history: dict[str, Any] | None = None
        """history.json's content as last built; None before RunStarted."""
        self._hash = ""
        self.resumed = resumed
        """history.json of the run this one continues, cut at its checkpoint (its files are
        cut already, see ``rundir.resumption``); None for a new run."""
        self._identity = ""
        self._pending_checkpoint: Checkpoint | None = None
        self._next_checkpoint = 0.0
        self.checkpoint_writes: list[float] = []
        """Seconds each checkpoint write took (what the checkpoint costs the run)."""
        self._queue: queue.SimpleQueue[Event | _Flush | None] = queue.SimpleQueue()
        self._events_fd: int | None = None
        self._epochs_fd: int | None = None
        self._csv_fd: int | None = None
        self._last_step_logged = 0.0
        self._step_taken = False
        """A step of a paused run was applied: its report is logged however soon it comes."""
        self._last_boundary_logged = -LOG_BOUNDARY_INTERVAL
        self._pending_best: tuple[int, dict[str, Tensor]] | None = None
        self._next_best_save = 0.0
        self._history_dirty = False
        self._next_history = 0.0
        self.written = 0
        """Bytes written to the run files so far (what an epoch costs the disk)."""
        self._closed = False
        self._writer = threading.Thread(target=self._write_loop, name="dnn-tui-recorder")
        self._writer.daemon = True  # a killed process must not hang on it; close() joins it
        self._writer.start()

    # --- the training thread's side -------------------------------------------------------

    def __call__(self, event: Event) -> None:
        if self._closed:
            return
        self._queue.put(event)
        if isinstance(event, RunFinished):
            self.close()

    def flush(self) -> None:
        """Wait until everything queued so far is on disk."""
        if self._closed:
            self.close()
            return
        done = threading.Event()
        self._queue.put(_Flush(done))
        done.wait()

    def note(self, text: str, level: str = "warning") -> None:
        """Record a notice in events.jsonl from any thread (e.g. a refused steering request)."""
        self(Notice(text, level))

    def close(self) -> None:
        """Write what is queued and stop the writer (safe to call more than once)."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
        if threading.current_thread() is not self._writer:
            self._writer.join()

    # --- the writer thread -----------------------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            timeout = None
            now = time.monotonic()
            if self._pending_best is not None:
                timeout = max(0.0, self._next_best_save - now)
            if self._history_dirty:
                wait = max(0.0, self._next_history - now)
                timeout = wait if timeout is None else min(timeout, wait)
            if self._pending_checkpoint is not None:
                wait = max(0.0, self._next_checkpoint - now)
                timeout = wait if timeout is None else min(timeout, wait)
            try:
                event = self._queue.get(timeout=timeout)
            except queue.Empty:
                self._write_pending()
                continue
            if event is None:
                break
            if isinstance(event, _Flush):
                self._write_pending()
                event.done.set()
                continue
            self._guard(self._handle, event)
            if self._queue.empty():
                self._write_pending()
        self._write_pending()
        for fd in (self._events_fd, self._epochs_fd, self._csv_fd):
            if fd is not None:
                os.close(fd)
        self._events_fd = self._epochs_fd = self._csv_fd = None

    def _guard(self, write: Callable[..., None], *args: Any) -> None:
        """Run a write; the first failure is reported, the writer carries on."""
        try:
            write(*args)
        except Exception as error:  # a full disk, a deleted folder, a permission change ...
            if isinstance(error, OSError) and error.filename:
                message = f"{error.filename}: {error.strerror or error}"
            else:
                message = f"{self.run_dir}: cannot write the run files: {error}"
            if self.error is None:
                self.error = message
                if self.on_error is not None:
                    self.on_error(message)

    def _write_pending(self) -> None:
        if self._history_dirty and time.monotonic() >= self._next_history:
            self._history_dirty = False
            began = time.monotonic()
            self._guard(self._write_history)
            took = time.monotonic() - began
            self._next_history = began + max(HISTORY_MIN_S, took / HISTORY_SHARE)
        if self._pending_best is not None and time.monotonic() >= self._next_best_save:
            epoch, weights = self._pending_best
            self._pending_best = None
            began = time.monotonic()
            self._guard(self._write_weights, weights, epoch)
            took = time.monotonic() - began
            self._next_best_save = began + max(BEST_SAVE_MIN_S, took / BEST_SAVE_SHARE)
        if self._pending_checkpoint is not None and time.monotonic() >= self._next_checkpoint:
            self._write_checkpoint()

    def _write_checkpoint(self) -> None:
        """The latest checkpoint waiting, written now; the next waits for its share."""
        checkpoint, self._pending_checkpoint = self._pending_checkpoint, None
        if checkpoint is None:
            return
        began = time.monotonic()
        self._guard(self._save_checkpoint, checkpoint)
        took = time.monotonic() - began
        self.checkpoint_writes.append(took)
        self._next_checkpoint = began + took / CHECKPOINT_SHARE

    def _handle(self, event: Event) -> None:
        if isinstance(event, PassTraced):  # too big for events.jsonl: a file of its own
            self._guard(self._write_trace, event)
            return
        if isinstance(event, ControlApplied) and event.kind == "step":
            self._step_taken = True
        if isinstance(event, StepMeasured):
            now = time.monotonic()
            # the report of one step asked for is logged however soon: watchers show it
            if now - self._last_step_logged < LOG_STEP_INTERVAL and not self._step_taken:
                return
            self._last_step_logged = now
            self._step_taken = False
        if isinstance(event, BoundaryMeasured):
            now = time.monotonic()
            if now - self._last_boundary_logged < LOG_BOUNDARY_INTERVAL:
                return
            self._last_boundary_logged = now
        if isinstance(event, RunStarted):
            self._guard(self._started, event)
        if isinstance(event, EpochEnded):  # every file keeps the same bounded record
            event = replace(event, record=bounded_record(event.record))
        if not (isinstance(event, RunStarted) and self.resumed is not None):
            # A continued run's log goes on after the first run's start (RunResumed says so).
            self._guard(self._log, event)  # a log that cannot grow must not stop the history
        if isinstance(event, ActivationsMeasured) and event.epoch == 0 and self.history is not None:
            self.history["activations"] = {
                "layers": list(event.layers),
                "samples": event.samples,
                "share": event.share_kind,
                "hist_range": list(event.hist_range),
                "hist_bins": len(event.hist[0]) if event.hist else 0,
            }
            self.history["initial"] = {**(self.history.get("initial") or {}), **event.record()}
            self._next_history = 0.0  # the start's figures are worth a rewrite at once
            self._history_dirty = True
        elif isinstance(event, WeightsMeasured) and event.epoch == 0 and self.history is not None:
            self.history["initial"] = {**(self.history.get("initial") or {}), **event.record()}
            self._next_history = 0.0
            self._history_dirty = True
        elif isinstance(event, EpochEnded) and self.history is not None:
            self._guard(self._append_epoch, event.record)
            self.history["best_epoch"] = event.best_epoch
            self._history_dirty = True
            if event.best_weights is not None:
                self._pending_best = (int(event.record["epoch"]), event.best_weights)
            if event.checkpoint is not None:
                self._pending_checkpoint = event.checkpoint
        elif isinstance(event, RunFinished) and self.history is not None:
            self.history.update(
                status=event.status,
                best_epoch=event.best_epoch,
                test=event.test,
                diverged=event.diverged,
                error=event.error,
                partial_epoch=event.partial_epoch,
            )
            self._pending_best = None  # the final weights supersede it
            self._write_checkpoint()  # the latest epoch's state, however the run ended
            if event.weights:
                self._guard(self._write_weights, event.weights, event.best_epoch)
            if event.evaluation is not None:  # before history.json says the run ended
                text = dumps_evaluation(event.evaluation)
                self._guard(self.folder.write_atomic, EVALUATION_FILE, text.encode("utf-8"))
            self._history_dirty = False
            self._guard(self._write_history)

    def _write_trace(self, event: PassTraced) -> None:
        """trace.json, not synced: a pass is redrawn at the next pause, never needed after."""
        text = dumps_trace(event.epoch, event.step, event.traced)
        self.folder.write_atomic(TRACE_FILE, text.encode("utf-8"), fsync=False)

    def _log(self, event: Event) -> None:
        if self._events_fd is None:
            self._events_fd = self.folder.open_append(EVENTS_FILE)
        self._append(self._events_fd, EVENTS_FILE, log_line(event))

    def _append(self, fd: int, name: str, data: bytes) -> None:
        """Append data to the file ``name`` open as fd (O_APPEND: one write, one place)."""
        try:
            written = os.write(fd, data)
            while written < len(data):  # a short write (a full disk) leaves an unfinished line
                more = os.write(fd, data[written:])
                if more == 0:
                    raise OSError(28, "No space left on device")
                written += more
        except OSError as error:
            raise type(error)(error.errno, error.strerror, str(self.run_dir / name)) from None
        finally:
            self.written += len(data)

    def _append_epoch(self, record: dict[str, Any]) -> None:
        """An epoch's record to the epoch log, then its row to history.csv."""
        if self._epochs_fd is None:
            self._epochs_fd = self.folder.open_append(EPOCHS_FILE)
        self._append(self._epochs_fd, EPOCHS_FILE, (epoch_line(record) + "\n").encode("utf-8"))
        if self._csv_fd is None:
            self._csv_fd = self.folder.open_append(HISTORY_CSV)
        self._append(self._csv_fd, HISTORY_CSV, epoch_csv_row(record).encode("utf-8"))

    def _started(self, event: RunStarted) -> None:
        from dnn_tui.training.checkpoint import identity

        self._hash = config_hash(event.config)
        self._identity = identity(event.config)
        if self.resumed is not None:
            self._continued(event)
            return
        self.history = new_history(event.config, dataset=event.dataset, layers=event.layers)
        # Files left by an earlier run in the same folder would not match this config.
        self.folder.remove(WEIGHTS_FILE)
        self.folder.remove(EVALUATION_FILE)
        self.folder.remove(EPOCHS_FILE)
        self.folder.remove(CHECKPOINT_META)
        self.folder.remove(CHECKPOINT_FILE)
        self.folder.write_atomic(CONFIG_FILE, dumps(event.config).encode("utf-8"))
        self._write_history()
        self._next_history = time.monotonic() + HISTORY_MIN_S
        self.folder.write_atomic(HISTORY_CSV, csv_header().encode("utf-8"))

    def _continued(self, event: RunStarted) -> None:
        """A continued run's start: its files were cut at the checkpoint; the config may say
        more epochs or another learning rate, and nothing says how it ends yet."""
        assert self.resumed is not None
        self.history = {
            **self.resumed,
            "status": Status.RUNNING,
            "config": to_dict(event.config),
            "test": None,
            "diverged": None,
            "error": None,
            "partial_epoch": None,
        }
        self.folder.remove(EVALUATION_FILE)
        self.folder.write_atomic(CONFIG_FILE, dumps(event.config).encode("utf-8"))
        self._write_history()
        self._next_history = time.monotonic() + HISTORY_MIN_S

    def _write_history(self) -> None:
        """history.json: what the run knows now, its epochs taken from the epoch log."""
        if self.history is None:
            return
        try:
            log = self.folder.read(EPOCHS_FILE, MAX_EPOCH_LOG_BYTES).decode("utf-8")
        except FileNotFoundError:
            log = ""
        lines = log.split("\n")[:-1]  # only whole lines: a failed append left a part
        data = dumps_history(self.history, lines).encode("utf-8")
        self.folder.write_atomic(HISTORY_FILE, data)
        self.written += len(data)

    def _write_weights(self, weights: dict[str, Tensor], epoch: int | None) -> None:
        from safetensors.torch import save

        tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in weights.items()}
        metadata = {"config_hash": self._hash, "epoch": str(epoch or 0)}
        self.folder.write_atomic(WEIGHTS_FILE, save(tensors, metadata=metadata))

    def _save_checkpoint(self, checkpoint: Checkpoint) -> None:
        """The tensors, then the JSON that names their hash: a reader uses the pair only when
        the two match, so an interrupted save is never taken for a checkpoint."""
        from safetensors.torch import save

        data = save(checkpoint.tensors, metadata={"epoch": str(checkpoint.epoch)})
        self.folder.write_atomic(CHECKPOINT_FILE, data)
        text = dumps_checkpoint(checkpoint, self._identity, data)
        self.folder.write_atomic(CHECKPOINT_META, text.encode("utf-8"))
        self.written += len(data) + len(text)
