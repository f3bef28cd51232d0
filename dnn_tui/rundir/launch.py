"""Starting a run: in this process with its run files (``record_run``), or as a process of
its own that outlives the terminal (``start_background``).

Runs without any UI. ``record_run`` is what every run does, headless or in the dashboard:
the claimed run directory gets its recorder (history, events.jsonl, weights) and its
channel (heartbeat, steering requests from watchers) before the data loads, and a run
stopped before it started gives its directory back; one that failed before its first step
keeps it, its history.json saying ``failed`` and why.

``start_background`` claims a new run directory, writes the config there and starts
``python -m dnn_tui.rundir.launch RUN_DIR`` in a new session (no controlling terminal, so no
SIGHUP when the terminal goes), its output in ``RUN_DIR/output.log``. The child adopts
the claim (its pid goes into liveness.json) and runs like ``dnn-tui train``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnn_tui.config import RunConfig, dumps, load
from dnn_tui.fileio import Folder, error_line
from dnn_tui.rundir.files import CONFIG_FILE, LOG_FILE
from dnn_tui.rundir.recorder import (
    RunRecorder,
    claim_new_run_dir,
    heartbeat,
    record_unstarted,
    release,
)
from dnn_tui.training.status import Status, exit_code, run_guarded

if TYPE_CHECKING:
    from rich.console import Console

    from dnn_tui.data import Dataset
    from dnn_tui.rundir.resumption import Resumption
    from dnn_tui.training.controls import RunControls
    from dnn_tui.training.engine import RunResult
    from dnn_tui.training.events import Emit, Event


def record_run(
    config: RunConfig,
    folder: Folder,
    data: Dataset | Callable[[], Dataset],
    controls: RunControls,
    emit: Emit | None = None,
    resume: Resumption | None = None,
) -> RunResult | None:
    """Train config into the claimed folder; None when stopped before the first step.

    ``data`` may be a loader: it runs with the heartbeat and the steering channel in place.
    ``resume``: the run in the folder goes on from its checkpoint (``rundir.resumption``).
    """
    from dnn_tui.rundir.channel import RunChannel
    from dnn_tui.training.engine import train
    from dnn_tui.training.events import RunFinished, fan_out

    resumed = None if resume is None else resume.history
    recorder = RunRecorder(folder, on_error=controls.fail, resumed=resumed)
    channel = RunChannel(folder, controls, note=recorder.note).start()
    view = None if emit is None else ViewSink(emit, recorder.note)

    def before_the_end(event: Event) -> None:
        """The steering requests ignored or refused, counted in the run's files before its
        last write."""
        if isinstance(event, RunFinished):
            channel.tell_counts()

    failure: str | None = None
    try:
        dataset = data() if callable(data) else data
        if controls.stop_requested:
            return None
        emit_all = fan_out(before_the_end, recorder, view)
        start = None if resume is None else resume.checkpoint
        return train(config, dataset, controls, emit_all, start=start)
    except Exception as error:
        failure = f"before the first step: {error_line(error)}"
        raise
    finally:
        channel.close()
        recorder.close()
        if recorder.history is None and resume is not None:  # the cut run says how it ended
            from dnn_tui.rundir.resumption import record_unresumed

            with contextlib.suppress(OSError):
                record_unresumed(resume, Status.FAILED if failure else Status.STOPPED, failure)
        elif recorder.history is None and failure is None:  # stopped before it started
            release(folder)
        elif recorder.history is None:  # failed before it started: the folder says why
            with contextlib.suppress(OSError):
                record_unstarted(folder, config, Status.FAILED, failure)


class ViewSink:
    """An event sink that shows the run (the console of ``train``) and never ends it.

    A view is not the run: when it cannot be written (a full disk or a failing device under
    stdout: ENOSPC, EIO) the run goes on to its end and writes its files, says so once in
    them (a notice in events.jsonl), and shows nothing more. A closed pipe is the console's
    own affair (``ReportConsole``). Failures other than OSError are the run's: they end it.
    """

    def __init__(self, view: Emit, say: Callable[[str], None]) -> None:
        self.view = view
        self.say = say
        self.failure: str | None = None
        """Why the view stopped showing the run; None while it shows it."""

    def __call__(self, event: Event) -> None:
        if self.failure is not None:
            return
        try:
            self.view(event)
        except OSError as error:
            self.failure = error.strerror or error_line(error)
            self.say(f"the console cannot be written ({self.failure}); the run goes on")
            from dnn_tui.training.report import Report

            if isinstance(self.view, Report):
                self.view.silence()


@dataclass(frozen=True)
class Outcome:
    """How one headless run ended."""

    status: str
    interrupted: bool
    """A SIGINT, SIGTERM or SIGHUP arrived while it ran."""
    error: str | None = None
    """Why it failed (status ``failed``)."""

    @property
    def exit_code(self) -> int:
        return exit_code(self.status, self.interrupted)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Signals that stop a headless run after its current step: Ctrl-C, kill, a hang-up."""


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[], None]) -> Iterator[list[int]]:
    """STOP_SIGNALS call stop (the run ends after its current step); a second one interrupts.

    ``stop`` runs in a helper thread: a handler runs between two bytecodes of the main
    thread, which may hold the controls' lock at that moment.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handle(signum: int, _frame: object) -> None:
        if received and signum == signal.SIGINT:
            raise KeyboardInterrupt
        received.append(signum)
        threading.Thread(target=stop, name="dnn-tui-stop", daemon=True).start()

    previous = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_headless(
    config: RunConfig,
    folder: Folder,
    data: Dataset | Callable[[], Dataset],
    console: Console,
    resume: Resumption | None = None,
) -> Outcome:
    """Train config into the claimed run directory, printing the report; the signals in
    STOP_SIGNALS stop it after its current step. ``resume``: see ``record_run``."""
    from dnn_tui.training.controls import RunControls
    from dnn_tui.training.report import Report

    controls = RunControls(config.train.clip_norm, config.train.lr)
    report = Report(console, run_dir=folder.path)
    try:
        with stop_on_signals(controls.stop) as received:
            result = record_run(config, folder, data, controls, report, resume)
    finally:
        report.close()
    if result is None:
        return Outcome(Status.STOPPED, True)
    return Outcome(result.status, bool(received), result.error)


def start_background(config: RunConfig, root: Path = Path("runs")) -> tuple[Path, int]:
    """Start config as a process of its own in a new run directory under root.

    Returns the run directory and the pid. The child's output goes to ``output.log``.
    """
    folder = claim_new_run_dir(config.preset, root)
    try:
        child = spawn_run_process(folder, config)
    except BaseException:
        release(folder)
        raise
    path = folder.path
    folder.close()
    return path, child.pid


def continue_in_background(run_dir: Path, epochs: int | None = None) -> int:
    """Continue the run in run_dir from its checkpoint as a process of its own (to ``epochs``
    when given); returns its pid. The directory is claimed and cut here, before the process
    starts (``rundir.resumption``), so a watcher opened now sees the continued run."""
    from dnn_tui.rundir.resumption import prepare_resumption, record_unresumed

    resumption = prepare_resumption(run_dir, {} if epochs is None else {"epochs": epochs})
    try:
        child = spawn_run_process(resumption.folder, resumption.config, resume=True)
    except BaseException as error:
        with contextlib.suppress(OSError):
            record_unresumed(resumption, Status.FAILED, f"not started: {error_line(error)}")
        raise
    finally:
        resumption.folder.close()
    return child.pid


def child_env(threads: int | None = None) -> dict[str, str]:
    """The environment of a run's own process: this very package importable, and with
    ``threads`` the number of PyTorch (OpenMP) threads it may use."""
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env.pop("TEXTUAL", None)
    if threads is not None:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    return env


def spawn_run_process(
    folder: Folder,
    config: RunConfig,
    *,
    threads: int | None = None,
    stderr: Any = None,
    resume: bool = False,
) -> subprocess.Popen[bytes]:
    """Write config into the claimed folder and start ``python -m dnn_tui.rundir.launch`` on it,
    in a new session (no controlling terminal: a closed one sends no SIGHUP, and Ctrl-C reaches
    only whoever started it). Its output goes to ``output.log``; stderr there too unless given.
    ``resume``: the run in the folder goes on from its checkpoint (``continue_in_background``).
    """
    folder.write_atomic(CONFIG_FILE, dumps(config).encode("utf-8"))
    log = folder.open_append(LOG_FILE)
    try:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dnn_tui.rundir.launch",
                str(folder.path.resolve()),
                *(["--resume"] if resume else []),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log if stderr is None else stderr,
            start_new_session=True,
            close_fds=True,
            env=child_env(threads),
        )
    finally:
        os.close(log)


def _run_adopted(run_dir: Path, resume: bool = False) -> int:
    """The child of start_background (or of continue_in_background, ``resume``): adopt the
    claimed directory and run headless."""
    from dnn_tui.data import load_data
    from dnn_tui.rundir.resumption import adopt_resumption
    from dnn_tui.training.report import make_console

    resumption = adopt_resumption(run_dir) if resume else None
    config = load(run_dir / CONFIG_FILE) if resumption is None else resumption.config
    folder = Folder(run_dir) if resumption is None else resumption.folder
    heartbeat(folder, time.time())  # the claim is ours now: our pid in liveness.json
    with contextlib.suppress(OSError):  # output.log is a view: a full disk never stops the run
        print(f"background run of {config.preset or 'a custom config'}, pid {os.getpid()}")
    outcome = run_headless(config, folder, lambda: load_data(config), make_console(), resumption)
    if outcome.error:
        print(f"dnn-tui: error: the run failed: {outcome.error}", file=sys.stderr)
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(run_guarded(lambda: _run_adopted(Path(sys.argv[1]), "--resume" in sys.argv[2:])))
