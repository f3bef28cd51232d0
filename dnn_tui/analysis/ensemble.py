"""Ensembles of saved runs: the members' softmax outputs averaged on their shared test split.

Runs without any UI. Averaging the class probabilities of separately trained networks is the
ensemble learning that dropout imitates inside one network; members that err on different
samples outvote each other's mistakes. The members must have been evaluated on the same
samples: one dataset, one split seed, one input shape, the same test tensors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from dnn_tui.analysis.restore import RestoredRun, restore_run
from dnn_tui.config import RunConfig
from dnn_tui.rundir.files import RunError
from dnn_tui.training.engine import EVAL_CHUNK
from dnn_tui.training.numbers import fmt_acc, fmt_loss

SPLIT = "test"
"""The split an ensemble is evaluated on."""


class EnsembleError(RunError):
    """Runs that cannot form an ensemble; the message names the runs and what differs."""


@dataclass(frozen=True)
class MemberScore:
    """One member alone on the shared split."""

    run: str
    """The run directory as it was given."""
    acc: float
    loss: float
    """Mean cross-entropy."""


@dataclass(frozen=True)
class EnsembleScore:
    """The members and their average on the shared split."""

    dataset: str
    """The dataset the members trained on (``digits`` when ``auto`` fell back)."""
    split_seed: int
    count: int
    """Samples in the split."""
    members: tuple[MemberScore, ...]
    acc: float
    """Accuracy of the averaged probabilities."""
    loss: float
    """Mean cross-entropy of the averaged probabilities."""

    @property
    def mean_member_acc(self) -> float:
        """The accuracy a member has on average: what the ensemble is measured against."""
        return sum(member.acc for member in self.members) / len(self.members)

    @property
    def mean_member_loss(self) -> float:
        return sum(member.loss for member in self.members) / len(self.members)

    def summary(self) -> str:
        """One line: the ensemble against its members."""
        gain = (self.acc - self.mean_member_acc) * 100
        members = " ".join(fmt_acc(member.acc) for member in self.members)
        return (
            f"ensemble of {len(self.members)} runs on the test split of {self.dataset} "
            f"({self.count} samples): acc {fmt_acc(self.acc)}, {gain:+.2f} points from the "
            f"mean member {fmt_acc(self.mean_member_acc)} (members {members}); "
            f"loss {fmt_loss(self.loss)}"
        )

    def to_json(self) -> dict[str, Any]:
        """What ``eval --ensemble --json`` prints."""
        return {
            "split": SPLIT,
            "count": self.count,
            "members": [
                {"run": m.run, "acc": m.acc, "loss": _finite(m.loss)} for m in self.members
            ],
            "ensemble": {"acc": self.acc, "loss": _finite(self.loss)},
        }


def _finite(number: float) -> float | None:
    """A number for strict JSON: a diverged member's loss (nan, inf) is null, as in
    history.json."""
    return number if math.isfinite(number) else None


def evaluate_ensemble(
    paths: Sequence[str | Path],
    options: Mapping[str, Any] | None = None,
    check: Callable[[RunConfig], None] | None = None,
) -> EnsembleScore:
    """Restore every run at paths (``restore_run`` with options and check) and average their
    softmax outputs on the shared test split.

    RunError names a run that cannot be restored; EnsembleError names two runs whose data
    differ (dataset, input shape, split seed or the test samples themselves).
    """
    if len(paths) < 2:
        raise EnsembleError("an ensemble needs at least two runs")
    first = restore_run(paths[0], options, check)
    x = first.data.x_test
    outputs = [_logits(first, x)]
    for path in paths[1:]:
        # One member restored at a time: its copy of the data goes once it is checked.
        member = restore_run(path, options, check)
        _check_same_split(str(paths[0]), first, str(path), member)
        outputs.append(_logits(member, x))
    return score(
        outputs,
        first.data.y_test,
        names=[str(path) for path in paths],
        dataset=first.data.name,
        split_seed=first.config.data.split_seed,
    )


def _check_same_split(first: str, a: RestoredRun, other: str, b: RestoredRun) -> None:
    """EnsembleError naming both runs when b was not evaluated on a's samples."""
    both = f"{first} and {other}"
    if a.data.name != b.data.name:
        raise EnsembleError(
            f"{both}: different datasets ({a.data.name}, {b.data.name}); "
            "an ensemble's members share one test split"
        )
    shapes = [(run.data.input_dim, run.data.classes) for run in (a, b)]
    if shapes[0] != shapes[1]:
        (a_in, a_out), (b_in, b_out) = shapes
        raise EnsembleError(
            f"{both}: different input shapes ({a_in} inputs and {a_out} classes, "
            f"{b_in} inputs and {b_out} classes)"
        )
    seeds = (a.config.data.split_seed, b.config.data.split_seed)
    if seeds[0] != seeds[1]:
        raise EnsembleError(
            f"{both}: different split seeds ({seeds[0]}, {seeds[1]}); their test splits "
            "hold other samples"
        )
    if not (
        torch.equal(a.data.x_test, b.data.x_test) and torch.equal(a.data.y_test, b.data.y_test)
    ):
        raise EnsembleError(f"{both}: different test samples of {a.data.name} (other data files?)")


def score(
    outputs: Sequence[torch.Tensor],
    y: torch.Tensor,
    names: Sequence[str],
    dataset: str,
    split_seed: int,
) -> EnsembleScore:
    """Each member's outputs (logits) for the samples of labels y scored alone, and the
    average of their class probabilities."""
    members = tuple(
        MemberScore(run=name, acc=_accuracy(logits, y), loss=F.cross_entropy(logits, y).item())
        for name, logits in zip(names, outputs, strict=True)
    )
    # The log of the mean probability, without leaving log space: a member's certain mistake
    # (probability 0 in float32) does not make the ensemble's loss infinite.
    log_probs = torch.stack([F.log_softmax(logits, dim=1) for logits in outputs])
    mean_log = torch.logsumexp(log_probs, dim=0) - math.log(len(outputs))
    return EnsembleScore(
        dataset=dataset,
        split_seed=split_seed,
        count=len(y),
        members=members,
        acc=_accuracy(mean_log, y),
        loss=F.nll_loss(mean_log, y).item(),
    )


def _logits(member: RestoredRun, x: torch.Tensor) -> torch.Tensor:
    """The member's outputs for x, on the CPU, computed in chunks on its device."""
    with torch.inference_mode():
        return torch.cat(
            [
                member.model(x[start : start + EVAL_CHUNK].to(member.device)).float().cpu()
                for start in range(0, len(x), EVAL_CHUNK)
            ]
        )


def _accuracy(scores: torch.Tensor, y: torch.Tensor) -> float:
    return (scores.argmax(1) == y).sum().item() / max(len(y), 1)
