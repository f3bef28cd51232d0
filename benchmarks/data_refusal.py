"""How long refusing a data file whose header declares too much takes, beside a real load.

Builds a file whose header declares too much: a valid 5.9 MB gzip of 7.6 M blank 28x28
images (6 GB unpacked), with 7.6 M matching labels, and times ``load_dataset`` refusing it
against loading the real 10,000-image MNIST test set (or 10,000 random images when it is
absent), rounds interleaved. Also reports the peak of Python-tracked memory while refusing.

    python benchmarks/data_refusal.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dnn_tui.config import DataConfig
from dnn_tui.data import DatasetError, load_dataset
from tests.helpers.idx_files import gzip_of_zeros, write_idx

MNIST_T10K = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist-t10k"
COUNT = 7_600_000


def header(*sizes: int) -> bytes:
    return bytes([0, 0, 0x08, len(sizes)]) + np.array(sizes, ">u4").tobytes()


def real_pair(folder: Path) -> DataConfig:
    if MNIST_T10K.is_dir():
        images = MNIST_T10K / "t10k-images-idx3-ubyte.gz"
        labels = MNIST_T10K / "t10k-labels-idx1-ubyte.gz"
    else:
        rng = np.random.default_rng(0)
        images = write_idx(folder / "images.gz", rng.integers(0, 256, (10_000, 28, 28), np.uint8))
        labels = write_idx(folder / "labels.gz", rng.integers(0, 10, 10_000, np.uint8))
    return DataConfig("idx", idx_images=str(images), idx_labels=str(labels))


def seconds(config: DataConfig, refused: bool) -> float:
    start = time.perf_counter()
    try:
        load_dataset(config)
    except DatasetError:
        assert refused
    else:
        assert not refused
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bomb = folder / "bomb-images.gz"
        bomb.write_bytes(gzip_of_zeros(header(COUNT, 28, 28), COUNT * 784))
        bomb_labels = folder / "bomb-labels.gz"
        bomb_labels.write_bytes(gzip_of_zeros(header(COUNT), COUNT))
        hostile = DataConfig("idx", idx_images=str(bomb), idx_labels=str(bomb_labels))
        real = real_pair(folder)
        print(f"hostile: {bomb.stat().st_size / 1e6:.1f} MB gzip declaring {COUNT:,} images")
        tracemalloc.start()
        seconds(hostile, refused=True)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        refusals, loads = [], []
        for _ in range(rounds):
            refusals.append(seconds(hostile, refused=True))
            loads.append(seconds(real, refused=False))
    refusal, load = statistics.median(refusals), statistics.median(loads)
    print(f"refusing it: median {refusal * 1e3:.2f} ms, peak traced memory {peak / 1024:.0f} kB")
    print(f"loading the 10,000-image test set: median {load * 1e3:.1f} ms")
    print(f"refusal / real load: {refusal / load:.4f}")


if __name__ == "__main__":
    main()
