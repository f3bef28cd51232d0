"""The dashboard's costs, measured side by side in one run.

1. Training throughput under the dashboard (the app under ``run_test``, every panel
   live) against the headless engine: the baseline model on MNIST-shaped data,
   each measurement in a fresh process, the two kinds interleaved. Target >= 0.9.
2. Launch to first painted frame of ``dnn-tui`` in a pseudo-terminal, against
   ``python -c "import torch"`` in the same run. Targets: <= 1 s, and less than
   the torch import.
3. Key-press-to-screen latency while training: ``c`` pressed in the terminal,
   timed until the gradient panel shows clipping flip. Target <= 100 ms.

    python benchmarks/dashboard.py [--rounds 3] [--epochs 10]

Uses the real MNIST test images in ../shared/data/mnist-t10k when present, else
the bundled digits (much smaller, so the throughput figure is less telling).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from terminal import Terminal

MNIST_T10K = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist-t10k"


def data_options() -> list[str]:
    if MNIST_T10K.is_dir():
        return [
            "--dataset", "idx",
            "--idx-images", str(MNIST_T10K / "t10k-images-idx3-ubyte.gz"),
            "--idx-labels", str(MNIST_T10K / "t10k-labels-idx1-ubyte.gz"),
        ]  # fmt: skip
    return ["--dataset", "digits"]


def run_config(epochs: int):
    from dnn_tui.cli import build_parser, config_from_args

    args = build_parser().parse_args(
        [
            "train",
            "--preset",
            "baseline",
            "--epochs",
            str(epochs),
            "--device",
            "cpu",
            *data_options(),
        ]
    )
    return config_from_args(args)


# --- 1. throughput (each measurement runs in its own process: --one KIND) ----------------------


def one_headless(epochs: int) -> list[float]:
    from dnn_tui.data import load_dataset
    from dnn_tui.training.engine import train

    config = run_config(epochs)
    result = train(config, load_dataset(config.data, config.train.seed))
    return [r["samples_per_s"] for r in result.history]


def one_dashboard(epochs: int) -> list[float]:
    from dnn_tui.app.app import DnnApp

    config = run_config(epochs)
    root = Path(tempfile.mkdtemp())

    async def drive() -> None:
        app = DnnApp(config, start=True, run_root=root)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.5)
            while app.running:
                await asyncio.sleep(0.1)

    asyncio.run(drive())
    (history,) = root.glob("*/history.json")
    return [r["samples_per_s"] for r in json.loads(history.read_text())["epochs"]]


def measure_throughput(rounds: int, epochs: int) -> None:
    print(f"1. samples/s, baseline, {epochs} epochs per run ({' '.join(data_options()[:2])})")
    ratios = []
    for r in range(1, rounds + 1):
        rates = {}
        for kind in ("headless", "dashboard"):
            out = subprocess.run(
                [sys.executable, __file__, "--one", kind, "--epochs", str(epochs)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            rates[kind] = statistics.median(json.loads(out.stdout.strip().splitlines()[-1]))
        ratios.append(rates["dashboard"] / rates["headless"])
        print(f"   round {r}: headless {rates['headless']:9.0f}/s  dashboard "
              f"{rates['dashboard']:9.0f}/s  ratio {ratios[-1]:.2f}")  # fmt: skip
    print(f"   dashboard / headless: median {statistics.median(ratios):.2f} (target >= 0.9)")


# --- 2. first frame ------------------------------------------------------------------------------


def painted(text: str) -> bool:
    """The lab screen is on the terminal: the form and the footer's quit key."""
    return "hidden" in text and "quit" in text


def measure_first_frame(rounds: int) -> None:
    print("2. launch to first painted frame (pseudo-terminal 80x24)")
    frames, imports = [], []
    for r in range(1, rounds + 1):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        imports.append(time.perf_counter() - start)
        launch = time.perf_counter()
        term = Terminal([sys.executable, "-m", "dnn_tui"], 80, 24)
        try:
            term.wait_for(painted, timeout=30)
            frames.append(time.perf_counter() - launch)
        finally:
            term.close()
        print(f"   round {r}: first frame {frames[-1]:.2f} s   import torch {imports[-1]:.2f} s")
    print(f"   median: first frame {statistics.median(frames):.2f} s (target <= 1 s), "
          f"import torch {statistics.median(imports):.2f} s")  # fmt: skip


# --- 3. key latency ------------------------------------------------------------------------------


def clipping_state(text: str) -> str | None:
    for line in text.splitlines():
        if "clipping ON" in line:
            return "ON"
        if "clipping OFF" in line:
            return "OFF"
    return None


def measure_key_latency(presses: int) -> None:
    print("3. key press to screen while training (pseudo-terminal 120x40, key c)")
    with tempfile.TemporaryDirectory() as cwd:
        argv = [sys.executable, "-m", "dnn_tui", "tui", "--preset", "baseline", "--epochs", "2000"]
        term = Terminal(argv + data_options() + ["--start"], 120, 40, cwd=cwd)
        try:
            term.wait_for(lambda t: "● running" in t and clipping_state(t) is not None, 60)
            term.wait_for(lambda t: "samples/s" in t, 60)
            latencies = []
            for _ in range(presses):
                before = clipping_state(term.text())
                term.pump(0.3)
                start = time.perf_counter()
                term.send(b"c")
                term.wait_for(lambda t, b=before: clipping_state(t) not in (b, None), 10)
                latencies.append((time.perf_counter() - start) * 1000)
        finally:
            term.close()
    print(f"   {presses} presses: median {statistics.median(latencies):.0f} ms, "
          f"max {max(latencies):.0f} ms (target <= 100 ms)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--one", choices=["headless", "dashboard"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        rates = one_headless(args.epochs) if args.one == "headless" else one_dashboard(args.epochs)
        print(json.dumps(rates))
        return
    measure_throughput(args.rounds, args.epochs)
    measure_first_frame(args.rounds + 2)
    measure_key_latency(10)


if __name__ == "__main__":
    main()
