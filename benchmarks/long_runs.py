"""Long runs cost what short runs cost: epoch times, opening a run and the dashboard, side by side.

Trains the baseline on the bundled digits headless (``dnn-tui train``, a process each) for
each length asked (default 100, 3,000, 5,000 and 20,000 epochs; about 10 ms an epoch on
2 quiet cores), then, for each run it made:

1. **epoch cost**: the median epoch time (history.json's ``seconds``) of the last 200 epochs
   over that of epochs 100-300 (target: at most 1.1; writing the run files grew it with the
   run's length when history.json was rewritten after every epoch);
2. **opening**: the seconds a watcher (``RunFollower``) takes to reach the end of the finished
   run, with the events.jsonl lines it parsed, and the seconds the dashboard (``watch``, headless,
   a fresh process) takes from its start to showing the run's end;
0. **the recorder alone** (``--recorder N``, default 20,000; no training): the CPU time the
   run files take per epoch (the recorder's thread included), each epoch written before the
   next (``flush``), epochs 100-300 against the last 200 of N, with records of the baseline's
   shape (four Linear layers, three hidden, activation figures): a figure machine noise
   barely touches;
3. **the dashboard's weight**: that dashboard's resident memory once the run is shown, and
   the median time of a panel frame (curves, table, gradients, signal redrawn) over 30 frames
   (target: within 10% of those of the 100-epoch run).

    python benchmarks/long_runs.py [--epochs 100 3000 5000 20000] [--keep DIR] [--recorder N]

The 20,000-epoch run takes several minutes. ``--keep DIR`` keeps the runs (and reuses those
already there, so a second look costs no training).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

OPEN_AND_DRAW = """
import asyncio, json, statistics, sys, time
started = time.perf_counter()
from pathlib import Path
from dnn_tui.app.app import DnnApp
from dnn_tui.config import RunConfig

async def main(run):
    app = DnnApp(RunConfig(), run_root=run.parent, watch=run)
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.lab
        while not lab.run_ended:
            await pilot.pause(0.01)
        shown = time.perf_counter() - started
        frames = []
        for _ in range(30):
            for pair in (lab.loss_sparklines, lab.accuracy_sparklines):
                pair._dirty = True
            lab.epoch_table.refresh()
            lab.gradient_panel.refresh()
            lab.signal_panel.refresh()
            began = time.perf_counter()
            lab.flush_panels()
            await pilot.pause()
            frames.append(time.perf_counter() - began)
        rss = next(
            int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS")
        )
        print(json.dumps({"shown_s": shown, "frame_ms": 1000 * statistics.median(frames),
                          "rss_mb": rss / 1024, "rows": lab.epoch_table.row_count}))

asyncio.run(main(Path(sys.argv[1])))
"""


def recorder_cost(epochs: int) -> tuple[float, float]:
    """Median CPU ms per epoch of writing the run files: (epochs 100-300, the last 200)."""
    from dnn_tui.config import RunConfig
    from dnn_tui.rundir.recorder import RunRecorder
    from dnn_tui.training.events import EpochEnded, RunFinished, RunStarted

    layers = ("fc1", "fc2", "fc3", "fc4")
    hidden = 3

    def record(epoch: int) -> dict[str, object]:
        wobble = 1 + 1e-3 * (epoch % 97)  # numbers of every length, as a run's are
        return {
            "epoch": epoch,
            **{key: 0.123456789 * wobble for key in ("train_loss", "val_loss", "lr")},
            **{key: 0.987654321 / wobble for key in ("train_acc", "val_acc")},
            "seconds": 0.0101 * wobble,
            "samples_per_s": 140_000.5 * wobble,
            "grad_norm": [0.0123456 * wobble] * len(layers),
            "grad_norm_total": 0.0234567 * wobble,
            "clipped_fraction": 0.0,
            "events": [],
            "act_mean": [0.345678 * wobble] * hidden,
            "act_std": [0.456789 * wobble] * hidden,
            "act_saturated": None,
            "act_dead": [0.015625] * hidden,
            "act_hist": [[0.0625 * wobble] * 16] * hidden,
        }

    costs = []
    with tempfile.TemporaryDirectory() as tmp:
        recorder = RunRecorder(Path(tmp))
        dataset = {"name": "digits", "train": 1437, "val": 180, "test": 180}
        recorder(RunStarted(RunConfig(), dataset, layers, (), "", 0, "cpu", 15))
        for epoch in range(1, epochs + 1):
            began = time.process_time()
            recorder(EpochEnded(record(epoch), 1, epochs))
            recorder.flush()
            costs.append(time.process_time() - began)
        recorder(RunFinished("completed", 1, None, None, 1.0))
    return 1000 * statistics.median(costs[99:300]), 1000 * statistics.median(costs[-200:])


def train(out: Path, epochs: int) -> None:
    """A headless run of the digits baseline into out (kept when it finished already)."""
    history = out / "history.json"
    if history.is_file() and json.loads(history.read_text())["status"] == "completed":
        return
    argv = [sys.executable, "-m", "dnn_tui", "train", "--preset", "baseline"]
    argv += ["--dataset", "digits", "--device", "cpu", "--epochs", str(epochs), "--out", str(out)]
    argv += ["--force"] if out.exists() else []
    began = time.perf_counter()
    subprocess.run(argv, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    print(f"  trained {epochs:,} epochs in {time.perf_counter() - began:.0f} s", flush=True)


def epoch_ratio(out: Path) -> tuple[float, float, float] | None:
    """(median seconds of epochs 100-300, of the last 200, their ratio); None for short runs."""
    seconds = [r["seconds"] for r in json.loads((out / "history.json").read_text())["epochs"]]
    if len(seconds) < 500:
        return None
    early, late = statistics.median(seconds[99:300]), statistics.median(seconds[-200:])
    return early, late, late / early


def follow(out: Path) -> tuple[float, int]:
    """Seconds for a watcher to reach the finished run's end, and the lines it parsed."""
    code = (
        "import json, sys, time; from dnn_tui.rundir.follow import RunFollower\n"
        "began = time.perf_counter(); f = RunFollower(sys.argv[1])\n"
        "while f.finished is None: f.read_new()\n"
        "print(json.dumps([time.perf_counter() - began, f.parsed]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(out)], check=True, cwd=ROOT, capture_output=True
    )
    seconds, parsed = json.loads(result.stdout)
    return seconds, parsed


def dashboard(out: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", OPEN_AND_DRAW, str(out)], check=True, cwd=ROOT, capture_output=True
    )
    return json.loads(result.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, nargs="+", default=[100, 3000, 5000, 20000])
    parser.add_argument("--keep", type=Path, help="keep the runs here (and reuse them)")
    parser.add_argument("--recorder", type=int, default=20_000, help="epochs fed to it; 0: skip")
    args = parser.parse_args()
    if args.recorder:
        early, late = recorder_cost(args.recorder)
        print(
            f"the recorder alone, CPU per epoch: epochs 100-300 {early:.3f} ms, the last 200 of"
            f" {args.recorder:,} {late:.3f} ms: ratio {late / early:.2f}",
            flush=True,
        )
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        rows = []
        for epochs in sorted(args.epochs):
            out = root / f"digits-{epochs}"
            print(f"{epochs:,} epochs:", flush=True)
            train(out, epochs)
            ratio = epoch_ratio(out)
            opened, parsed = follow(out)
            board = dashboard(out)
            rows.append((epochs, ratio, opened, parsed, board))
            print(f"  {json.dumps({'ratio': ratio, 'follow_s': opened, **board})}", flush=True)
    print()
    print(
        f"{'epochs':>7} {'ep 100-300':>11} {'last 200':>9} {'ratio':>6} {'watcher':>8}"
        f" {'parsed':>7} {'dashboard':>10} {'RSS MB':>7} {'frame ms':>9}"
    )
    for epochs, ratio, opened, parsed, board in rows:
        early, late, share = (
            (f"{1000 * ratio[0]:.1f} ms", f"{1000 * ratio[1]:.1f} ms", f"{ratio[2]:.2f}")
            if ratio
            else ("-", "-", "-")
        )
        print(
            f"{epochs:>7,} {early:>11} {late:>9} {share:>6} {opened:>7.2f}s {parsed:>7,}"
            f" {board['shown_s']:>9.2f}s {board['rss_mb']:>7.0f} {board['frame_ms']:>9.1f}"
        )
    base = rows[0][4]
    for epochs, *_, board in rows[1:]:
        rss, frame = board["rss_mb"] / base["rss_mb"], board["frame_ms"] / base["frame_ms"]
        print(f"{epochs:,} vs {rows[0][0]:,} epochs: dashboard RSS x{rss:.2f}, frame x{frame:.2f}")


if __name__ == "__main__":
    main()
