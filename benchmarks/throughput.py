"""Engine throughput against plain PyTorch loops, and the cost of the probes, side by side.

Trains the baseline model (784-100-50-20-10, Adam, batch 100) on MNIST-shaped data with
``dnn_tui.training.engine.train``, every probe on (per-parameter gradient norms, the
divergence check before each optimizer step, throttled reports, the activation probe),
and with plain loops over the same tensors (randperm batches, cross-entropy, backward,
step), interleaved round by round so that machine noise hits all of them alike:

- plain, default Adam / fused Adam: the textbook loop (``x[index]``, ``zero_grad()``);
- plain, fused Adam, engine batching: the same loop with the engine's data path
  (``index_select`` and gradients set to None), so that the engine's ratio to it is the
  cost of the probes and checks alone;
- the engine, and the engine without the activation probe (``forward_probe=False``).

The engine's samples/s is what it reports: training samples over the time in training
steps (progress reports and the probes that run with them included; validation and the
epoch-end probe excluded, as in history.json). The probe's cost is measured on whole
epochs (validation and the epoch-end probe included): samples over each epoch's wall time.

    python benchmarks/throughput.py [--rounds 20] [--epochs 3] [--threads N] [--clock cpu] [--clip]

On a machine that other work shares, wall time counts the moments the benchmark waited
for a core; ``--clock cpu`` times everything (the plain loops and, through its module's
clock, the engine's own figures) in this process's CPU time instead, which leaves that
out. Either way the ratios are reported twice: from the best epoch of each loop
(interference only ever slows a loop down) and as the median of the per-round ratios.

Uses the real MNIST test images in ../shared/data/mnist-t10k when present (8,000 training
samples after the 80/10/10 split), else random data of that shape.
"""

from __future__ import annotations

import argparse
import statistics
import time
import types
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from dnn_tui.config import DataConfig, RunConfig, TrainConfig, validate
from dnn_tui.data import Dataset, load_dataset
from dnn_tui.model import build_mlp
from dnn_tui.training import engine
from dnn_tui.training.engine import train

MNIST_T10K = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist-t10k"
clock = time.perf_counter
"""What the plain loops time with; --clock cpu makes it the process's CPU time."""


def mnist_like() -> Dataset:
    if MNIST_T10K.is_dir():
        return load_dataset(
            DataConfig(
                dataset="idx",
                idx_images=str(MNIST_T10K / "t10k-images-idx3-ubyte.gz"),
                idx_labels=str(MNIST_T10K / "t10k-labels-idx1-ubyte.gz"),
            )
        )
    g = torch.Generator().manual_seed(0)
    x = torch.rand(10_000, 784, generator=g)
    y = torch.randint(0, 10, (10_000,), generator=g)
    return Dataset("random", x[:8000], y[:8000], x[8000:9000], y[8000:9000], x[9000:], y[9000:], 10)


def plain_loop(config: RunConfig, data: Dataset, fused: bool, engine_batching: bool) -> list[float]:
    """Samples/s of each epoch of the plain loop; the same seeding and batching as the engine."""
    t = config.train
    torch.manual_seed(t.seed)
    model = build_mlp(config.model, data.input_dim, data.classes)
    params = list(model.parameters())
    optimizer = torch.optim.Adam(params, lr=t.lr, fused=fused or None)
    generator = torch.Generator().manual_seed(t.seed)
    x, y, n, bs = data.x_train, data.y_train, len(data.x_train), int(t.batch_size)
    rates = []
    for _ in range(t.epochs):
        start = clock()
        order = torch.randperm(n, generator=generator)
        for i in range(0, n, bs):
            index = order[i : i + bs]
            if engine_batching:
                batch = torch.index_select(x, 0, index)
                labels = torch.index_select(y, 0, index)
                for p in params:
                    p.grad = None
            else:
                batch, labels = x[index], y[index]
                optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(batch), labels)
            loss.backward()
            optimizer.step()
        rates.append(n / (clock() - start))
    return rates


def engine_loop(config: RunConfig, data: Dataset, forward_probe: bool) -> dict[str, list[float]]:
    """Per epoch: samples/s as the engine reports it (``steps``), and over the epoch's wall
    time (``epochs``)."""
    result = train(config, data, forward_probe=forward_probe)
    n = len(data.x_train)
    return {
        "steps": [r["samples_per_s"] for r in result.history],
        "epochs": [n / r["seconds"] for r in result.history],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: its default)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--clip", action="store_true", help="engine with clipping at 1.0")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.clock == "cpu":
        global clock
        clock = time.process_time
        # The engine times its epochs with time.perf_counter: give its module this clock.
        engine.time = types.SimpleNamespace(perf_counter=time.process_time)  # type: ignore[assignment]
    data = mnist_like()
    config = validate(
        RunConfig(
            train=TrainConfig(
                epochs=args.epochs,
                device="cpu",
                clip_norm=1.0 if args.clip else None,
                threads=torch.get_num_threads(),  # the loops side by side use the same threads
            )
        )
    )
    print(
        f"data: {data.name}, {len(data.x_train)} training samples; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; {args.epochs} epochs a run, {args.rounds} rounds; "
        f"{args.clock} clock"
    )
    runs: dict[str, Callable[[], dict[str, list[float]]]] = {
        "default": lambda: {"steps": plain_loop(config, data, False, False)},
        "fused": lambda: {"steps": plain_loop(config, data, True, False)},
        "tuned": lambda: {"steps": plain_loop(config, data, True, True)},
        "engine": lambda: engine_loop(config, data, True),
        "no_probe": lambda: engine_loop(config, data, False),
    }
    for run in runs.values():  # warm-up: allocator, kernels
        run()
    rates: dict[str, list[float]] = {}
    rounds: list[dict[str, float]] = []
    for r in range(1, args.rounds + 1):
        row: dict[str, float] = {}
        for name, run in runs.items():
            for kind, values in run().items():
                key = name if kind == "steps" else f"{name}_{kind}"
                rates.setdefault(key, []).extend(values)
                row[key] = statistics.median(values)
        rounds.append(row)
        print(
            f"round {r:2}: plain default Adam {row['default']:7.0f}/s  fused {row['fused']:7.0f}/s"
            f"  fused, engine batching {row['tuned']:7.0f}/s  engine {row['engine']:7.0f}/s"
            f"  engine w/o activation probe {row['no_probe']:7.0f}/s"
        )
    print(
        "ratios: the best epochs of each (interference only ever slows a run down) and the "
        "median of the per-round ratios"
    )
    for label, top, bottom in (
        ("engine / plain default Adam", "engine", "default"),
        ("engine / plain fused Adam", "engine", "fused"),
        ("engine / plain fused Adam, engine batching", "engine", "tuned"),
        ("engine w/o activation probe / plain fused Adam", "no_probe", "fused"),
        ("engine w/o activation probe / fused, engine batching", "no_probe", "tuned"),
        ("activation probe: steps, engine / engine w/o", "engine", "no_probe"),
        ("activation probe: whole epochs, engine / engine w/o", "engine_epochs", "no_probe_epochs"),
    ):
        best = max(rates[top]) / max(rates[bottom])
        median = statistics.median(row[top] / row[bottom] for row in rounds)
        print(f"  {label:<54} best {best:.3f}   median {median:.3f}")
    print(
        "(whole epochs: samples over each epoch's wall time, validation and the epoch-end "
        "probe included; 1 - that ratio is the activation probe's cost)"
    )


if __name__ == "__main__":
    main()
