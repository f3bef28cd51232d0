"""A search: trials sampled from a space by an Optuna study that lives in the sweep folder.

Runs without any UI; Optuna is imported when a search starts. The driver asks the study for
a trial whenever a job slot is free (ask-and-tell), runs it as an ordinary run of the sweep,
reports each epoch end's validation loss (the lowest so far) that the run's own event stream
tells, stops a trial the pruner gives up on through the run's control channel (it ends
``pruned``), and tells the study each ended run's best validation loss (the kept epoch's),
the objective the study minimizes. The study is stored in the sweep folder (``STUDY_FILE``,
Optuna's SQLite storage), so ``sweep --resume`` goes on with it after a killed driver.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from dnn_tui.config import RunConfig
from dnn_tui.sweeps.planning import PlannedRun, check_values, run_label, slugs
from dnn_tui.sweeps.space import Dimension, distributions, sample
from dnn_tui.training.status import ENDED_ON_ITS_OWN, Status

STUDY_FILE = "study.db"
STUDY_NAME = "sweep"
SAMPLERS = ("random", "tpe")
PRUNERS = ("median", "asha")
OBJECTIVE = "best validation loss"
COUNTED = ENDED_ON_ITS_OWN | {Status.FAILED, Status.RUNNING, "queued"}
"""Entries that count towards the trials asked: running or ended with a result or an error;
a stopped, skipped or interrupted trial is asked again (a new one) when the sweep resumes."""


def study_storage(root: Path) -> str:
    return f"sqlite:///{(Path(root) / STUDY_FILE).resolve()}"


def startup_trials(trials: int) -> int:
    """Trials sampled at random before TPE models the others, and that the median pruner lets
    run whole before it compares: a quarter of the trials, 2 to 10 (TPE) or 2 to 5 (pruning)."""
    return max(1, trials // 4)


def warmup_epochs(epochs: int) -> int:
    """The first epoch at which a pruner judges a trial: a quarter of the epochs, at least the
    second (one epoch's loss says more of the start than of the run)."""
    return max(2, epochs // 4)


def shortest_run(config: RunConfig, dims: Sequence[Dimension]) -> int:
    """The fewest epochs a trial runs: the base's, or the least an ``epochs`` range gives."""
    for dim in dims:
        if dim.name == "epochs" and dim.kind == "int":
            return int(dim.low)
        if dim.name == "epochs" and dim.kind == "choice":
            return min(int(choice) for choice in dim.choices)
    return config.train.epochs


def make_pruner(prune: str | None, trials: int, epochs: int) -> Any:
    """Optuna's pruner for ``--prune``: none judges a trial before ``warmup_epochs``; the
    median pruner compares once ``startup_trials`` (2 to 5) ran whole; successive halving's
    first rung is the warmup epoch (then 4 and 16 times it), as Optuna's default rungs."""
    import optuna

    warmup = warmup_epochs(epochs)
    if prune == "median":
        start = min(5, max(2, startup_trials(trials)))
        return optuna.pruners.MedianPruner(n_startup_trials=start, n_warmup_steps=warmup)
    if prune == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=warmup)
    return optuna.pruners.NopPruner()


class Search:
    """The study of one sweep and the trials it asked (see the module docstring)."""

    def __init__(
        self,
        root: Path,
        base: tuple[str | None, RunConfig],
        dims: Sequence[Dimension],
        trials: int,
        sampler: str,
        prune: str | None,
        seed: int,
    ) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna = optuna
        self.root, self.base, self.dims, self.trials = Path(root), base, tuple(dims), trials
        self.prune_with = prune
        start = startup_trials(trials)
        if sampler == "tpe":
            chosen: Any = optuna.samplers.TPESampler(
                seed=seed, n_startup_trials=min(10, max(2, start)), constant_liar=True
            )
        else:
            chosen = optuna.samplers.RandomSampler(seed=seed)
        pruner = make_pruner(prune, trials, shortest_run(base[1], dims))
        self.study = optuna.create_study(
            study_name=STUDY_NAME,
            storage=study_storage(root),
            load_if_exists=True,
            direction="minimize",
            sampler=chosen,
            pruner=pruner,
        )
        self.live: dict[str, Any] = {}
        """The trial of each running run, by run folder name."""
        self.best: dict[str, float] = {}
        """The lowest validation loss each running run reported so far."""
        self.reported: dict[str, int] = {}
        self.pruned: set[str] = set()
        """Runs the pruner stopped (asked once; they stop at their next step)."""
        self.width = len(str(trials))

    def counted(self, entries: Sequence[Mapping[str, Any]]) -> int:
        return sum(1 for e in entries if "trial" in e and e.get("status") in COUNTED)

    def ask(self) -> tuple[PlannedRun, int]:
        """A new trial's run: the space's values on the base config; and its trial number."""
        trial = self.study.ask(distributions(self.dims))
        values = sample(self.dims, trial)
        name, config = self.base
        resolved = check_values(config, values, ", ".join(f"{k}={v}" for k, v in values.items()))
        resolved = replace(resolved, preset=run_label(config.preset, values))
        label = "-".join(slugs(values))
        folder = f"{trial.number + 1:0{self.width}d}-{label}"[:120]
        while (self.root / folder).exists():  # a folder left by a killed driver's ask
            folder = f"{folder}-"
        run = PlannedRun(folder, name, values, resolved)
        self.live[folder] = trial
        return run, trial.number

    def adopt(self, run: PlannedRun, number: int) -> None:
        """Follow a trial again whose run is still going (a resumed sweep)."""
        self.live[run.name] = self.optuna.trial.Trial(self.study, self._trial_id(number))

    def _trial_id(self, number: int) -> int:
        for frozen in self.study.get_trials(deepcopy=False):
            if frozen.number == number:
                return frozen._trial_id
        raise KeyError(number)

    def report(self, name: str, epoch: int, loss: float) -> bool:
        """Report a run's epoch end; whether the pruner stops it."""
        trial = self.live.get(name)
        late = epoch <= self.reported.get(name, 0) or name in self.pruned
        if trial is None or late or self.prune_with is None:
            return False
        self.reported[name] = epoch
        self.best[name] = min(loss, self.best.get(name, math.inf))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a step reported before the driver was killed
            trial.report(self.best[name], epoch)
            if not trial.should_prune():
                return False
        self.pruned.add(name)
        return True

    def tell(self, name: str, entry: Mapping[str, Any]) -> None:
        """Tell the study how a trial's run ended: its best validation loss, pruned, or failed
        (no result: failed, stopped, interrupted, diverged before any epoch)."""
        trial = self.live.pop(name, None)
        self.reported.pop(name, None)
        self.best.pop(name, None)
        self.pruned.discard(name)
        if trial is None:
            return
        state = self.optuna.trial.TrialState
        loss = entry.get("best_val_loss")
        finite = isinstance(loss, float) and math.isfinite(loss)
        if entry.get("status") == Status.PRUNED:
            self._tell(trial, state=state.PRUNED)
        elif entry.get("status") in ENDED_ON_ITS_OWN and finite:
            self._tell(trial, values=loss)
        else:
            self._tell(trial, state=state.FAIL)

    def fail(self, number: int) -> None:
        """Mark a trial failed whose run ended without the driver (interrupted, stopped)."""
        try:
            trial = self.optuna.trial.Trial(self.study, self._trial_id(number))
        except KeyError:
            return
        self._tell(trial, state=self.optuna.trial.TrialState.FAIL)

    def _tell(self, trial: Any, **outcome: Any) -> None:
        # A trial told already (by a killed driver, before it died) is left as it was told.
        with contextlib.suppress(RuntimeError, ValueError):
            self.study.tell(trial, **outcome)
