"""The cost of the decision regions: samples/s of a moons run with the boundary panel shown
and without, side by side in one run.

1. The engine alone: ``train`` of moons-tiny (2-8-8-2 tanh, batch 32) with
   ``RunControls.boundary_wanted`` on and off, interleaved round by round; samples/s over
   each whole ``train`` call (validation and every probe included).
2. The dashboard: one long moons-tiny run in the lab (``App.run_test``, headless), its panel
   switched every --phase seconds between the gradients and the decision regions; the
   training samples done in each phase from the progress reports. Each regions phase is set
   against the mean of the gradient phases either side, which cancels the machine's drift.

    python benchmarks/boundary.py [--rounds 6] [--epochs 20] [--phases 12] [--phase 2.0]

The figures come with their spread (the lowest and highest ratio); docs/benchmarks.md keeps
the measured ones.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from dnn_tui.data import load_dataset
from dnn_tui.presets import load_preset
from dnn_tui.training.controls import RunControls
from dnn_tui.training.engine import train
from dnn_tui.training.events import BoundaryMeasured, Event

PRESET = "moons-tiny"


def engine_rate(epochs: int, wanted: bool) -> tuple[float, int]:
    """(samples/s over the whole ``train`` call, regions measured) of one moons-tiny run:
    the wall time includes every probe, the regions measured at epoch ends too."""
    config = load_preset(PRESET)
    config = replace(config, train=replace(config.train, epochs=epochs, device="cpu"))
    data = load_dataset(config.data)
    controls = RunControls()
    controls.boundary_wanted = wanted
    events: list[Event] = []
    began = time.perf_counter()
    train(config, data, controls, events.append)
    seconds = time.perf_counter() - began
    regions = sum(isinstance(e, BoundaryMeasured) for e in events)
    return epochs * len(data.x_train) / seconds, regions


def measure_engine(rounds: int, epochs: int) -> None:
    rates: dict[bool, list[float]] = {False: [], True: []}
    measured = 0
    for _ in range(rounds):
        for wanted in (False, True):
            rate, regions = engine_rate(epochs, wanted)
            rates[wanted].append(rate)
            measured += regions if wanted else 0
    off, on = statistics.median(rates[False]), statistics.median(rates[True])
    ratios = [b / a for a, b in zip(rates[False], rates[True], strict=True)]
    print(f"1. engine, {PRESET}, {epochs} epochs x {rounds} rounds (median samples/s)")
    print(f"   regions off {off:>10,.0f}")
    print(f"   regions on  {on:>10,.0f}   ({measured / rounds:.0f} measures a run)")
    print(
        f"   on / off    {on / off:.3f}   (per-round ratios {min(ratios):.3f} .. {max(ratios):.3f})"
    )


async def dashboard_phases(phases: int, phase: float) -> list[tuple[str, float]]:
    """(panel, samples/s) of each phase of one long run in the lab."""
    from dnn_tui.app.app import DnnApp

    config = load_preset(PRESET)
    config = replace(config, train=replace(config.train, epochs=100_000, device="cpu"))
    train_size = 2400
    with tempfile.TemporaryDirectory() as root:
        app = DnnApp(config, run_root=Path(root))
        async with app.run_test(size=(120, 40)) as pilot:
            lab = app.lab
            await pilot.press("r")
            while lab.last_step is None or lab.last_step.epoch < 3:
                await pilot.pause(0.1)

            def done() -> float:
                step = lab.last_step
                assert step is not None
                return (step.epoch - 1 + step.step / step.steps_per_epoch) * train_size

            results = []
            for index in range(phases):
                panel = "boundary" if index % 2 else "gradients"
                while lab.panel != panel:
                    lab.action_cycle_panels()
                await pilot.pause(0.5)  # the switch and its first redraw settle
                began, samples = time.perf_counter(), done()
                await pilot.pause(phase)
                results.append((panel, (done() - samples) / (time.perf_counter() - began)))
            app.controls.stop()
            await app.workers.wait_for_complete()
    return results


def measure_dashboard(phases: int, phase: float) -> None:
    results = asyncio.run(dashboard_phases(phases, phase))
    ratios = []
    for index in range(1, len(results) - 1, 2):
        before, shown, after = results[index - 1][1], results[index][1], results[index + 1][1]
        ratios.append(shown / ((before + after) / 2))
    gradients = statistics.median(rate for panel, rate in results if panel == "gradients")
    boundary = statistics.median(rate for panel, rate in results if panel == "boundary")
    print(f"2. dashboard, one {PRESET} run, {len(results)} phases of {phase:.1f} s")
    print(f"   gradient panel shown  {gradients:>10,.0f} samples/s (median)")
    print(f"   boundary panel shown  {boundary:>10,.0f} samples/s (median)")
    print(
        f"   boundary / gradients  {statistics.median(ratios):.3f}   "
        f"(per-phase ratios {min(ratios):.3f} .. {max(ratios):.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="engine runs of each kind")
    parser.add_argument("--epochs", type=int, default=20, help="epochs of each engine run")
    parser.add_argument("--phases", type=int, default=13, help="dashboard phases (odd)")
    parser.add_argument("--phase", type=float, default=2.0, help="seconds of each phase")
    parser.add_argument("--only", choices=("engine", "dashboard"), help="one measure only")
    args = parser.parse_args()
    if args.only != "dashboard":
        measure_engine(args.rounds, args.epochs)
    if args.only != "engine":
        measure_dashboard(args.phases, args.phase)


if __name__ == "__main__":
    main()
