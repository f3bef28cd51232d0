"""The batching lesson is per step: the comparison figures can count optimizer steps taken
or training samples seen instead of epochs."""

from __future__ import annotations

from dnn_tui.analysis import figures


def history(batch: int | str, epochs: int, *, train: int = 1000, batchnorm: bool = False):
    return {
        "config": {"train": {"batch_size": batch}, "model": {"batchnorm": batchnorm}},
        "dataset": {"train": train},
        "epochs": [
            {"epoch": e, "train_acc": 0.5, "val_acc": 0.4, "train_loss": 1.0, "val_loss": 1.1}
            for e in range(1, epochs + 1)
        ],
        "best_epoch": epochs,
    }


def test_steps_and_samples_per_epoch_follow_the_engine() -> None:
    assert figures.per_epoch(history(100, 1), "steps") == 10
    assert figures.per_epoch(history(300, 1), "steps") == 4  # a last, smaller batch
    assert figures.per_epoch(history("full", 1), "steps") == 1
    assert figures.per_epoch(history(999, 1, batchnorm=True), "steps") == 1  # 1 joins the rest
    assert figures.per_epoch(history(100, 1), "samples") == 1000
    assert figures.per_epoch(history(100, 1), "epochs") == 1
    assert figures.per_epoch({"dataset": None}, "steps") == 1  # unknown: counted in epochs


def test_full_batch_ends_early_on_a_steps_axis() -> None:
    runs = [("full-batch", history("full", 200)), ("baseline", history(100, 20))]
    by_epoch = figures.metric_figure(runs, "acc")
    by_step = figures.metric_figure(runs, "acc", x_axis="steps")
    assert by_step.title.startswith("accuracy by steps taken")
    ends = [s.epochs[-1] * s.per_epoch for s in by_step.series]
    assert ends == [200, 200]  # 200 full-batch epochs are as many steps as 20 of baseline
    assert [s.epochs[-1] * s.per_epoch for s in by_epoch.series] == [200, 20]
    text = figures.render(by_step, 80, 20).plain
    assert "by steps taken" in text
    assert figures.fmt_count(48000) == "48k" and figures.fmt_count(1.5e6) == "1.5M"
    ticks = figures.count_ticks(9600, 100)
    assert ticks[0] == 0 and ticks[-1] <= 9600 and len(ticks) <= 11
