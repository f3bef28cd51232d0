"""Engine throughput against a plain PyTorch loop, measured side by side in one process.

Trains the baseline model (784-100-50-20-10, batch 100) on MNIST-shaped data with
``dnn_tui.training.engine.train`` (every probe on: per-layer gradient norms,
divergence check, throttled reports) and with a plain loop over the same tensors
(randperm indexing, cross-entropy, backward, step). The plain loop runs with
PyTorch's default Adam and with fused Adam; runs are interleaved so that machine
noise hits all of them alike. Prints samples/s per round and the median ratios.

    python benchmarks/throughput.py [--rounds 5] [--epochs 1] [--clip]

Uses the real MNIST test images in ../shared/data/mnist-t10k when present
(8,000 training samples after the 80/10/10 split), else random data of that shape.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from dnn_tui.config import DataConfig, RunConfig, TrainConfig, validate
from dnn_tui.data import Dataset, load_dataset
from dnn_tui.model import build_mlp
from dnn_tui.training.engine import train

MNIST_T10K = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist-t10k"


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


def plain_loop(config: RunConfig, data: Dataset, fused: bool) -> float:
    """Samples/s of the textbook loop; the same seeding and batching as the engine."""
    t = config.train
    torch.manual_seed(t.seed)
    model = build_mlp(config.model, data.input_dim, data.classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=t.lr, fused=fused or None)
    generator = torch.Generator().manual_seed(t.seed)
    x, y, n, bs = data.x_train, data.y_train, len(data.x_train), int(t.batch_size)
    start = time.perf_counter()
    for _ in range(t.epochs):
        order = torch.randperm(n, generator=generator)
        for i in range(0, n, bs):
            index = order[i : i + bs]
            loss = F.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return n * t.epochs / (time.perf_counter() - start)


def engine_loop(config: RunConfig, data: Dataset) -> float:
    result = train(config, data)
    return sum(r["samples_per_s"] for r in result.history) / len(result.history)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--clip", action="store_true", help="engine with clipping at 1.0")
    args = parser.parse_args()
    data = mnist_like()
    config = validate(
        RunConfig(
            train=TrainConfig(
                epochs=args.epochs, device="cpu", clip_norm=1.0 if args.clip else None
            )
        )
    )
    print(
        f"data: {data.name}, {len(data.x_train)} training samples; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    engine_loop(config, data)  # warm-up: allocator, kernels
    plain_loop(config, data, fused=False)
    rows = []
    for r in range(1, args.rounds + 1):
        default = plain_loop(config, data, fused=False)
        fused = plain_loop(config, data, fused=True)
        ours = engine_loop(config, data)
        rows.append((default, fused, ours))
        print(
            f"round {r}: plain default Adam {default:9.0f}/s  plain fused Adam {fused:9.0f}/s"
            f"  engine {ours:9.0f}/s"
        )
    vs_default = statistics.median(o / d for d, _, o in rows)
    vs_fused = statistics.median(o / f for _, f, o in rows)
    print(f"engine / plain default Adam: {vs_default:.2f}x (target >= 0.9)")
    print(f"engine / plain fused Adam:   {vs_fused:.2f}x (the cost of the probes)")


if __name__ == "__main__":
    main()
