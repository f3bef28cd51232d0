"""Why the first epoch is slower than the others: measured side by side in one run.

Each measurement trains the baseline model (MNIST-shaped data) in a fresh process and
reports the first epoch's time against the median of the later epochs:

1. headless, nothing else running: what PyTorch's own warm-up costs (first calls
   allocate memory, pick kernels, start the thread pool);
2. headless, with a pure-Python thread busy beside the training thread for the first
   second (what the dashboard's UI thread does while it draws its first frames);
3. headless with one PyTorch thread (``torch.set_num_threads(1)``), busy thread as in 2;
4. the dashboard itself, ``dnn-tui tui --start`` in a pseudo-terminal (its run
   directory's history.json is read afterwards).

    python benchmarks/first_epoch.py [--rounds 3] [--epochs 5]

Uses the real MNIST test images in ../shared/data/mnist-t10k when present, else digits.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboard import data_options
from terminal import Terminal

BUSY_S = 1.0
"""How long the competing thread keeps a core busy (from just before training starts)."""


def one(kind: str, epochs: int) -> list[float]:
    """Epoch seconds of one run of the given kind (in this process)."""
    import threading
    import time

    from dnn_tui.cli import build_parser
    from dnn_tui.commands.options import config_from_args
    from dnn_tui.data import load_dataset
    from dnn_tui.training.engine import train

    argv = ["train", "--preset", "baseline", "--epochs", str(epochs), "--device", "cpu"]
    if kind == "one-thread":
        argv += ["--threads", "1"]
    args = build_parser().parse_args([*argv, *data_options()])
    config = config_from_args(args)
    data = load_dataset(config.data)
    if kind in ("busy", "one-thread"):

        def spin() -> None:
            end = time.perf_counter() + BUSY_S
            while time.perf_counter() < end:
                sum(range(1000))  # Python work holding the GIL in short slices, as a UI does

        threading.Thread(target=spin, daemon=True).start()
    return [record["seconds"] for record in train(config, data).history]


def dashboard(epochs: int) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        argv = [sys.executable, "-m", "dnn_tui", "tui", "--preset", "baseline", "--start"]
        argv += ["--epochs", str(epochs), "--device", "cpu", *data_options()]
        term = Terminal(argv, 120, 40, cwd=folder)
        try:
            term.wait_for(lambda text: "finished" in text, timeout=300)
        finally:
            term.close()
        (history,) = Path(folder, "runs").glob("*/history.json")
        return [record["seconds"] for record in json.loads(history.read_text())["epochs"]]


def measure(kind: str, epochs: int) -> list[float]:
    if kind == "dashboard":
        return dashboard(epochs)
    code = f"import first_epoch, json; print(json.dumps(first_epoch.one({kind!r}, {epochs})))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    kinds = ("headless", "busy", "one-thread", "dashboard")
    firsts: dict[str, list[float]] = {k: [] for k in kinds}
    laters: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(args.rounds):
        for kind in kinds:  # interleaved, so that a noisy neighbour hits every kind alike
            seconds = measure(kind, args.epochs)
            firsts[kind].append(seconds[0])
            laters[kind].append(statistics.median(seconds[1:]))
    print(f"{'':<12}{'epoch 1 (s)':>12}{'later (s)':>11}{'ratio':>8}   medians of {args.rounds}")
    for kind in kinds:
        first, later = statistics.median(firsts[kind]), statistics.median(laters[kind])
        print(f"{kind:<12}{first:>12.3f}{later:>11.3f}{first / later:>8.1f}")


if __name__ == "__main__":
    main()
