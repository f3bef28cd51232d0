"""Early stopping says how far it has counted: "2 of 3 epochs without improvement" under the
epoch table while the run goes on, and in ``train``'s rows; a slow first epoch is named only
when the next ones are steady."""

from __future__ import annotations

import io
from dataclasses import replace

from rich.console import Console

from dnn_tui import config as cfg
from dnn_tui.app.widgets.epoch_summary import EpochSummary, slow_first_epoch
from dnn_tui.training.events import EpochEnded
from dnn_tui.training.report import Report, patience_words
from tests.helpers.run_files import record, started


def test_patience_words_count_the_epochs_since_the_best() -> None:
    assert patience_words(7, 5, 3) == "2 of 3 epochs without improvement"
    assert patience_words(5, 5, 3) == "0 of 3 epochs without improvement"
    assert patience_words(7, 5, 0) is None  # early stopping off
    assert patience_words(None, None, 3) is None  # no epoch yet


def test_the_summary_counts_epochs_without_improvement() -> None:
    summary = EpochSummary()
    summary.reset(patience=3)
    records = {epoch: record(epoch) for epoch in range(1, 8)}
    summary.show_best(records[5])
    summary.end_epoch(records, best_epoch=5)
    assert "· 2 of 3 epochs without improvement" in summary.render().plain
    summary.reset(patience=0)
    summary.show_best(records[5])
    summary.end_epoch(records, best_epoch=5)
    assert "without improvement" not in summary.render().plain


def test_train_prints_the_count_on_each_epoch_without_improvement() -> None:
    out = io.StringIO()
    report = Report(Console(file=out, width=200, force_terminal=False))
    config = cfg.with_options(started().config, {"early_stopping": 3, "epochs": 10})
    report(replace(started(), config=config))
    for epoch, best in ((1, 1), (2, 2), (3, 2), (4, 2)):
        report(EpochEnded(record(epoch), best, 10))
    rows = out.getvalue().splitlines()[-4:]
    assert rows[0].endswith("*") and rows[1].endswith("*")
    assert rows[2].endswith("1 of 3 epochs without improvement")
    assert rows[3].endswith("2 of 3 epochs without improvement")


def test_a_slow_first_epoch_needs_steady_next_ones() -> None:
    steady = {1: {"seconds": 9.0}} | {e: {"seconds": 0.1} for e in range(2, 6)}
    assert slow_first_epoch(steady) == (9.0, 0.1)
    uneven = steady | {3: {"seconds": 2.0}}  # another process took the core for a while
    assert slow_first_epoch(uneven) is None
    too_few = {1: {"seconds": 9.0}, 2: {"seconds": 0.1}, 3: {"seconds": 0.1}}
    assert slow_first_epoch(too_few) is None


async def test_the_lab_counts_epochs_without_improvement_as_the_run_goes(tmp_path) -> None:
    from dnn_tui.app.app import DnnApp
    from tests.helpers import scripted

    config = cfg.with_options(scripted.CONFIG, {"early_stopping": 3})
    app = DnnApp(config, run_root=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        ended = [scripted.epoch_ended(epoch) for epoch in range(1, 8)]
        scripted.feed(app, [scripted.started(config), *ended])
        await pilot.pause()
        best = ended[-1].best_epoch
        assert best is not None and best < 7  # the scripted validation loss turns up
        line = app.lab.epoch_summary.render().plain.splitlines()[0]
        assert line.startswith(f"★ best epoch {best}")
        assert f"· {7 - best} of 3 epochs without improvement" in line
