"""Sweeps: what running a grid's runs side by side gains, and how a large sweep folder lists.

1. A 4-run grid of the baseline (``--grid seed=0,1,2,3``) on the 8,000 MNIST training
   images, run by ``dnn-tui sweep`` with ``--jobs 1`` (one run at a time, all the cores'
   torch threads; and again with ``--threads 1``, which a busy machine may favour) and
   with ``--jobs 2`` (two at once, ``cores / 2`` threads each). The
   sweep's samples/s is every run's training samples over the sweep's wall time, process
   start and data loading included; the runs' own samples/s (history.json, epochs after
   the first) are shown beside it. Target on 2 cores: --jobs 2 / --jobs 1 >= 1.6.
2. A sweep folder of 1,000 finished runs (copies of one small run directory): the time to
   read every run with ``dnn_tui.rundir.files.load_run`` (config and history, what a runs list
   shows), and the time to read only each history.json's status. Target: under 1 s.

    python benchmarks/sweep.py [--epochs 10] [--runs 1000]

Uses ../shared/data/mnist-t10k when present, else the bundled digits (much smaller).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.dashboard import REPO, data_options
from dnn_tui.rundir.files import load_run
from dnn_tui.sweeps.planning import SWEEP_FILE


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), out.get("PYTHONPATH")]))
    out.pop("OMP_NUM_THREADS", None)  # the sweep sets each run's threads
    return out


def sweep(root: Path, jobs: int, epochs: int, threads: int | None = None) -> dict[str, float]:
    out = root / f"jobs-{jobs}-threads-{threads}"
    command = [
        sys.executable, "-m", "dnn_tui", "sweep", "--preset", "baseline", *data_options(),
        "--epochs", str(epochs), "--grid", "seed=0,1,2,3", "--jobs", str(jobs), "--out", str(out),
        *(["--threads", str(threads)] if threads else []),
    ]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, env=env(), capture_output=True, text=True, cwd=root)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"sweep --jobs {jobs} failed:\n{done.stdout}\n{done.stderr}")
    state = json.loads((out / SWEEP_FILE).read_text())
    samples, per_run = 0, []
    for entry in state["runs"]:
        history = json.loads((out / entry["dir"] / "history.json").read_text())
        samples += history["dataset"]["train"] * len(history["epochs"])
        per_run.append(
            statistics.median(
                e["samples_per_s"] for e in history["epochs"][1:] or history["epochs"]
            )
        )
    return {
        "wall": wall,
        "sweep": samples / wall,
        "run": statistics.fmean(per_run),
        "threads": state["threads"],
    }


def listing(root: Path, count: int) -> tuple[float, float]:
    """Seconds to load every run of a folder of count copies, and to read only statuses."""
    source = root / "source"
    done = subprocess.run(
        [sys.executable, "-m", "dnn_tui", "train", "--dataset", "moons", "--hidden", "16,8",
         "--epochs", "5", "--out", str(source)],
        env=dict(env(), OMP_NUM_THREADS="1"), capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the source run failed:\n{done.stderr}")
    folder = root / "big-sweep"
    folder.mkdir()
    for i in range(count):
        shutil.copytree(source, folder / f"{i + 1:04d}-seed={i}")
    (folder / SWEEP_FILE).write_text("{}")
    start = time.perf_counter()
    runs = [load_run(path) for path in sorted(folder.iterdir()) if path.is_dir()]
    full = time.perf_counter() - start
    assert len(runs) == count
    start = time.perf_counter()
    statuses = [
        json.loads((path / "history.json").read_bytes())["status"]
        for path in sorted(folder.iterdir())
        if path.is_dir()
    ]
    light = time.perf_counter() - start
    assert statuses.count("completed") == count
    return full, light


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(f"{cores} cores; data: {' '.join(data_options()[:2])}; {args.epochs} epochs a run")
    with tempfile.TemporaryDirectory(prefix="dnn-tui-bench-sweep-") as tmp:
        root = Path(tmp)
        one = sweep(root, 1, args.epochs)
        single = sweep(root, 1, args.epochs, threads=1)
        two = sweep(root, 2, args.epochs)
        for jobs, r in ((1, one), (1, single), (2, two)):
            print(
                f"--jobs {jobs} ({r['threads']} threads a run): {r['wall']:.1f} s, "
                f"sweep {r['sweep']:,.0f} samples/s, a run {r['run']:,.0f} samples/s"
            )
        best = max(one["sweep"], single["sweep"])
        print(
            f"--jobs 2 / --jobs 1: {two['sweep'] / one['sweep']:.2f}x; against the faster "
            f"--jobs 1 of the two: {two['sweep'] / best:.2f}x (target >= 1.6x)"
        )
        full, light = listing(root, args.runs)
        print(
            f"{args.runs} finished runs: load_run on all {full:.3f} s, "
            f"statuses only {light:.3f} s (target < 1 s)"
        )


if __name__ == "__main__":
    main()
