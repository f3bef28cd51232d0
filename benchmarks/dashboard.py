"""The dashboard's costs in a real terminal (tmux), measured side by side in one run.

1. Training beside the dashboard: ``dnn-tui tui --start`` and ``dnn-tui train`` of the same
   config in two tmux windows of the same size take turns, one running while the other is
   stopped (SIGSTOP / SIGCONT), --phase seconds each, many times over: each of the dashboard's
   phases against the headless phases either side. Target: >= 0.9 (aim 0.95).
   1b (``--only processes``): pairs of fresh processes one after the other, as before; the
   machine's drift between two runs is larger than the effect.
2. A watcher's cost: one ``dnn-tui train`` with ``dnn-tui watch`` following it from a
   second tmux window, the watcher stopped and resumed every few seconds; the run's epochs
   in each watched phase against those of the unwatched phases either side. Target: >= 0.95.
3. Key press to screen in ``watch``: ``c`` sent to the watching dashboard through a tmux
   control-mode client, timed until the screen shows the change (a) requested and
   (b) applied by the run in the other process. Target: (b) <= 100 ms median.
4. Launch to first painted frame of ``dnn-tui`` against ``python -c "import torch"``.

A process stopped here runs as a child of its pane's shell: tmux resumes a pane's own
process at once when it stops. Each stop is checked (the process must show state T).

The machine's speed drifts: headless epochs of the baseline jump every few seconds, with
nothing else running, and stay within a few percent in between (docs/benchmarks.md has the
figures), so a phase is compared with the phases either side only when those two agree within
10%, and only epochs wholly inside a phase count. The figures come with two standard errors;
use more --rounds for a tighter figure.

    python benchmarks/dashboard.py [--rounds 20] [--phase 1.0] [--size 120x40]

Uses the real MNIST test images in ../shared/data/mnist-t10k (8,000 for training) when
present, else the bundled digits (much smaller, so the figures are less telling).
Needs tmux.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import queue
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

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

    def open(self, command: list[str], cwd: Path, stoppable: bool = False) -> str:
        """Run command in a new window of cols x rows; returns the window's target.

        tmux sends SIGCONT at once to a pane's own process that stopped, so a command the
        benchmark stops and resumes (stoppable) runs as a child of the pane's shell instead
        (see process_pid)."""
        run = shlex.join(command)
        line = f"cd {shlex.quote(str(cwd))} && " + (f"{run}; exit" if stoppable else f"exec {run}")
        if self.windows == 0:  # a window that stays keeps the session when the others end
            self._tmux(
                "-f", "/dev/null", "new-session", "-d", "-s", "bench", "-x", str(self.cols),
                "-y", str(self.rows), "-n", "keep", "sleep 100000",
            )  # fmt: skip
            self._tmux("set-option", "-g", "remain-on-exit", "off")
        self.windows += 1
        target = f"bench:w{self.windows}"
        self._tmux("new-window", "-d", "-t", "bench", "-n", f"w{self.windows}", line)
        # The control client (see Control) must not resize it. (Set per window: tmux 3.3a
        # exits on the next new-window when the global option is set.)
        self._tmux("set-option", "-w", "-t", target, "window-size", "manual")
        return target

    def screen(self, target: str) -> str:
        try:
            return self._tmux("capture-pane", "-p", "-t", target)
        except subprocess.CalledProcessError:
            return ""

    def pane_pid(self, target: str) -> str:
        return self._tmux("list-panes", "-t", target, "-F", "#{pane_pid}").split()[0]

    def process_pid(self, target: str) -> int:
        """The pid of a stoppable command (the one child of its pane's shell)."""
        shell = self.pane_pid(target)
        children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
        assert len(children) == 1, children
        return int(children[0])

    def wait_closed(self, target: str, timeout: float = 60) -> None:
        """Wait until the window's process has exited (the next run must not share the cores
        with one still shutting down)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            names = self._tmux("list-windows", "-t", "bench", "-F", "#{window_name}").split()
            if target.split(":", 1)[1] not in names:
                return
            time.sleep(0.05)
        raise TimeoutError(f"{target} did not close in {timeout} s")

    def keys(self, target: str, *keys: str) -> None:
        self._tmux("send-keys", "-t", target, *keys)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)

    def control(self) -> Control:
        """A control-mode client of the session (commands without starting a process each)."""
        return Control(self.socket)


class Control:
    """A tmux control-mode client: commands go down one pipe, answers and ``%output``
    notices (the panes wrote something) come back on the other. Reading the screen only
    when a pane wrote, with no process started per look, keeps the measuring itself off
    the two cores it measures (a ``tmux capture-pane`` process per look costs a few ms)."""

    def __init__(self, socket: str) -> None:
        self._process = subprocess.Popen(
            ["tmux", "-L", socket, "-C", "attach-session", "-t", "bench"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        self._answers: queue.Queue[list[str]] = queue.Queue()
        self.output = threading.Event()
        """Set whenever a pane wrote to the terminal."""
        threading.Thread(target=self._read, daemon=True).start()
        self._answers.get(timeout=10)  # the attach itself answers first

    def _read(self) -> None:
        assert self._process.stdout is not None
        body: list[str] | None = None
        for raw in self._process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if body is not None:
                if line.startswith(("%end", "%error")):
                    self._answers.put(body)
                    body = None
                else:
                    body.append(line)
            elif line.startswith("%begin"):
                body = []
            elif line.startswith("%output"):
                self.output.set()

    def command(self, line: str) -> list[str]:
        assert self._process.stdin is not None
        self._process.stdin.write(line.encode("utf-8") + b"\n")
        return self._answers.get(timeout=10)

    def screen(self, target: str) -> str:
        return "\n".join(self.command(f"capture-pane -p -t {target}"))

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=10)


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


def headless(tmux: Tmux, work: Path, epochs: int) -> float:
    out = work / f"headless-{time.monotonic_ns()}"
    target = tmux.open(dnn_tui("train", *run_options(epochs), "--out", str(out)), work)
    found = wait_ended(out)
    tmux.wait_closed(target)
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
    tmux.wait_closed(target)
    return rate(found)


def spread(values: list[float]) -> str:
    """median [first quartile, third quartile] of ratios."""
    if len(values) < 2:
        return f"{values[0]:.2f}"
    q1, _, q3 = statistics.quantiles(values, n=4)
    return f"{statistics.median(values):.2f} [{q1:.2f}, {q3:.2f}]"


def measure_processes(args: argparse.Namespace, work: Path) -> None:
    cols, rows = args.size
    print(
        f"1b. samples/s beside the dashboard in tmux {cols}x{rows}, baseline, {args.epochs} "
        f"epochs, "
        f"{args.rounds} pairs of fresh processes (which goes first alternates)"
    )
    ratios = []
    for r in range(1, args.rounds + 1):
        tmux = Tmux(cols, rows)
        try:
            if r % 2:
                alone = headless(tmux, work, args.epochs)
                beside = dashboard(tmux, work, args.epochs)
            else:
                beside = dashboard(tmux, work, args.epochs)
                alone = headless(tmux, work, args.epochs)
        finally:
            tmux.close()
        ratios.append(beside / alone)
        ratio = beside / alone
        print(f"   pair {r}: headless {alone:8.0f}/s  dashboard {beside:8.0f}/s ({ratio:.2f})")
    print(f"   dashboard / headless: median [quartiles] {spread(ratios)} (target >= 0.9)")


class Progress:
    """The epochs of a run as they end, each with the moment the benchmark saw it
    (events.jsonl read every 20 ms; an epoch of the baseline on 8k images lasts ~0.1 s)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / "events.jsonl"
        self.offset = 0
        self.partial = b""
        self.epochs: list[tuple[float, float]] = []
        """(monotonic time seen, samples/s of the epoch)."""

    def read(self) -> None:
        with open(self.path, "rb") as file:
            file.seek(self.offset)
            data = file.read()
        self.offset += len(data)
        *lines, self.partial = (self.partial + data).split(b"\n")
        now = time.monotonic()
        for line in lines:
            if b'"EpochEnded"' in line:
                self.epochs.append((now, json.loads(line)["record"]["samples_per_s"]))

    def within(self, start: float, end: float) -> list[float]:
        """samples/s of the epochs that ran wholly between start and end: seen by then, and
        begun after start (the epoch before them was seen SEEN_LAG after start)."""
        return [
            rate
            for (before, _), (seen, rate) in itertools.pairwise(self.epochs)
            if seen <= end and before >= start + SEEN_LAG and rate
        ]

    def follow(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.read()
            time.sleep(0.02)


SEEN_LAG = 0.025
"""Seconds an epoch's end may precede the moment the benchmark sees it (one look every 20 ms)."""
DRIFT = 0.10
"""A treatment phase is compared only when the two control phases either side of it differ by
at most this fraction (the machine's speed jumps every few seconds)."""


class Phase(NamedTuple):
    name: str
    start: float
    end: float
    progress: Progress

    def rates(self) -> list[float]:
        return self.progress.within(self.start, self.end)


def stop(pid: int) -> None:
    """SIGSTOP, and make sure the process stays stopped (nothing resumed it). On a busy
    machine the stop may take a few ms to reach every thread."""

    def state() -> str:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]

    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + 2
    while state() != "T":
        assert time.monotonic() < deadline, f"pid {pid} did not stop ({state()})"
        time.sleep(0.005)
    time.sleep(0.02)
    assert state() == "T", f"pid {pid} did not stay stopped ({state()})"


def wait_gone(pid: int, timeout: float = 60) -> None:
    """Wait until the process has exited (its files are complete; nothing writes any more)."""
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists():
        assert time.monotonic() < deadline, f"pid {pid} still running after {timeout} s"
        time.sleep(0.05)


def started(tmux: Tmux, target: str, history_glob: Path, pattern: str) -> Path:
    """The run directory of the run the window's process started, once its events exist."""
    deadline = time.monotonic() + 120
    while not (found := list(history_glob.glob(pattern))):
        assert time.monotonic() < deadline, tmux.screen(target)
        time.sleep(0.05)
    return found[0].parent


def throughput(rates: list[float]) -> float:
    """samples/s over epochs of equal size: all their samples over all their time."""
    return len(rates) / sum(1 / r for r in rates)


def take_turns(
    names: tuple[str, str], switch: Callable[[str], Progress], phases: int, phase_s: float
) -> list[Phase]:
    """phases phases of phase_s seconds, the control condition (names[1]) and the treatment
    (names[0]) alternating, control first and last; switch(name) puts a condition in place
    and returns the Progress of the run to read."""
    turns = []
    for turn in range(phases):
        name = names[turn % 2 == 0]
        progress = switch(name)
        start = time.monotonic()
        progress.follow(phase_s)
        turns.append(Phase(name, start, time.monotonic(), progress))
    return turns


def report_turns(names: tuple[str, str], turns: list[Phase], target: str) -> None:
    """Each treatment phase against the mean of the control phases either side of it (so that
    a steady drift cancels), left out when those two differ by more than DRIFT (the machine's
    speed jumped in between) or hold under 2 whole epochs. Printed: the mean of the kept
    ratios with two standard errors, their median and quartiles, and each condition's
    throughput over the kept phases."""
    ratios: list[float] = []
    kept: dict[str, list[float]] = {name: [] for name in names}
    left_out = 0
    for middle in range(1, len(turns) - 1, 2):
        found = [phase.rates() for phase in turns[middle - 1 : middle + 2]]
        if min(len(rates) for rates in found) < 2:
            left_out += 1
            continue
        before, during, after = (throughput(rates) for rates in found)
        if abs(before - after) > DRIFT * min(before, after):
            left_out += 1
            continue
        ratios.append(during / ((before + after) / 2))
        kept[names[0]] += found[1]
        kept[names[1]] += found[0] + found[2]
    if len(ratios) < 2:
        print(f"   too few comparable phases ({len(ratios)}, {left_out} left out): more --rounds")
        return
    mean = statistics.fmean(ratios)
    error = 2 * statistics.stdev(ratios) / len(ratios) ** 0.5
    print(
        f"   samples/s over the kept phases ({len(kept[names[0]])} and "
        f"{len(kept[names[1]])} epochs): {names[0]} {throughput(kept[names[0]]):.0f}, "
        f"{names[1]} {throughput(kept[names[1]]):.0f}"
    )
    print(
        f"   {names[0]} / {names[1]}: {mean:.3f} ± {error:.3f} (mean of {len(ratios)} phases "
        f"against those either side, ± 2 standard errors; {left_out} left out: the speed "
        f"jumped); median [quartiles] {spread(ratios)} ({target})"
    )


def measure_throughput(args: argparse.Namespace, work: Path) -> None:
    """A dashboard training in its worker thread and a headless run of the same config, both
    in tmux windows of the same size, take turns: one runs while the other is stopped
    (SIGSTOP / SIGCONT), args.phase seconds each, so that the machine's drift (see the
    module's docstring) cancels. Only epochs wholly inside a phase count (see
    report_turns)."""
    cols, rows = args.size
    phases = args.rounds * 8 + 1
    print(
        f"1. samples/s of the dashboard's run (tmux {cols}x{rows}, baseline) against a headless "
        f"run taking turns with it: {phases} phases of {args.phase:g} s"
    )
    tmux = Tmux(cols, rows)
    runs = work / "interleaved"
    try:
        options = run_options(100_000)
        alone = tmux.open(dnn_tui("train", *options, "--out", str(runs / "h")), work, True)
        alone_dir = started(tmux, alone, runs, "h/events.jsonl")
        alone_pid = tmux.process_pid(alone)
        stop(alone_pid)
        beside = tmux.open(
            dnn_tui("tui", *options, "--runs", str(runs / "d"), "--start"), work, True
        )
        beside_dir = started(tmux, beside, runs, "d/*/events.jsonl")
        beside_pid = tmux.process_pid(beside)
        processes = {
            "headless": (alone_pid, Progress(alone_dir)),
            "dashboard": (beside_pid, Progress(beside_dir)),
        }
        current = "dashboard"
        processes[current][1].follow(3.0)  # the dashboard's first frames and epochs

        def switch(name: str) -> Progress:
            nonlocal current
            if name != current:
                pid, progress = processes[current]
                stop(pid)
                progress.read()  # what it wrote before it stopped belongs to its phase
                os.kill(processes[name][0], signal.SIGCONT)
                current = name
            return processes[name][1]

        names = ("dashboard", "headless")
        turns = take_turns(names, switch, phases, args.phase)
        report_turns(names, turns, "target >= 0.9, aim 0.95")
        for pid, _ in processes.values():
            os.kill(pid, signal.SIGCONT)
        tmux.keys(alone, "C-c")
        tmux.keys(beside, "s")
        wait_ended(beside_dir, 60)
        tmux.keys(beside, "C-q")
        for pid, _ in processes.values():
            wait_gone(pid)
    finally:
        tmux.close()


def measure_watcher(args: argparse.Namespace, work: Path) -> None:
    """One headless run, its watcher alternately running and stopped (SIGSTOP / SIGCONT),
    args.phase seconds each: the run's epochs in each watched phase against those in the
    unwatched phases either side, in the same process seconds apart (see report_turns). A
    resumed watcher first catches up on what it missed, and its overdue redraws come at
    once: that work counts in its phase, so the figure overstates the cost a little."""
    cols, rows = args.size
    phases = args.rounds * 8 + 1
    print(
        f"2. samples/s of a headless run with dnn-tui watch following it (tmux {cols}x{rows}), "
        f"against the same run with the watcher stopped: {phases} phases of {args.phase:g} s"
    )
    tmux = Tmux(cols, rows)
    out = work / "watched-run"
    try:
        run = tmux.open(dnn_tui("train", *run_options(100_000), "--out", str(out)), work)
        started(tmux, run, work, "watched-run/events.jsonl")
        watcher = tmux.open(dnn_tui("watch", str(out)), work, True)
        deadline = time.monotonic() + 120
        while "samples/s" not in tmux.screen(watcher):
            assert time.monotonic() < deadline, tmux.screen(watcher)
            time.sleep(0.05)
        pid = tmux.process_pid(watcher)
        progress = Progress(out)
        progress.follow(2.0)
        watching = True

        def switch(name: str) -> Progress:
            nonlocal watching
            if (name == "watched") != watching:
                watching = not watching
                if watching:
                    os.kill(pid, signal.SIGCONT)
                else:
                    stop(pid)
            return progress

        names = ("watched", "unwatched")
        turns = take_turns(names, switch, phases, args.phase)
        report_turns(names, turns, "target >= 0.95")
        os.kill(pid, signal.SIGCONT)
        tmux.keys(run, "C-c")
        wait_ended(out, 60)  # the watcher (it writes nothing) ends with the tmux session
    finally:
        tmux.close()


def clip_text(screen: str) -> str | None:
    """The clipping part of the status line: 'clip ON ≤1', 'clip off', with ' · sent' while
    the request has not been applied by the run yet."""
    for line in screen.splitlines():
        if "clip ON" in line or "clip off" in line:
            return line.split("·", 1)[-1].strip() if "lr " in line else line.strip()
    return None


def measure_watch_latency(args: argparse.Namespace, work: Path, presses: int = 20) -> None:
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
        control = tmux.control()
        requested, applied = [], []
        for _ in range(presses):
            before = clip_text(control.screen(target))
            time.sleep(0.3)
            control.output.clear()
            start = time.perf_counter()
            control.command(f"send-keys -t {target} c")
            seen_request = None
            while True:  # the screen is read each time the dashboard wrote to it
                assert control.output.wait(10), "the screen did not change"
                control.output.clear()
                now = clip_text(control.screen(target))
                if seen_request is None and now not in (before, None):
                    seen_request = time.perf_counter() - start
                if now not in (before, None) and "sent" not in now:
                    break
            requested.append(seen_request * 1000)
            applied.append((time.perf_counter() - start) * 1000)
        control.close()
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
    parser.add_argument(
        "--rounds",
        type=int,
        default=20,
        help="8 phases each in 1 and 2 (~3 min each at 1 s phases); pairs of runs in 1b",
    )
    parser.add_argument("--epochs", type=int, default=30, help="epochs of a run in 1b")
    parser.add_argument("--phase", type=float, default=1.0, help="seconds of each turn in 1 and 2")
    parser.add_argument("--size", type=size, default=(120, 40), help="terminal COLSxROWS")
    parser.add_argument(
        "--only",
        choices=["throughput", "processes", "watcher", "latency", "frame"],
        help="one measurement only (processes: 1b, pairs of fresh processes, only when asked)",
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each figure as soon as it is measured
    if shutil.which("tmux") is None:
        sys.exit("benchmarks/dashboard.py needs tmux (a real terminal)")
    # A process hung up by closing tmux may still be saving its run while the folder goes.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        if args.only in (None, "throughput"):
            measure_throughput(args, work)
        if args.only == "processes":
            measure_processes(args, work)
        if args.only in (None, "watcher"):
            measure_watcher(args, work)
        if args.only in (None, "latency"):
            measure_watch_latency(args, work)
        if args.only in (None, "frame"):
            measure_first_frame(args, work)


if __name__ == "__main__":
    main()
