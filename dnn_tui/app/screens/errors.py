"""ErrorsScreen: what the network got wrong (``x``): the confusion heatmap, each class's
accuracy, and a gallery of the worst misclassified test examples.

The run's evaluation comes from its evaluation.json, or, for a run that has none (it ended
before the file existed, or it is still going), is computed from its saved weights; either
way in a thread worker, with the test images the gallery draws (``analysis.errors``). A
run that kept no weights and no evaluation says so. ``enter`` on a cell of the heatmap
narrows the gallery to that pair (true class, predicted class); ``a`` shows all again.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Label
from textual.worker import Worker, WorkerState

from dnn_tui.analysis.errors import RunErrors
from dnn_tui.app.widgets.class_accuracy_bars import ClassAccuracyBars
from dnn_tui.app.widgets.confusion_heatmap import ConfusionHeatmap
from dnn_tui.app.widgets.mistake_gallery import MistakeGallery
from dnn_tui.fileio import error_line, visible


class ErrorsScreen(Screen[None]):
    """The errors of the run at ``path``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,x", "dismiss", "back"),
        Binding("a", "show_all", "all mistakes"),
    ]

    def __init__(self, path: Path) -> None:
        super().__init__(id="errors")
        self.path = path
        self.errors: RunErrors | None = None
        self.pair: tuple[int, int] | None = None
        """The (true, predicted) pair the gallery is narrowed to; None for every mistake."""

    def compose(self) -> ComposeResult:
        yield Label(Text(f"Errors of {visible(self.path)}: loading…"), id="errors-title")
        with Horizontal(id="errors-top"):
            yield ConfusionHeatmap()
            yield ClassAccuracyBars()
        yield Label("", id="gallery-title")
        yield MistakeGallery()
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(ConfusionHeatmap).focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="errors")
    def load(self) -> RunErrors:
        """Read (or compute) the evaluation and the pictures, away from the UI thread."""
        from dnn_tui.analysis.errors import run_errors

        return run_errors(self.path)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "errors":
            return
        event.stop()
        if event.state == WorkerState.SUCCESS:
            self.show(event.worker.result)
        elif event.state == WorkerState.ERROR:
            message = f"Errors of {visible(self.path)}: {visible(error_line(event.worker.error))}"
            self.query_one("#errors-title", Label).update(Text(message, style="bold red"))

    def show(self, errors: RunErrors) -> None:
        self.errors = errors
        evaluation = errors.evaluation
        self.query_one("#errors-title", Label).update(
            Text(
                f"{visible(self.path.name)}: {evaluation.count} test examples, "
                f"accuracy {100 * evaluation.acc:.2f}% ({errors.source}); rows: true class, "
                "columns: predicted, % of the row"
            )
        )
        self.query_one(ConfusionHeatmap).show(evaluation)
        self.query_one(ClassAccuracyBars).show(evaluation)
        self.show_gallery()

    def show_gallery(self) -> None:
        errors = self.errors
        if errors is None:
            return
        evaluation = errors.evaluation
        mistakes = evaluation.worst
        names = [visible(name) for name in evaluation.classes]
        if self.pair is None:
            title = f"The {len(mistakes)} worst mistakes, highest loss first   "
            title += "enter on a cell: its own"
            empty = "No misclassified example."
        else:
            true, pred = self.pair
            mistakes = tuple(m for m in mistakes if (m.true, m.pred) == self.pair)
            count = evaluation.confusion[true][pred]
            title = f"{names[true]} taken for {names[pred]}: {count} in the test split"
            if len(mistakes) < count:
                title += f", {len(mistakes)} among the worst {len(evaluation.worst)}"
            title += "   a: all"
            empty = (
                f"None of the {len(evaluation.worst)} worst mistakes is a {names[true]} "
                f"taken for {names[pred]}."
            )
        note = errors.pictures.note
        if note:
            title += f"   ({note})"
        self.query_one("#gallery-title", Label).update(Text(title))
        self.query_one(MistakeGallery).show(
            mistakes, errors.pictures, evaluation.classes, empty=empty
        )

    def on_confusion_heatmap_pair_picked(self, message: ConfusionHeatmap.PairPicked) -> None:
        self.pair = None if message.true == message.pred else (message.true, message.pred)
        self.show_gallery()

    def action_show_all(self) -> None:
        self.pair = None
        self.show_gallery()
