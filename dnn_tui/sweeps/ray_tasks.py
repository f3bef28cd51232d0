"""A sweep's runs as Ray tasks (``dnn-tui sweep --ray [ADDRESS]``); Ray is an optional extra.

Runs without any UI. Each task runs its run as on this machine (``python -m dnn_tui.rundir.launch``
in a run directory of its own, here in a temporary folder on the worker), then sends the
run directory's files back: the driver writes them into its sweep folder when the task
ends, so the workers need no shared filesystem, only dnn-tui installed. While a task runs,
its run directory lives on its worker; the sweep folder shows it as ``queued`` in
sweep.json until it ends. Stopping the sweep sets a flag (a small Ray actor) that each
task polls: a running run then gets SIGTERM, stops after its current step and comes back
as ``stopped``; a task that had not started returns at once as ``skipped``.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from dnn_tui.config import dumps, loads
from dnn_tui.rundir.files import RUN_FILES
from dnn_tui.sweeps.local import Ended, error_line, keep_output
from dnn_tui.sweeps.planning import PlannedRun

INSTALL = 'pip install "dnn-tui[ray]" (in a checkout: pip install -e ".[ray]")'
POLL_S = 0.5
"""Seconds between two looks of a running task at the stop flag."""


class RayMissing(Exception):
    """``--ray`` without Ray installed; the message says how to install it."""


def ray_module() -> ModuleType:
    """The ray package; RayMissing says how to install it when it is missing."""
    try:
        import ray
    except ImportError:
        raise RayMissing(f"--ray: Ray is not installed; {INSTALL}") from None
    return ray


class StopFlag:
    """Set by the driver when the sweep stops; every task looks at it (a Ray actor). It also
    carries a search's pruning: tasks post their runs' epoch ends, the driver takes them and
    names the runs its pruner stops, which their tasks then stop as ``pruned``."""

    def __init__(self) -> None:
        self.value = False
        self.epochs: list[tuple[str, int, float]] = []
        self.pruned: set[str] = set()

    def post(self, name: str, ends: list[tuple[int, float]]) -> bool:
        """Take a run's new epoch ends; whether the run is to be pruned."""
        self.epochs.extend((name, epoch, loss) for epoch, loss in ends)
        return name in self.pruned

    def take(self) -> list[tuple[str, int, float]]:
        taken, self.epochs = self.epochs, []
        return taken

    def prune(self, name: str) -> None:
        self.pruned.add(name)

    def set(self) -> None:
        self.value = True

    def get(self) -> bool:
        return self.value


def run_task(name: str, config_text: str, threads: int, flag: Any) -> dict[str, Any]:
    """On a worker: run one run in a temporary folder; return its files and exit code."""
    from dnn_tui.rundir.launch import spawn_run_process
    from dnn_tui.rundir.recorder import claim_run_dir
    from dnn_tui.sweeps.local import EpochWatch, prune_run

    ray = ray_module()
    if ray.get(flag.get.remote()):
        return {"skipped": True}
    scratch = Path(tempfile.mkdtemp(prefix="dnn-tui-sweep-"))
    try:
        run_dir = scratch / name
        folder = claim_run_dir(run_dir)
        with tempfile.TemporaryFile() as errors:
            try:
                child = spawn_run_process(
                    folder, loads(config_text), threads=threads, stderr=errors
                )
            finally:
                folder.close()
            stopping, pruning, watch = False, False, EpochWatch(run_dir)
            while child.poll() is None:
                time.sleep(POLL_S)
                if not stopping and ray.get(flag.get.remote()):
                    stopping = True
                    child.send_signal(signal.SIGTERM)
                if ray.get(flag.post.remote(name, watch.new())) and not pruning:
                    pruning = prune_run(run_dir)
            errors.seek(0)
            text = errors.read().decode("utf-8", errors="replace")
        keep_output(run_dir, text)
        files = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
        return {"code": child.returncode, "error": error_line(text), "files": files}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class RayBackend:
    """Every run submitted at once as a Ray task (Ray decides when each starts), or at most
    ``jobs`` at a time when given; files come back into root as each task ends."""

    queued_status = "queued"

    def __init__(
        self,
        root: Path,
        address: str,
        cpus: float,
        gpus: float,
        threads: int,
        jobs: int | None = None,
    ) -> None:
        self.ray = ray = ray_module()
        self.root, self.threads, self.jobs = root, threads, jobs
        self.started_ray = not ray.is_initialized()
        if self.started_ray:
            where = None if address == "local" else address
            ray.init(address=where, include_dashboard=False, log_to_driver=False)
        self.flag = ray.remote(num_cpus=0)(StopFlag).remote()
        self.task = ray.remote(run_task).options(num_cpus=cpus, num_gpus=gpus, max_retries=0)
        self.refs: dict[Any, PlannedRun] = {}

    def room(self) -> bool:
        return self.jobs is None or len(self.refs) < self.jobs

    def busy(self) -> bool:
        return bool(self.refs)

    def submit(self, run: PlannedRun) -> None:
        ref = self.task.remote(run.name, dumps(run.config), self.threads, self.flag)
        self.refs[ref] = run

    def wait(self, timeout: float) -> list[Ended]:
        ready, _ = self.ray.wait(list(self.refs), num_returns=1, timeout=timeout)
        out = []
        for ref in ready:
            run = self.refs.pop(ref)
            try:
                result = self.ray.get(ref)
            except Exception as error:  # the task or its worker died: the run failed
                out.append(Ended(run, None, f"Ray task failed: {type(error).__name__}"))
                continue
            if result.get("skipped"):
                out.append(Ended(run, None, skipped=True))
                continue
            run_dir = self.root / run.name
            run_dir.mkdir(parents=True, exist_ok=True)
            for name, data in result["files"].items():
                if name in RUN_FILES:  # a run's files, nothing else
                    (run_dir / name).write_bytes(data)
            out.append(Ended(run, result["code"], result["error"]))
        return out

    def progress(self) -> list[tuple[str, int, float]]:
        return self.ray.get(self.flag.take.remote())

    def prune(self, name: str) -> None:
        self.flag.prune.remote(name)

    def stop(self) -> None:
        self.flag.set.remote()

    def kill(self) -> None:
        for ref in self.refs:
            self.ray.cancel(ref, force=True)

    def close(self) -> None:
        if self.started_ray:
            self.ray.shutdown()
