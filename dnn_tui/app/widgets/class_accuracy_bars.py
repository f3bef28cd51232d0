"""ClassAccuracyBars: each class's accuracy on the test split as a bar and a percentage."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from dnn_tui.fileio import visible
from dnn_tui.training.evaluation import Evaluation

BAR = 10
"""Characters of a full bar (100%)."""
EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(share: float, width: int = BAR) -> str:
    """share (0 to 1) as a bar of eighth blocks, width characters at 1."""
    eighths = round(share * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (EIGHTHS[part] if part else "")).ljust(width)


class ClassAccuracyBars(Static):
    """A line per class: its name, a bar and its accuracy (``-`` for a class absent)."""

    def __init__(self, *, id: str = "class-accuracy") -> None:
        super().__init__("", id=id)

    def show(self, evaluation: Evaluation) -> None:
        text = Text("accuracy per class\n", style="bold")
        lowest = min((a for a in evaluation.per_class_acc if a is not None), default=None)
        for name, acc in zip(evaluation.classes, evaluation.per_class_acc, strict=True):
            label = f"{visible(name)[:4]:>4} "
            if acc is None:
                text.append(f"{label}{'':{BAR}}    -\n", style="dim")
                continue
            style = "bold red" if acc == lowest and acc < evaluation.acc else ""
            text.append(label)
            text.append(bar(acc), style=style or "green")
            text.append(f" {100 * acc:4.0f}%\n", style=style)
        text.append(f"{'all':>4} ", style="bold")
        text.append(bar(evaluation.acc), style="bold")
        text.append(f" {100 * evaluation.acc:4.1f}%", style="bold")
        self.update(text)
