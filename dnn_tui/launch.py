"""Starting a run: in this process with its run files (``record_run``), or as a process of
its own that outlives the terminal (``start_background``).

Runs without any UI. ``record_run`` is what every run does, headless or in the dashboard:
the claimed run directory gets its recorder (history, events.jsonl, weights) and its
channel (heartbeat, steering requests from watchers) before the data loads, and a run
that ends before it started gives its directory back.

``start_background`` claims a new run directory, writes the config there and starts
``python -m dnn_tui.launch RUN_DIR`` in a new session (no controlling terminal, so no
SIGHUP when the terminal goes), its output in ``RUN_DIR/output.log``. The child adopts
the claim (its pid goes into liveness.json) and runs like ``dnn-tui train``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnn_tui.config import RunConfig, dumps, load
from dnn_tui.fileio import Folder
from dnn_tui.recorder import RunRecorder, claim_new_run_dir, heartbeat, release
from dnn_tui.runs import CONFIG_FILE, LOG_FILE

if TYPE_CHECKING:
    from dnn_tui.data import Dataset
    from dnn_tui.training.controls import RunControls
    from dnn_tui.training.engine import RunResult
    from dnn_tui.training.events import Emit


def record_run(
    config: RunConfig,
    folder: Folder,
    data: Dataset | Callable[[], Dataset],
    controls: RunControls,
    emit: Emit | None = None,
) -> RunResult | None:
    """Train config into the claimed folder; None when stopped before the first step.

    ``data`` may be a loader: it runs with the heartbeat and the steering channel in place.
    """
    from dnn_tui.channel import RunChannel
    from dnn_tui.training.engine import train
    from dnn_tui.training.events import fan_out

    recorder = RunRecorder(folder, on_error=controls.fail)
    channel = RunChannel(folder, controls, note=recorder.note).start()
    try:
        dataset = data() if callable(data) else data
        if controls.stop_requested:
            return None
        return train(config, dataset, controls, fan_out(recorder, emit))
    finally:
        channel.close()
        recorder.close()
        if recorder.history is None:  # it never started: nothing to keep
            release(folder)


def start_background(config: RunConfig, root: Path = Path("runs")) -> tuple[Path, int]:
    """Start config as a process of its own in a new run directory under root.

    Returns the run directory and the pid. The child's output goes to ``output.log``.
    """
    folder = claim_new_run_dir(config.preset, root)
    try:
        child = spawn_adopted(folder, config)
    except BaseException:
        release(folder)
        raise
    path = folder.path
    folder.close()
    return path, child.pid


def child_env(threads: int | None = None) -> dict[str, str]:
    """The environment of a run's own process: this very package importable, and with
    ``threads`` the number of PyTorch (OpenMP) threads it may use."""
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env.pop("TEXTUAL", None)
    if threads is not None:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    return env


def spawn_adopted(
    folder: Folder, config: RunConfig, *, threads: int | None = None, stderr: Any = None
) -> subprocess.Popen[bytes]:
    """Write config into the claimed folder and start ``python -m dnn_tui.launch`` on it, in a
    new session (no controlling terminal: a closed one sends no SIGHUP, and Ctrl-C reaches
    only whoever started it). Its output goes to ``output.log``; stderr there too unless given.
    """
    folder.write_atomic(CONFIG_FILE, dumps(config).encode("utf-8"))
    log = folder.open_append(LOG_FILE)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "dnn_tui.launch", str(folder.path.resolve())],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log if stderr is None else stderr,
            start_new_session=True,
            close_fds=True,
            env=child_env(threads),
        )
    finally:
        os.close(log)


def _run_adopted(run_dir: Path) -> int:
    """The child of start_background: adopt the claimed directory and run headless."""
    from dnn_tui.commands.options import load_data
    from dnn_tui.commands.train import run_headless
    from dnn_tui.report import make_console

    config = load(run_dir / CONFIG_FILE)
    folder = Folder(run_dir)
    heartbeat(folder, time.time())  # the claim is ours now: our pid in liveness.json
    print(f"background run of {config.preset or 'a custom config'}, pid {os.getpid()}")
    outcome = run_headless(config, folder, lambda: load_data(config), make_console())
    if outcome.error:
        print(f"dnn-tui: error: the run failed: {outcome.error}", file=sys.stderr)
    return outcome.exit_code


if __name__ == "__main__":
    from dnn_tui.cli import run_guarded

    sys.exit(run_guarded(lambda: _run_adopted(Path(sys.argv[1]))))
