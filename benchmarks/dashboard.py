"""The dashboard's costs in a real terminal (tmux), measured side by side in one run.

1. Training beside the dashboard: ``dnn-tui tui --start`` in a tmux window against
   ``dnn-tui train`` in a tmux window of the same size, the two interleaved, each run
   in a fresh process. Target: dashboard / headless samples/s >= 0.9 (aim 0.95).
2. A watcher's cost: ``dnn-tui train`` alone, against the same with ``dnn-tui watch``
   following it from a second tmux window. Target: >= 0.95.
3. Key press to screen in ``watch``: ``c`` sent to the watching dashboard with
   ``tmux send-keys``, timed until the screen shows the change (a) requested and
   (b) applied by the run in the other process. Target: (b) <= 100 ms median.
4. Launch to first painted frame of ``dnn-tui`` against ``python -c "import torch"``.

samples/s of a run is the median of its epochs' ``samples_per_s`` in history.json,
without the first epoch (warm-up, the same for both kinds).

    python benchmarks/dashboard.py [--rounds 3] [--epochs 60] [--size 120x40]

Uses the real MNIST test images in ../shared/data/mnist-t10k (8,000 for training) when
present, else the bundled digits (much smaller, so the figures are less telling).
Needs tmux.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MNIST_T10K = REPO.parent / "shared" / "data" / "mnist-t10k"


def data_options() -> list[str]:
    if MNIST_T10K.is_dir():
        return [
            "--dataset", "idx",
            "--idx-images", str(MNIST_T10K / "t10k-images-idx3-ubyte.gz"),
            "--idx-labels", str(MNIST_T10K / "t10k-labels-idx1-ubyte.gz"),
        ]  # fmt: skip
    return ["--dataset", "digits"]


class Tmux:
    """One tmux session per benchmark run, on its own socket (the user's tmux is untouched)."""

    def __init__(self, cols: int, rows: int) -> None:
        self.socket = f"dnn-tui-bench-{time.monotonic_ns()}"
        self.cols, self.rows = cols, rows
        self.windows = 0

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def open(self, command: list[str], cwd: Path) -> str:
        """Run command in a new window of cols x rows; returns the window's target."""
        line = f"cd {shlex.quote(str(cwd))} && exec {shlex.join(command)}"
        if self.windows == 0:
            self._tmux(
                "new-session", "-d", "-s", "bench", "-x", str(self.cols), "-y", str(self.rows),
                "-n", "w0", line,
            )  # fmt: skip
            self._tmux("set-option", "-g", "remain-on-exit", "off")
        else:
            self._tmux("new-window", "-d", "-t", "bench", "-n", f"w{self.windows}", line)
        target = f"bench:w{self.windows}"
        self.windows += 1
        return target

    def screen(self, target: str) -> str:
        try:
            return self._tmux("capture-pane", "-p", "-t", target)
        except subprocess.CalledProcessError:
            return ""

    def keys(self, target: str, *keys: str) -> None:
        self._tmux("send-keys", "-t", target, *keys)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def dnn_tui(*args: str) -> list[str]:
    return [sys.executable, "-m", "dnn_tui", *args]


def history(run_dir: Path) -> dict | None:
    try:
        return json.loads((run_dir / "history.json").read_text())
    except (OSError, ValueError):
        return None


def wait_ended(run_dir: Path, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = history(run_dir)
        if found is not None and found["status"] != "running":
            return found
        time.sleep(0.1)
    raise TimeoutError(f"{run_dir} did not finish in {timeout} s")


def rate(found: dict) -> float:
    return statistics.median(r["samples_per_s"] for r in found["epochs"][1:])


def run_options(epochs: int) -> list[str]:
    return ["--preset", "baseline", "--epochs", str(epochs), "--device", "cpu", *data_options()]


def headless(tmux: Tmux, work: Path, epochs: int, watch: bool = False) -> float:
    out = work / f"headless-{time.monotonic_ns()}"
    tmux.open(dnn_tui("train", *run_options(epochs), "--out", str(out)), work)
    if watch:
        deadline = time.monotonic() + 120
        while not (out / "events.jsonl").is_file():
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.02)
        watcher = tmux.open(dnn_tui("watch", str(out)), work)
    found = wait_ended(out)
    if watch:
        tmux.keys(watcher, "C-q")
    return rate(found)


def dashboard(tmux: Tmux, work: Path, epochs: int) -> float:
    root = work / f"dashboard-{time.monotonic_ns()}"
    target = tmux.open(dnn_tui("tui", *run_options(epochs), "--runs", str(root), "--start"), work)
    deadline = time.monotonic() + 120
    while not list(root.glob("*/history.json")):
        assert time.monotonic() < deadline, "the dashboard's run never started"
        time.sleep(0.05)
    (run_dir,) = (p.parent for p in root.glob("*/history.json"))
    found = wait_ended(run_dir)
    tmux.keys(target, "C-q")
    return rate(found)


def measure_throughput(args: argparse.Namespace, work: Path) -> None:
    cols, rows = args.size
    print(
        f"1. samples/s beside the dashboard in tmux {cols}x{rows}, baseline, {args.epochs} epochs"
    )
    print("2. samples/s of a headless run with a watcher (dnn-tui watch in a second window)")
    ratios: dict[str, list[float]] = {"dashboard": [], "watched": []}
    for r in range(1, args.rounds + 1):
        tmux = Tmux(cols, rows)
        try:
            alone = headless(tmux, work, args.epochs)
            beside = dashboard(tmux, work, args.epochs)
            watched = headless(tmux, work, args.epochs, watch=True)
        finally:
            tmux.close()
        ratios["dashboard"].append(beside / alone)
        ratios["watched"].append(watched / alone)
        print(
            f"   round {r}: headless {alone:8.0f}/s  dashboard {beside:8.0f}/s "
            f"({beside / alone:.2f})  watched headless {watched:8.0f}/s ({watched / alone:.2f})"
        )
    print(
        f"   dashboard / headless: median {statistics.median(ratios['dashboard']):.2f} "
        f"(target >= 0.9); watched / headless: median {statistics.median(ratios['watched']):.2f} "
        "(target >= 0.95)"
    )


def clip_text(screen: str) -> str | None:
    """The clipping part of the status line: 'clip ON ≤1', 'clip off', with ' · sent' while
    the request has not been applied by the run yet."""
    for line in screen.splitlines():
        if "clip ON" in line or "clip off" in line:
            return line.split("·", 1)[-1].strip() if "lr " in line else line.strip()
    return None


def measure_watch_latency(args: argparse.Namespace, work: Path, presses: int = 10) -> None:
    cols, rows = args.size
    print(f"3. key press to screen in dnn-tui watch (tmux {cols}x{rows}, key c)")
    tmux = Tmux(cols, rows)
    out = work / "watched"
    try:
        tmux.open(dnn_tui("train", *run_options(100_000), "--out", str(out)), work)
        while not (out / "events.jsonl").is_file():
            time.sleep(0.02)
        target = tmux.open(dnn_tui("watch", str(out)), work)
        deadline = time.monotonic() + 60
        while "samples/s" not in tmux.screen(target):
            assert time.monotonic() < deadline, tmux.screen(target)
            time.sleep(0.05)
        requested, applied = [], []
        for _ in range(presses):
            before = clip_text(tmux.screen(target))
            time.sleep(0.3)
            start = time.perf_counter()
            tmux.keys(target, "c")
            seen_request = None
            while True:
                now = clip_text(tmux.screen(target))
                if seen_request is None and now not in (before, None):
                    seen_request = time.perf_counter() - start
                if now not in (before, None) and "sent" not in now:
                    break
                assert time.perf_counter() - start < 10, now
            requested.append(seen_request * 1000)
            applied.append((time.perf_counter() - start) * 1000)
        tmux.keys(target, "s")
        wait_ended(out, 60)
    finally:
        tmux.close()
    print(
        f"   {presses} presses: requested on screen median {statistics.median(requested):.0f} ms; "
        f"applied by the run and on screen median {statistics.median(applied):.0f} ms, "
        f"max {max(applied):.0f} ms (target <= 100 ms)"
    )


def measure_first_frame(args: argparse.Namespace, work: Path, rounds: int = 5) -> None:
    print("4. launch to first painted frame of dnn-tui (tmux 80x24)")
    frames, imports = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        imports.append(time.perf_counter() - start)
        tmux = Tmux(80, 24)
        try:
            launch = time.perf_counter()
            target = tmux.open(dnn_tui("tui", "--runs", str(work / "first-frame")), work)
            while "hidden" not in (screen := tmux.screen(target)) or "quit" not in screen:
                time.sleep(0.005)
            frames.append(time.perf_counter() - launch)
            tmux.keys(target, "C-q")
        finally:
            tmux.close()
    print(
        f"   median of {rounds}: first frame {statistics.median(frames):.2f} s (target <= 1 s), "
        f"import torch {statistics.median(imports):.2f} s"
    )


def size(text: str) -> tuple[int, int]:
    cols, rows = text.lower().split("x")
    return int(cols), int(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--size", type=size, default=(120, 40), help="terminal COLSxROWS")
    parser.add_argument(
        "--only", choices=["throughput", "latency", "frame"], help="one measurement only"
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each figure as soon as it is measured
    if shutil.which("tmux") is None:
        sys.exit("benchmarks/dashboard.py needs tmux (a real terminal)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.only in (None, "throughput"):
            measure_throughput(args, work)
        if args.only in (None, "latency"):
            measure_watch_latency(args, work)
        if args.only in (None, "frame"):
            measure_first_frame(args, work)


if __name__ == "__main__":
    main()
