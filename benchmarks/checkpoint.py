"""What the checkpoint costs a run: its capture at each epoch end and its writes, side by side
with the epoch time.

Trains the baseline (MNIST's reference model, batch 100, Adam) headless in this process with
its run files, on the real MNIST test images (../shared/data/mnist-t10k, 8,000 for training)
when they are there, else on the bundled digits, and prints per epoch: the training time, the
capture of the state on the training thread (model, optimizer, random states copied) and
each write of checkpoint.safetensors + checkpoint.json on the recorder's thread (with its
fsyncs), and their share of the run's time (the target: under 2%, ``CHECKPOINT_SHARE``).

    python benchmarks/checkpoint.py [--epochs 10] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MNIST_T10K = REPO.parent / "shared" / "data" / "mnist-t10k"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    from dnn_tui.config import DataConfig
    from dnn_tui.data import load_data
    from dnn_tui.presets import load_preset
    from dnn_tui.rundir import recorder as recorder_module
    from dnn_tui.rundir.launch import record_run
    from dnn_tui.rundir.recorder import claim_run_dir
    from dnn_tui.training import engine
    from dnn_tui.training.controls import RunControls

    config = load_preset("baseline")
    images = MNIST_T10K / "t10k-images-idx3-ubyte.gz"
    if images.is_file():
        labels = MNIST_T10K / "t10k-labels-idx1-ubyte.gz"
        data = DataConfig("idx", idx_images=str(images), idx_labels=str(labels))
    else:
        data = DataConfig("digits")
    train = replace(config.train, epochs=args.epochs, threads=args.threads, device="cpu")
    config = replace(config, data=data, train=train)
    dataset = load_data(config)

    captures: list[float] = []
    take = engine._Run.checkpoint

    def timed(run: engine._Run, epoch: int):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return take(run, epoch)
        finally:
            captures.append(time.perf_counter() - began)

    engine._Run.checkpoint = timed  # type: ignore[method-assign]
    writes: list[float] = []
    recorder_class = recorder_module.RunRecorder

    class Measured(recorder_class):  # type: ignore[misc, valid-type]
        def close(self) -> None:
            super().close()
            writes[:] = self.checkpoint_writes

    recorder_module.RunRecorder = Measured  # type: ignore[misc]
    import dnn_tui.rundir.launch as launch

    launch.RunRecorder = Measured  # type: ignore[misc]
    with tempfile.TemporaryDirectory() as root:
        folder = claim_run_dir(Path(root) / "run")
        began = time.perf_counter()
        result = record_run(config, folder, dataset, RunControls(None, config.train.lr))
        total = time.perf_counter() - began
    assert result is not None
    epoch_s = statistics.median(r["seconds"] for r in result.history)
    size = len(result.weights)
    print(f"data: {dataset.name}, {len(dataset.x_train)} training samples; {size} weight tensors")
    print(f"epochs: {len(result.history)}, median epoch {epoch_s * 1000:.1f} ms, run {total:.2f} s")
    capture = statistics.median(captures)
    print(
        f"capture (training thread): median {capture * 1000:.2f} ms an epoch "
        f"= {capture / epoch_s:.2%} of an epoch"
    )
    write = statistics.median(writes) if writes else 0.0
    print(
        f"writes (recorder thread): {len(writes)} of {len(result.history)} epochs, "
        f"median {write * 1000:.2f} ms a write = {write / epoch_s:.2%} of an epoch"
    )
    share = (sum(captures) + sum(writes)) / total
    print(f"checkpoint's share of the run's time: {share:.2%} (target: under 2%)")


if __name__ == "__main__":
    main()
