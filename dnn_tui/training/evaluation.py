"""What a model gets wrong on a split: confusion matrix, per-class accuracy, worst mistakes.

Runs without any UI, in plain PyTorch, imported inside ``assess`` only: the run-file loader
reads evaluation.json into these classes before torch has loaded. ``assess`` makes one pass
over the split (in chunks, as ``engine.evaluate``) and reads the host once at the end; the
engine uses it for the test split when a run ends, so the run's test accuracy is the
confusion matrix's diagonal by construction. ``Evaluation.record()`` is evaluation.json's
content (docs/run-directory.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

EVAL_CHUNK = 8192
"""Samples per forward pass (bounds memory on large splits)."""
WORST_KEPT = 100
"""The most misclassified examples an evaluation keeps."""
SCHEMA = 1
"""evaluation.json's layout version."""


@dataclass(frozen=True)
class ConfusedPair:
    """Examples of class ``true`` that the model called ``pred`` (never the same class)."""

    true: int
    pred: int
    count: int


@dataclass(frozen=True)
class Mistake:
    """One misclassified example: its position in the split and how sure the model was."""

    index: int
    """Position in the split (the dataset's ``x_test`` row for the test split)."""
    true: int
    pred: int
    p_true: float
    """The softmax probability of the true class: the lower, the higher its loss."""
    p_pred: float
    """The softmax probability of the predicted class: the model's confidence."""


@dataclass(frozen=True)
class Evaluation:
    """A model's results on one split, class by class (evaluation.json)."""

    split: str
    epoch: int | None
    """The epoch whose weights were evaluated (the kept, best one); None when unknown."""
    classes: tuple[str, ...]
    count: int
    acc: float
    loss: float | None
    """Mean cross-entropy; None when it was not finite."""
    confusion: tuple[tuple[int, ...], ...]
    """Rows: true class; columns: predicted class."""
    per_class_acc: tuple[float | None, ...]
    """None for a class absent from the split."""
    most_confused: tuple[ConfusedPair, ...]
    """Every off-diagonal pair with a count, largest first."""
    worst: tuple[Mistake, ...]
    """Misclassified examples, highest loss first, at most ``WORST_KEPT``."""

    def record(self) -> dict[str, Any]:
        """evaluation.json's content, its keys in the documented order."""
        return {
            "schema": SCHEMA,
            "split": self.split,
            "epoch": self.epoch,
            "classes": list(self.classes),
            "count": self.count,
            "acc": self.acc,
            "loss": self.loss,
            "confusion": [list(row) for row in self.confusion],
            "per_class_acc": list(self.per_class_acc),
            "most_confused": [
                {"true": p.true, "pred": p.pred, "count": p.count} for p in self.most_confused
            ],
            "worst": [
                {
                    "index": m.index,
                    "true": m.true,
                    "pred": m.pred,
                    "p_true": m.p_true,
                    "p_pred": m.p_pred,
                }
                for m in self.worst
            ],
        }

    def test_metrics(self) -> dict[str, float]:
        """history.json's ``test`` record: {"loss", "acc"} (a loss read back as null is NaN,
        which the writer turns into null again)."""
        return {"loss": math.nan if self.loss is None else self.loss, "acc": self.acc}


def per_class_accuracy(confusion: Sequence[Sequence[int]]) -> tuple[float | None, ...]:
    """Each class's share of its examples predicted right; None for a class with none."""
    return tuple(row[i] / sum(row) if sum(row) else None for i, row in enumerate(confusion))


def most_confused(confusion: Sequence[Sequence[int]]) -> tuple[ConfusedPair, ...]:
    """The off-diagonal cells with a count, largest first (then by true, predicted class)."""
    pairs = [
        ConfusedPair(t, p, count)
        for t, row in enumerate(confusion)
        for p, count in enumerate(row)
        if t != p and count
    ]
    return tuple(sorted(pairs, key=lambda pair: (-pair.count, pair.true, pair.pred)))


def class_names(classes: int) -> tuple[str, ...]:
    """The names of a dataset's classes: their indices as text."""
    return tuple(str(i) for i in range(classes))


def assess(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    classes: int,
    *,
    split: str = "test",
    epoch: int | None = None,
    worst: int = WORST_KEPT,
) -> Evaluation:
    """model's evaluation on (x, y) in eval mode: one pass, one host read at the end."""
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            confusion, loss, chosen = _pass(model, x, y, classes, worst)
    finally:
        model.train(was_training)
    total = max(len(x), 1)
    correct = sum(confusion[i][i] for i in range(classes))
    return Evaluation(
        split=split,
        epoch=epoch,
        classes=class_names(classes),
        count=len(x),
        acc=correct / total,
        loss=loss / total,
        confusion=confusion,
        per_class_acc=per_class_accuracy(confusion),
        most_confused=most_confused(confusion),
        worst=chosen,
    )


def _pass(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, classes: int, worst: int
) -> tuple[tuple[tuple[int, ...], ...], float, tuple[Mistake, ...]]:
    """The confusion matrix, the summed loss and the worst mistakes of model on (x, y)."""
    import torch
    import torch.nn.functional as F

    loss = torch.zeros((), device=x.device)
    cells = torch.zeros(classes * classes, device=x.device, dtype=torch.long)
    losses, p_true, p_pred, preds = [], [], [], []
    for start in range(0, len(x), EVAL_CHUNK):
        logits = model(x[start : start + EVAL_CHUNK])
        target = y[start : start + EVAL_CHUNK]
        # The same sum as engine.evaluate, so the loss is the run's test loss to the bit.
        loss += F.cross_entropy(logits, target, reduction="sum")
        pred = logits.argmax(1)
        cells += torch.bincount(target * classes + pred, minlength=classes * classes)
        probs = torch.softmax(logits, 1)
        losses.append(F.cross_entropy(logits, target, reduction="none"))
        p_true.append(probs.gather(1, target[:, None])[:, 0])
        p_pred.append(probs.gather(1, pred[:, None])[:, 0])
        preds.append(pred)
    chosen: list[Mistake] = []
    if len(x):
        sample_loss, pred_all = torch.cat(losses), torch.cat(preds)
        wrong = (pred_all != y).nonzero()[:, 0]
        # Highest loss first; a stable sort keeps equal losses in split order.
        order = torch.sort(sample_loss[wrong], descending=True, stable=True).indices[:worst]
        picked = wrong[order]
        rows = zip(
            picked.tolist(),
            y[picked].tolist(),
            pred_all[picked].tolist(),
            torch.cat(p_true)[picked].tolist(),
            torch.cat(p_pred)[picked].tolist(),
            strict=True,
        )
        chosen = [Mistake(*row) for row in rows]
    flat = cells.tolist()
    confusion = tuple(tuple(flat[r * classes : (r + 1) * classes]) for r in range(classes))
    return confusion, loss.item(), tuple(chosen)
