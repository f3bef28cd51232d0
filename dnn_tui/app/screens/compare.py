"""CompareScreen: the runs list and the lesson's figures for the runs selected in it (``v``).

The list (``RunList``) holds every run under the runs folder, suites' and sweeps'
subfolders included (``dnn_tui.rundir.catalog``), with the statuses ``dnn-tui runs`` shows;
it is scanned again every ``LIVE_S`` in a worker thread, so running runs update live
and new ones appear. For the runs selected with space: accuracy and loss per epoch
(training as points, validation as lines, the best epoch starred), the settings that
differ with the train-validation gaps, the gradient heat-strips (each row ending in its
layer's band in the last epoch), each layer's weight norm (L2's smaller weights beside the
baseline's), and the test accuracy class by class (from each run's evaluation.json). A
selected run is read in full by the one loader (``runs.load_run``); a run that fails it is
listed as damaged with the file and the reason, and the screen goes on.

Keys: enter opens the run in the lab screen (``RunOpened``); ``f`` loads its config into
the form; ``x`` shows what it got wrong (``ErrorsScreen``); ``o`` continues it from its
checkpoint (``RunContinueAsked``: the lab asks the epochs); ``d`` deletes it after a
confirmation; ``e`` exports the selected runs as one tidy CSV; ``a`` evaluates the
selected runs as one ensemble (in a worker thread: it restores every member's weights and
data); ``h`` hides a run, ``H`` shows the hidden ones again, ``/`` filters.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from dnn_tui.analysis.comparison import run_labels, tidy_csv
from dnn_tui.analysis.figures import X_AXES, ZOOMS, XAxis, metric_figure, strips_of
from dnn_tui.app.messages import RunContinueAsked, RunOpened, SettingsPicked
from dnn_tui.app.screens.confirm import ConfirmScreen
from dnn_tui.app.screens.export import ExportScreen
from dnn_tui.app.widgets.class_accuracy_table import ClassAccuracyTable
from dnn_tui.app.widgets.difference_table import DifferenceTable
from dnn_tui.app.widgets.gradient_strips import GradientStrips
from dnn_tui.app.widgets.run_chart import RunChart
from dnn_tui.app.widgets.run_list import RunList, RunListMemory, RunListState
from dnn_tui.app.widgets.weight_norms import WeightNorms
from dnn_tui.fileio import error_line, visible
from dnn_tui.rundir.catalog import DAMAGED, RunCatalog, RunEntry, delete_run
from dnn_tui.rundir.files import (
    CONFIG_FILE,
    RunError,
    SavedRun,
    load_config,
    load_evaluation,
    load_run,
)
from dnn_tui.training.evaluation import Evaluation
from dnn_tui.training.status import Status

if TYPE_CHECKING:
    from dnn_tui.analysis.ensemble import EnsembleScore  # imports torch: only when evaluating

LIVE_S = 2.0
"""Seconds between two scans of the runs folder (a scan costs a stat per unchanged run)."""
PANES = ("accuracy", "loss", "differences", "gradients", "weights", "per-class")
FOOTER_ROOM = 100
"""Columns from which the footer also shows ``h``, ``z``, ``l`` and ``a`` (at 80 they would
push the last keys out, cut mid-word; the docs' table lists them)."""


class CompareScreen(Screen[None]):
    """The runs under the runs folder, and the figures of those selected."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,v", "leave", "back"),
        Binding("space", "toggle_selected", "select"),
        Binding("slash", "filter", "filter", key_display="/"),
        # The figures' keys show in the footer where it has room (see check_action); the
        # bindings without a label act everywhere.
        Binding("h", "hide('footer')", "hide"),
        Binding("h", "hide", show=False),
        Binding("H", "unhide", "unhide", show=False),
        Binding("z", "zoom('footer')", "zoom"),
        Binding("z", "zoom", show=False),
        Binding("l", "toggle_log('footer')", "log"),
        Binding("l", "toggle_log", show=False),
        Binding("a", "cycle_x_axis('footer')", "x axis"),
        Binding("a", "cycle_x_axis", show=False),
        Binding("f", "load_config", "form"),
        Binding("e", "export", "csv"),
        Binding("m", "ensemble", "ensemble"),
        Binding("x", "show_errors", "errors"),
        Binding("o", "continue_run", "continue", show=False),
        Binding("d,delete", "delete", "delete"),
        *(Binding(str(i), f"show_pane('{name}')", show=False) for i, name in enumerate(PANES, 1)),
    ]

    def __init__(
        self,
        root: Path,
        select: Sequence[Path] = (),
        ensemble: bool = False,
        memory: RunListMemory | None = None,
    ) -> None:
        """select: runs to select at the first scan; ensemble: then evaluate them as one
        ensemble (a suite of seeds ends so); memory: where the list is left as it was when
        the screen goes, and taken back from at the first scan."""
        super().__init__(id="compare")
        self._memory = memory
        self._ensemble_at_start = ensemble
        self.root = root
        self.catalog = RunCatalog(root)
        self.zoom = ZOOMS[0]
        self.log_loss = True
        """Loss on a log scale (training loss ends orders of magnitude below validation)."""
        self.x_axis: XAxis = X_AXES[0]
        """What the figures' x axis counts: epochs, steps taken or samples seen."""
        self.scanned = False
        """Whether the first scan has been shown."""
        self._preselect = list(select)
        self._loaded: dict[Path, tuple[RunEntry, SavedRun]] = {}
        self._evaluations: dict[Path, tuple[RunEntry, Evaluation | None]] = {}
        self._failed: dict[Path, tuple[RunEntry, str]] = {}
        """Runs whose list entry was fine but which failed the full loader (a damaged
        config.toml or model.safetensors), with the reason: shown as damaged until they
        change."""

    def compose(self) -> ComposeResult:
        yield Label(Text(f"Runs in {visible(self.root)}"), id="compare-title")
        yield Input(
            placeholder="filter: words of the name, preset, dataset or status", id="run-filter"
        )
        yield RunList()
        with TabbedContent(id="compare-figures"):
            with TabPane("1 Accuracy", id="pane-accuracy"):
                yield RunChart(id="accuracy-chart")
            with TabPane("2 Loss", id="pane-loss"):
                yield RunChart(id="loss-chart")
            with TabPane("3 Differences", id="pane-differences"):
                yield DifferenceTable()
            with TabPane("4 Gradients", id="pane-gradients"), VerticalScroll():
                yield GradientStrips()
            with TabPane("5 Weights", id="pane-weights"), VerticalScroll():
                yield WeightNorms()
            with TabPane("6 Per class", id="pane-per-class"):
                yield ClassAccuracyTable()
        yield Label("", id="ensemble-result")
        yield Footer(compact=True)

    def select(self, paths: Sequence[Path]) -> None:
        """Select these runs (as ``select`` at the start does) at the next scan."""
        self._preselect = [path for path in paths if path not in self.run_list.picked]
        self.scanned = False
        self.rescan()

    @property
    def run_list(self) -> RunList:
        return self.query_one(RunList)

    def on_mount(self) -> None:
        self.run_list.focus()
        self.rescan()
        self.set_interval(LIVE_S, self.rescan)

    # --- the list -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="run-scan")
    def rescan(self) -> list[RunEntry]:
        """Scan the runs folder (in a thread: a first scan of a large folder takes a while)."""
        return self.catalog.scan()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "ensemble":
            event.stop()
            self._show_ensemble(event.worker)
            return
        if event.worker.group != "run-scan":
            return
        event.stop()
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            self._show_entries(event.worker.result)
        elif event.state == WorkerState.ERROR:
            self.notify(str(event.worker.error), title="Runs folder", severity="error")

    def _show_entries(self, entries: list[RunEntry]) -> None:
        run_list = self.run_list
        shown = []
        for entry in entries:
            failed = self._failed.get(entry.path)
            if failed is not None and failed[0] == entry:
                entry = replace(entry, status=DAMAGED, problem=failed[1])
            else:
                self._failed.pop(entry.path, None)
            shown.append(entry)
        run_list.show(shown)
        if not self.scanned:
            self.scanned = True
            if self._memory is not None and self._memory.state is not None:
                self._restore(self._memory.state)
                return
            for path in self._preselect:
                if path in run_list.entries and not run_list.entries[path].damaged:
                    run_list.move_cursor(row=run_list.get_row_index(str(path)))
                    run_list.toggle_selected()
            run_list.move_cursor(row=0)
            if self._ensemble_at_start:
                self._ensemble_at_start = False
                self.action_ensemble()
        self._show_title()
        if any(self._stale(path) for path in run_list.selected):
            self.show_figures()

    def _restore(self, state: RunListState) -> None:
        """The list as the previous one was left; the filter field shows its filter."""
        self.run_list.restore(state)
        field = self.query_one("#run-filter", Input)
        with field.prevent(Input.Changed):
            field.value = state.filter_text
        field.set_class(bool(state.filter_text), "-shown")
        self._show_title()

    def on_screen_suspend(self) -> None:
        """Leaving (or covered by another screen): the list's state is kept for the next."""
        if self._memory is not None and self.scanned:
            self._memory.state = self.run_list.state()

    def _show_title(self) -> None:
        run_list = self.run_list
        found = len(run_list.entries)
        if not found:
            text = f"No runs in {self.root} yet: runs started here and suites are saved there."
        else:
            damaged = sum(entry.damaged for entry in run_list.entries.values())
            parts = [f"{found} runs in {self.root}", f"{len(run_list.selected)} selected"]
            if run_list.hidden:
                parts.append(f"{len(run_list.hidden)} hidden (H shows them)")
            if damaged:
                parts.append(f"{damaged} damaged")
            if run_list.filter_text:
                parts.append(f"filter: {run_list.filter_text}")
            text = ", ".join(parts) + "   space selects, enter opens"
        self.query_one("#compare-title", Label).update(Text(visible(text)))

    def on_run_list_selection_changed(self, _message: RunList.SelectionChanged) -> None:
        self._show_title()
        self.show_figures()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a run: ask the app to open it in the lab screen (a damaged one only says
        why it cannot be shown)."""
        if event.data_table is not self.run_list or event.row_key.value is None:
            return
        entry = self.run_list.entries.get(Path(event.row_key.value))
        if entry is not None and entry.damaged:
            self.notify(entry.problem or entry.name, title="Damaged run", severity="error")
            return
        self.post_message(RunOpened(Path(event.row_key.value)))

    # --- the figures --------------------------------------------------------------------------

    def _stale(self, path: Path) -> bool:
        loaded = self._loaded.get(path)
        return loaded is None or loaded[0] != self.run_list.entries.get(path)

    def selected_runs(self) -> list[tuple[Path, SavedRun]]:
        """The selected runs read in full (again when their list entry changed); a run that
        fails the loader is listed as damaged and unselected."""
        run_list = self.run_list
        runs = []
        for path in run_list.selected:
            entry = run_list.entries[path]
            if self._stale(path):
                try:
                    self._loaded[path] = (entry, load_run(path))
                except RunError as error:
                    self._loaded.pop(path, None)
                    self._failed[path] = (entry, str(error))
                    run_list.mark_damaged(path, str(error))
                    self.notify(str(error), title="Damaged run", severity="error", timeout=10)
                    continue
            runs.append((path, self._loaded[path][1]))
        return runs

    def show_figures(self) -> None:
        runs = self.selected_runs()
        labels = [visible(label) for label in run_labels([(p, r.config.preset) for p, r in runs])]
        styles = [self.run_list.style_of(path) for path, _ in runs]
        pairs = [(label, run.history) for label, (_, run) in zip(labels, runs, strict=True)]
        self.query_one("#accuracy-chart", RunChart).show(
            metric_figure(pairs, "acc", zoom=self.zoom, styles=styles, x_axis=self.x_axis)
        )
        self.query_one("#loss-chart", RunChart).show(
            metric_figure(
                pairs, "loss", zoom=self.zoom, log=self.log_loss, styles=styles, x_axis=self.x_axis
            )
        )
        self.query_one(DifferenceTable).show(
            [
                (label, style, run)
                for label, style, (_, run) in zip(labels, styles, runs, strict=True)
            ]
        )
        self.query_one(GradientStrips).show(strips_of(pairs, styles))
        self.query_one(WeightNorms).show(pairs, styles)
        evaluations = [self._evaluation(path) for path, _ in runs]
        self.query_one(ClassAccuracyTable).show(list(zip(labels, styles, evaluations, strict=True)))

    def _evaluation(self, path: Path) -> Evaluation | None:
        """The run's evaluation.json (read again when its list entry changed); None when it
        has none, or a damaged one (named in a notice)."""
        entry = self.run_list.entries.get(path)
        cached = self._evaluations.get(path)
        if cached is not None and cached[0] == entry:
            return cached[1]
        try:
            evaluation = load_evaluation(path)
        except RunError as error:
            self.notify(str(error), title="Damaged evaluation", severity="error", timeout=10)
            evaluation = None
        if entry is not None:
            self._evaluations[path] = (entry, evaluation)
        return evaluation

    # --- actions ------------------------------------------------------------------------------

    def action_leave(self) -> None:
        """Escape: out of the filter field first, then back to the lab."""
        field = self.query_one("#run-filter", Input)
        if field.has_focus:
            field.set_class(bool(field.value), "-shown")
            self.run_list.focus()
            return
        self.dismiss()

    def action_toggle_selected(self) -> None:
        problem = self.run_list.toggle_selected()
        if problem is not None:
            self.notify(problem, title="Not selected", severity="warning")

    def action_filter(self) -> None:
        field = self.query_one("#run-filter", Input)
        field.add_class("-shown")
        field.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "run-filter":
            self.run_list.set_filter(event.value)
            self._show_title()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "run-filter":
            event.input.set_class(bool(event.value), "-shown")
            self.run_list.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if parameters and action in ("hide", "zoom", "toggle_log", "cycle_x_axis"):
            return self.app.size.width >= FOOTER_ROOM  # else the binding without a label
        return True

    def on_resize(self) -> None:
        self.refresh_bindings()

    def action_hide(self, _shown_in: str = "") -> None:
        self.run_list.hide_current()
        self._show_title()

    def action_unhide(self) -> None:
        self.run_list.unhide_all()
        self._show_title()

    def action_zoom(self, _shown_in: str = "") -> None:
        self.zoom = ZOOMS[(ZOOMS.index(self.zoom) + 1) % len(ZOOMS)]
        self.show_figures()

    def action_cycle_x_axis(self, _shown_in: str = "") -> None:
        """a: the figures against epochs, steps taken or samples seen, in turn."""
        self.x_axis = X_AXES[(X_AXES.index(self.x_axis) + 1) % len(X_AXES)]
        self.show_figures()

    def action_toggle_log(self, _shown_in: str = "") -> None:
        self.log_loss = not self.log_loss
        self.show_figures()
        self.query_one(TabbedContent).active = "pane-loss"

    def action_show_pane(self, name: str) -> None:
        self.query_one(TabbedContent).active = f"pane-{name}"

    def action_load_config(self) -> None:
        """Put the run's config into the lab's form (to run it again, or change it first)."""
        entry = self.run_list.current
        if entry is None:
            return
        try:
            config = load_config(entry.path / CONFIG_FILE)
        except RunError as error:
            self.notify(str(error), title="Config not loaded", severity="error", timeout=10)
            return
        self.post_message(SettingsPicked(config, entry.name))
        self.dismiss()

    def action_show_errors(self) -> None:
        """x: the errors screen of the run under the cursor."""
        from dnn_tui.app.screens.errors import ErrorsScreen

        entry = self._readable_current()
        if entry is not None:
            self.app.push_screen(ErrorsScreen(entry.path))

    def action_continue_run(self) -> None:
        """o: continue the run under the cursor from its checkpoint (the lab asks the epochs)."""
        entry = self._readable_current()
        if entry is not None:
            self.post_message(RunContinueAsked(entry.path))

    def _readable_current(self) -> RunEntry | None:
        """The run under the cursor, or None (none there, or damaged: said in a toast)."""
        entry = self.run_list.current
        if entry is not None and entry.damaged:
            self.notify(entry.problem or entry.name, title="Damaged run", severity="error")
            return None
        return entry

    def action_export(self) -> None:
        runs = self.selected_runs()
        if not runs:
            self.notify("Select runs with space first.", title="Nothing to export")
            return
        default = self.root / f"compare-{time.strftime('%Y%m%d-%H%M%S')}.csv"
        names = [self.run_list.entries[path].name for path, _ in runs]

        def write(target: Path | None) -> None:
            if target is None:
                return
            from dnn_tui.analysis.comparison import write_tidy_csv

            rows = [
                (name, run.config.preset, run.history)
                for name, (_, run) in zip(names, runs, strict=True)
            ]
            try:
                write_tidy_csv(target, tidy_csv(rows))
            except OSError as error:
                self.notify(error_line(error), title="Not exported", severity="error")
                return
            count = sum(len(run.history["epochs"]) for _, run in runs)
            self.notify(f"{target}: {count} rows of {len(runs)} runs", title="Exported")

        self.app.push_screen(ExportScreen(default), write)

    def action_ensemble(self) -> None:
        """Evaluate the selected runs as one ensemble: their softmax outputs averaged on
        their shared test split, beside each member's accuracy."""
        paths = list(self.run_list.selected)
        if len(paths) < 2:
            self.notify("Select two runs or more with space first.", title="No ensemble")
            return
        self._ensemble_line(f"evaluating {len(paths)} runs as one ensemble…")
        self._evaluate_ensemble(paths)

    @work(thread=True, exclusive=True, exit_on_error=False, group="ensemble")
    def _evaluate_ensemble(self, paths: list[Path]) -> EnsembleScore:
        from dnn_tui.analysis.ensemble import evaluate_ensemble

        return evaluate_ensemble(paths)

    def _show_ensemble(self, worker: Worker) -> None:
        if worker.state == WorkerState.SUCCESS and worker.result is not None:
            self._ensemble_line(worker.result.summary())
        elif worker.state == WorkerState.ERROR:
            self._ensemble_line(f"no ensemble: {error_line(worker.error)}")

    def _ensemble_line(self, text: str) -> None:
        result = self.query_one("#ensemble-result", Label)
        result.update(Text(visible(text)))
        result.add_class("-shown")

    def action_delete(self) -> None:
        entry = self.run_list.current
        if entry is None:
            return
        reason = self._undeletable(entry)
        if reason is not None:
            self.notify(reason, title="Not deleted", severity="warning")
            return

        def delete(yes: bool | None) -> None:
            if yes:
                self._delete(entry)

        self.app.push_screen(
            ConfirmScreen(f"Delete {entry.name}? Its folder and every file in it are removed."),
            delete,
        )

    def _undeletable(self, entry: RunEntry) -> str | None:
        here = getattr(self.app, "run_dir_here", None)
        if here is not None:
            with contextlib.suppress(OSError):
                if here.resolve() == entry.path.resolve():
                    return f"{entry.name} is the run going on here: stop it first"
        if entry.status == Status.RUNNING:
            return f"{entry.name} is running: stop it first"
        root = self.root.resolve()
        path = entry.path.resolve()
        if path == root or root not in path.parents:
            return f"{entry.path} is not inside {self.root}"
        return None

    def _delete(self, entry: RunEntry) -> None:
        """Delete after the confirmation: ``delete_run`` checks everything again at that
        moment (no link followed, not running), since the folder may have changed while the
        question was on screen."""
        path = entry.path
        try:
            delete_run(self.root, entry.name)
        except OSError as error:
            self.notify(error_line(error), title="Not deleted", severity="error")
            self.rescan()
            return
        self.catalog.forget(path)
        self._loaded.pop(path, None)
        self.run_list.drop(path)  # at once: a key pressed next acts on the row now there
        self.notify(f"{path} deleted", title="Run deleted")
        self.rescan()
