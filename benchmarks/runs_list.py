"""How fast runs are listed: ``dnn-tui runs`` and the dashboard's runs list on 1,000 runs.

Copies the four small run directories of tests/data/regularization-mnist (20 epochs each,
config.toml, history.json, history.csv) into a temporary runs folder until it holds
``--runs`` of them, laid out as suites (``<time>-suite-regularization/<preset>``), then
measures, side by side in one run:

- ``dnn-tui runs DIR`` and ``dnn-tui runs DIR --json`` in a subprocess, wall time, next to
  ``dnn-tui --version`` (the interpreter and import cost every command pays);
- the catalog alone in this process: a first scan, and a rescan of the unchanged folder
  (what the dashboard does every couple of seconds);
- the dashboard: from pressing ``v`` to the runs list holding every run (headless app).

    python benchmarks/runs_list.py [--runs 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dnn_tui.rundir.catalog import RunCatalog  # noqa: E402

FIXTURES = REPO / "tests" / "data" / "regularization-mnist"
PRESETS = ("baseline", "l2", "dropout", "bottleneck")


def make_runs(root: Path, count: int) -> None:
    """count run directories under root, four to a suite folder."""
    for i in range(count):
        preset = PRESETS[i % len(PRESETS)]
        suite = root / f"20250101-{i // len(PRESETS):06d}-suite-regularization"
        shutil.copytree(FIXTURES / preset, suite / preset)


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr}")
    return elapsed


async def dashboard_list_load(root: Path, count: int) -> float:
    from dnn_tui.app.app import DnnApp
    from dnn_tui.app.widgets.run_list import RunList

    app = DnnApp(run_root=root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        start = time.perf_counter()
        await pilot.press("v")
        while True:
            lists = app.screen.query(RunList)
            if lists and lists.first().row_count == count:
                break
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - start
        await pilot.press("escape")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "dnn_tui"]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "runs"
        make_runs(root, args.runs)
        print(f"{args.runs} runs of 20 epochs under {args.runs // len(PRESETS)} suite folders")
        rows: dict[str, list[float]] = {
            "dnn-tui --version": [],
            "dnn-tui runs DIR": [],
            "dnn-tui runs DIR --json": [],
            "catalog: first scan": [],
            "catalog: rescan, nothing changed": [],
            "dashboard: v to a full runs list": [],
        }
        for _ in range(args.rounds):  # interleaved, so machine noise hits all alike
            rows["dnn-tui --version"].append(wall([*cli, "--version"]))
            rows["dnn-tui runs DIR"].append(wall([*cli, "runs", str(root)]))
            rows["dnn-tui runs DIR --json"].append(wall([*cli, "runs", str(root), "--json"]))
            catalog = RunCatalog(root)
            start = time.perf_counter()
            assert len(catalog.scan()) == args.runs
            rows["catalog: first scan"].append(time.perf_counter() - start)
            start = time.perf_counter()
            catalog.scan()
            rows["catalog: rescan, nothing changed"].append(time.perf_counter() - start)
            rows["dashboard: v to a full runs list"].append(
                asyncio.run(dashboard_list_load(root, args.runs))
            )
        width = max(map(len, rows))
        print(f"{'':<{width}}  median s   per run ms   rounds")
        for name, times in rows.items():
            median = statistics.median(times)
            rounds = " ".join(f"{t:.3f}" for t in times)
            print(f"{name:<{width}}  {median:8.3f}   {1000 * median / args.runs:10.3f}   {rounds}")
        startup = statistics.median(rows["dnn-tui --version"])
        listing = statistics.median(rows["dnn-tui runs DIR"])
        print(f"dnn-tui runs minus interpreter start: {listing - startup:.3f} s")


if __name__ == "__main__":
    main()
