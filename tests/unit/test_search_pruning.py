"""A search's pruning decisions from recorded epoch-end losses, through a real Optuna study in a
folder (no runs, no processes): no trial is judged before its warmup epoch, the median pruner
waits for its finished trials, a lagging trial is stopped at the expected epoch (median) or
rung (successive halving), a leading one runs whole."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import optuna
import pytest

from dnn_tui.config import RunConfig
from dnn_tui.sweeps.search import Search, make_pruner, shortest_run, warmup_epochs
from dnn_tui.sweeps.space import parse_dimension
from dnn_tui.training.status import Status

DIMS = (parse_dimension("lr=log:1e-4..1e-1"),)


def search(root: Path, prune: str, trials: int, epochs: int) -> Search:
    config = RunConfig()
    config = replace(config, train=replace(config.train, epochs=epochs))
    return Search(root, (None, config), DIMS, trials, "random", prune, seed=0)


def curve(start: float, epochs: int) -> list[float]:
    """A validation loss that falls as a run learns."""
    return [start / (1 + 0.1 * epoch) for epoch in range(epochs)]


def run_trial(found: Search, losses: list[float]) -> int | None:
    """Ask a trial, report its epoch ends until the pruner stops it; tell the study how it
    ended. The epoch it was pruned at, None when it ran whole."""
    run, _ = found.ask()
    for epoch, loss in enumerate(losses, start=1):
        if found.report(run.name, epoch, loss):
            found.tell(run.name, {"status": Status.PRUNED, "best_val_loss": min(losses[:epoch])})
            return epoch
    found.tell(run.name, {"status": Status.COMPLETED, "best_val_loss": min(losses)})
    return None


def states(found: Search) -> list[str]:
    return [trial.state.name for trial in found.study.trials]


@pytest.mark.parametrize(("epochs", "warmup"), [(1, 2), (4, 2), (8, 2), (12, 3), (40, 10)])
def test_the_warmup_is_a_quarter_of_the_epochs_at_least_two(epochs, warmup) -> None:
    assert warmup_epochs(epochs) == warmup
    median = make_pruner("median", 10, epochs)
    assert median._n_warmup_steps == warmup
    assert make_pruner("asha", 10, epochs)._min_resource == warmup


@pytest.mark.parametrize(("trials", "startup"), [(3, 2), (10, 2), (16, 4), (100, 5)])
def test_the_median_pruner_waits_for_two_to_five_finished_trials(trials, startup) -> None:
    assert make_pruner("median", trials, 20)._n_startup_trials == startup
    assert isinstance(make_pruner(None, trials, 20), optuna.pruners.NopPruner)


def test_the_warmup_follows_the_shortest_run_of_an_epochs_range() -> None:
    base = RunConfig()
    assert shortest_run(base, DIMS) == base.train.epochs
    assert shortest_run(base, [parse_dimension("epochs=int:8..40")]) == 8
    assert shortest_run(base, [parse_dimension("epochs=choice:30,12,20")]) == 12


def test_median_stops_a_lagging_trial_at_its_warmup_epoch_not_a_leading_one(tmp_path) -> None:
    found = search(tmp_path, "median", trials=6, epochs=12)  # warmup 3, 2 trials whole
    assert run_trial(found, curve(1.0, 12)) is None
    # One finished trial is not yet a median: a lagging trial still runs whole.
    assert run_trial(found, curve(1.2, 12)) is None
    # A trial far behind both from its first epoch is judged at epoch 3, not before.
    assert run_trial(found, curve(5.0, 12)) == 3
    # A trial ahead of the median at every epoch runs whole.
    assert run_trial(found, curve(0.5, 12)) is None
    # One just behind until it catches up at epoch 3 is judged on its best loss so far.
    catching_up = [5.0, 5.0, *curve(0.6, 10)]
    assert run_trial(found, catching_up) is None
    assert states(found) == ["COMPLETE", "COMPLETE", "PRUNED", "COMPLETE", "COMPLETE"]


def test_successive_halving_stops_a_lagging_trial_at_its_first_rung(tmp_path) -> None:
    found = search(tmp_path, "asha", trials=4, epochs=32)  # rungs at epochs 8 and 32
    assert run_trial(found, curve(1.0, 32)) is None  # alone at each rung: promoted
    # Behind the first trial at epoch 8 (the only other value of its rung): pruned there.
    assert run_trial(found, curve(1.5, 32)) == 8
    # Ahead at epoch 8 but behind at epoch 32: promoted once, pruned at the second rung.
    late = [*curve(0.8, 8), *[0.95] * 24]
    assert run_trial(found, late) == 32
    # Ahead at both rungs: runs whole.
    assert run_trial(found, curve(0.5, 32)) is None
    assert states(found) == ["COMPLETE", "PRUNED", "PRUNED", "COMPLETE"]


def test_no_pruner_never_stops_a_trial(tmp_path) -> None:
    found = Search(tmp_path, (None, RunConfig()), DIMS, 4, "random", None, seed=0)
    assert run_trial(found, curve(1.0, 6)) is None
    assert run_trial(found, curve(9.0, 6)) is None
