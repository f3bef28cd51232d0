"""What evaluation.json costs at the end of a run: ``assess`` (confusion matrix, per-sample
loss and probabilities, the worst mistakes) against ``evaluate`` (loss and accuracy only),
side by side on the same model and images, one PyTorch thread.

The model is the baseline (100-50-20) with random weights, the images the 10,000 real MNIST
test images in ../shared/data/mnist-t10k when they are there, else 10,000 random ones of the
same shape (the cost does not depend on the pixels).

    python benchmarks/evaluation.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from dnn_tui.config import DataConfig, ModelConfig  # noqa: E402
from dnn_tui.model import build_mlp  # noqa: E402
from dnn_tui.training.engine import evaluate  # noqa: E402
from dnn_tui.training.evaluation import assess  # noqa: E402

MNIST_T10K = REPO.parent / "shared" / "data" / "mnist-t10k"


def images() -> tuple[torch.Tensor, torch.Tensor, str]:
    if MNIST_T10K.is_dir():
        from dnn_tui.data import load_dataset

        data = load_dataset(
            DataConfig(
                dataset="idx",
                idx_images=str(MNIST_T10K / "t10k-images-idx3-ubyte.gz"),
                idx_labels=str(MNIST_T10K / "t10k-labels-idx1-ubyte.gz"),
            )
        )
        x = torch.cat([data.x_train, data.x_val, data.x_test])
        y = torch.cat([data.y_train, data.y_val, data.y_test])
        return x, y, "the MNIST test images"
    g = torch.Generator().manual_seed(0)
    return torch.rand(10_000, 784, generator=g), torch.randint(0, 10, (10_000,)), "random images"


def timed(work: Callable[[], object], rounds: int) -> float:
    """The median seconds of one call."""
    work()
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x, y, what = images()
    model = build_mlp(ModelConfig(hidden=(100, 50, 20)), x.shape[1], 10).eval()
    plain = timed(lambda: evaluate(model, x, y), args.rounds)
    full = timed(lambda: assess(model, x, y, 10), args.rounds)
    print(f"{len(x):,} {what}, baseline model, 1 thread, median of {args.rounds}")
    print(f"evaluate (loss, accuracy)          {1000 * plain:7.1f} ms")
    print(f"assess (evaluation.json's fields)  {1000 * full:7.1f} ms   {full / plain:.2f}x")


if __name__ == "__main__":
    main()
