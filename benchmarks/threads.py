"""Threads: the default (``threads = "auto"``) against fixed thread counts, quiet and busy.

Each measurement runs ``dnn-tui train --preset baseline`` headless in a fresh process and
reads the samples/s of its epochs after the first from history.json (median). Two
conditions, interleaved round by round so that a noisy neighbour hits every variant alike:

- quiet: nothing else running;
- busy: one other process spinning on a core (``while True: pass``), as on a shared server.

Variants: ``auto`` (the default), ``OMP_NUM_THREADS=1`` (one thread), ``--threads N`` for
N = 1 .. the cores. It prints, per condition, each variant's samples/s and the two ratios
the default is held to: busy, auto / one thread (>= 0.8); quiet, auto / the best fixed count
(>= 0.95).

    python benchmarks/threads.py [--rounds 3] [--epochs 6]

Uses the real MNIST test images in ../shared/data/mnist-t10k when present, else digits.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboard import data_options


def variants(cores: int) -> dict[str, tuple[list[str], dict[str, str]]]:
    """name -> (extra options, extra environment)."""
    out: dict[str, tuple[list[str], dict[str, str]]] = {
        "auto": ([], {}),
        "OMP_NUM_THREADS=1": ([], {"OMP_NUM_THREADS": "1"}),
    }
    for n in range(1, cores + 1):
        out[f"--threads {n}"] = (["--threads", str(n)], {})
    return out


def samples_per_s(options: list[str], extra_env: dict[str, str], epochs: int) -> float:
    """Median samples/s of the epochs after the first, of one headless run."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env.update(extra_env)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder, "run")
        argv = [sys.executable, "-m", "dnn_tui", "train", "--preset", "baseline"]
        argv += ["--epochs", str(epochs), "--device", "cpu", "--out", str(out)]
        subprocess.run([*argv, *data_options(), *options], env=env, check=True, capture_output=True)
        history = json.loads((out / "history.json").read_text())
    return statistics.median(record["samples_per_s"] for record in history["epochs"][1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    runs = variants(cores)
    rates: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for condition in ("quiet", "busy"):
            spinner = None
            if condition == "busy":
                spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            try:
                for name, (options, env) in runs.items():
                    rate = samples_per_s(options, env, args.epochs)
                    rates.setdefault((condition, name), []).append(rate)
            finally:
                if spinner is not None:
                    spinner.kill()
                    spinner.wait()
    print(f"{cores} cores; baseline, {args.epochs} epochs a run; medians of {args.rounds} rounds")
    print(f"{'':<20}{'quiet':>12}{'busy':>12}   samples/s")
    median = {key: statistics.median(values) for key, values in rates.items()}
    for name in runs:
        print(f"{name:<20}{median['quiet', name]:>12,.0f}{median['busy', name]:>12,.0f}")
    fixed = [name for name in runs if name.startswith("--threads")]
    best = max(fixed, key=lambda name: median["quiet", name])
    busy = median["busy", "auto"] / median["busy", "OMP_NUM_THREADS=1"]
    quiet = median["quiet", "auto"] / median["quiet", best]
    print(f"busy:  auto / one thread = {busy:.2f}   (target >= 0.8)")
    print(f"quiet: auto / best fixed ({best}) = {quiet:.2f}   (target >= 0.95)")


if __name__ == "__main__":
    main()
