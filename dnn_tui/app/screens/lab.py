"""LabScreen: configure a run and watch it train.

Regions: the run status on top; the config form; the loss and accuracy
sparklines with the epoch table; the gradient panel, the signal panel (the forward
signal), the weight panel and, for 2-D data, the decision regions, one at a time (``a``
cycles them, classes ``-signal``, ``-weights`` and ``-boundary``) except in the ``-xwide``
layout, which shows the gradients beside the signal, the weights or the regions; ``i``
shows the signal and the weights at the start beside the current ones. The layout follows
the terminal's size (the classes are set on resize, the stylesheet does the rest):

- ``-compact`` (narrower than ``WIDE[0]`` or lower than ``WIDE[1]``): one region
  at a time behind tabs (Setup, Train, Gradients), the status always on top.
- wide: the form as a sidebar, sparklines, table and gradients stacked beside it.
- ``-xwide`` (at least ``XWIDE`` columns and tall): table and gradients side by side.
- ``-too-small`` (below ``MIN_SIZE``): a message instead of a broken layout.

``on_engine_reported`` is the one place where engine events reach the widgets; the
widgets keep what arrived and draw it at the next redraw: the status line every
``REFRESH_S``, the panels every ``PANELS_EVERY`` of those, half a ``REFRESH_S`` after
the status line (``flush_panels`` draws both at once where a run ended); a run of another
process ``FOLLOWED_SLOWER`` times less often.
Every curve is drawn against training progress in epochs (``progress``), one x axis
for all of them. Notices go to the run status's notice line (``show_notice``), never
over a panel.

Keys: the one-letter keys act when the focus is not in a text field, and the footer
hides them while one is (there they type: Textual hides the keys a focused Input
consumes; ``check_action`` hides ``+``, ``-`` and the tab keys); ``1``, ``2``, ``3``
bring a tab forward in the compact layout.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import ClassVar, TypeVar

from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, Select, Static, Tab, Tabs

from dnn_tui.analysis.regions import PLANE_DATASETS
from dnn_tui.app import keys
from dnn_tui.app.messages import EngineReported, EventInbox, PresetShown, RunLost
from dnn_tui.app.screens.divergence import DivergenceScreen
from dnn_tui.app.typing_guard import TypingGuard
from dnn_tui.app.widgets.accuracy_sparklines import AccuracySparklines
from dnn_tui.app.widgets.boundary_panel import BoundaryPanel
from dnn_tui.app.widgets.config_form import ConfigForm
from dnn_tui.app.widgets.curves_caption import CurvesCaption
from dnn_tui.app.widgets.epoch_summary import EpochSummary
from dnn_tui.app.widgets.epoch_table import EpochTable
from dnn_tui.app.widgets.gradient_panel import GradientPanel
from dnn_tui.app.widgets.loss_sparklines import LossSparklines
from dnn_tui.app.widgets.lr_sparkline import LrSparkline
from dnn_tui.app.widgets.run_status import RunStatus
from dnn_tui.app.widgets.signal_panel import SignalPanel
from dnn_tui.app.widgets.weight_panel import WeightPanel
from dnn_tui.config import ConfigError, RunConfig
from dnn_tui.presets import load_presets
from dnn_tui.training.controls import RunControls
from dnn_tui.training.events import (
    ActivationsMeasured,
    BoundaryMeasured,
    ControlApplied,
    EpochEnded,
    Event,
    Notice,
    PassTraced,
    RunFinished,
    RunResumed,
    RunStarted,
    StepMeasured,
    WeightsMeasured,
)
from dnn_tui.training.status import Status

AnyWidget = TypeVar("AnyWidget", bound=Widget)

MIN_SIZE = (60, 18)
"""Below this many columns or rows the lab shows a "terminal too small" message."""
WIDE = (110, 34)
"""From this many columns and rows on, every region shows at once (no tabs)."""
XWIDE = 170
"""From this many columns on (and WIDE's rows), the table and the gradients sit side by side."""
REFRESH_S = 0.25
"""Seconds between redraws of the status line (step, progress bar, rate, ETA), however fast
events come. Key presses are shown at once, not at this pace."""
PANELS_EVERY = 4
"""The panels (curves, gradients, signal, table) are redrawn every this many REFRESH_S, once
a second (every 2 s for a run of another process: FOLLOWED_SLOWER), never in the same frame
as the status line. Why: a redraw takes CPU and the GIL from training, and Textual redraws
the box around a frame's changes, which for the status line and the panels together is the
whole screen (measured in docs/benchmarks.md)."""
DARK_THEME = "textual-dark"
LIGHT_THEME = "textual-light"
"""The themes ``t`` switches between (Textual's; the bands' colours follow, see
``dnn_tui.analysis.palette``)."""
REPLAY_S = 1.0
"""Seconds from a followed run's first reported epochs in which its epochs are drawn as they
come (its past epochs come in its first batches), not at the panels' pace."""
FOLLOWED_SLOWER = 2
"""A run of another process (``watch``, a background run, a running run opened from the runs
list) is drawn this many times less often: its status line every 0.5 s, its panels every 2 s.
The watcher's redraws take a core from the run it watches (the target: at most 5% of its
samples/s on 2 cores), and over SSH each frame is sent down the connection. Key presses are
still shown at once."""
PAGES = ("setup", "train", "gradients")
"""The compact layout's tabs (keys 1, 2, 3)."""
PANELS = ("gradients", "signal", "weights", "boundary")
"""The panels ``a`` cycles through, in order (the class ``-signal``, ``-weights`` or
``-boundary`` shows the second, third or fourth); the boundary only for 2-D data."""
GRADIENTS_TAB = {
    "gradients": "Gradients · a: signal",
    "signal": "Signal · a: weights",
    "weights": "Weights · a: gradients",
    "boundary": "Boundary · a: gradients",
}
"""The third tab's label, by the panel it shows."""
WEIGHTS_TAB_PLANE = "Weights · a: boundary"
"""The third tab's label on the weights of a 2-D run, where ``a`` goes on to the boundary."""


def progress(epoch: int, step: int, steps: int) -> float:
    """Training done in epochs: the x axis of every curve."""
    return epoch - 1 + step / max(steps, 1)


def layout_classes(width: int, height: int, page: str | None = None) -> dict[str, bool]:
    """The lab's classes for a terminal of width x height (and the page shown, if given)."""
    classes = {
        "-too-small": width < MIN_SIZE[0] or height < MIN_SIZE[1],
        "-compact": width < WIDE[0] or height < WIDE[1],
        "-xwide": width >= XWIDE and height >= WIDE[1],
    }
    if page is not None:
        classes.update({f"-page-{name}": name == page for name in PAGES})
    return classes


class LabScreen(Screen[None]):
    """The main screen: the form, the run status and the live panels."""

    BINDINGS: ClassVar[list[BindingType]] = list(keys.bindings())
    """The lab's keys, described in ``dnn_tui.app.keys``."""

    def __init__(self, config: RunConfig, run_root: Path) -> None:
        super().__init__(id="lab")
        self._config = config
        self._run_root = run_root
        self.run_id = 0
        """The run whose events are shown; events of older runs are dropped."""
        self._inbox: EventInbox | None = None
        """Where the shown run's events wait (nudged at each status redraw)."""
        self.run_dir: Path | None = None
        self.run_started: RunStarted | None = None
        """The current run's RunStarted (config, layers, parameters), once it arrived."""
        self.run_ended = False
        """Whether the shown run's RunFinished arrived (its worker may still be winding up)."""
        self.last_step: StepMeasured | None = None
        """The latest progress report of the current run."""
        self.last_signal: ActivationsMeasured | None = None
        """The latest activation figures of the current run."""
        self.last_pass: PassTraced | None = None
        """One sample's pass through the network, traced by the run when it last paused."""
        self._controls: RunControls | None = None
        self._replay_until = 0.0
        """Until when the epochs a run reports are drawn at once (see REPLAY_S); infinite
        until its first epochs came."""
        self.followed = False
        """Whether the shown run trains in another process (followed through its files)."""
        self._slower = 1
        """The redraws' pace: 1 for a run of this process, FOLLOWED_SLOWER for another's."""
        self._redraw_timers: list[Timer] = []
        self._found: dict[type[Widget], Widget] = {}
        self.typing_guard = TypingGuard()
        """Holds back keys typed just after an Enter in the form (see TypingGuard)."""

    def compose(self) -> ComposeResult:
        # The layout's classes before the widgets are first styled: set after, they would
        # restyle every widget again (as long as the first styling itself) before the first
        # frame.
        size = self.app.size
        for name, on in layout_classes(size.width, size.height, "setup").items():
            self.set_class(on, name, update=False)
        yield RunStatus(self._run_root)
        yield Tabs(
            Tab("Setup", id="tab-setup"),
            Tab("Train", id="tab-train"),
            Tab(GRADIENTS_TAB["gradients"], id="tab-gradients"),
            id="lab-tabs",
        )
        with Horizontal(id="lab-body"):
            with Vertical(id="setup-page", classes="page"):
                yield ConfigForm(self._config, load_presets())
            with Vertical(id="main-pages"):
                with Vertical(id="train-page", classes="page"):
                    with Vertical(id="sparklines"):
                        yield LossSparklines()
                        yield AccuracySparklines()
                        yield LrSparkline()
                        yield CurvesCaption()
                    yield EpochTable()
                    yield EpochSummary()
                with VerticalScroll(id="gradients-page", classes="page"):
                    yield GradientPanel()
                    yield SignalPanel()
                    yield WeightPanel()
                    yield BoundaryPanel()
        yield Static("", id="too-small")
        yield Footer(compact=True)

    # --- typed access to the widgets --------------------------------------------------------

    def _one(self, kind: type[AnyWidget]) -> AnyWidget:
        """The screen's one widget of a kind, found once (the lab's widgets stay for its life;
        a query per event cost more than the event when a long run's epochs are shown)."""
        widget = self._found.get(kind)
        if widget is None:
            widget = self._found[kind] = self.query_one(kind)
        return widget  # type: ignore[return-value]

    @property
    def config_form(self) -> ConfigForm:
        return self._one(ConfigForm)

    @property
    def run_status(self) -> RunStatus:
        return self._one(RunStatus)

    @property
    def epoch_table(self) -> EpochTable:
        return self._one(EpochTable)

    @property
    def loss_sparklines(self) -> LossSparklines:
        return self._one(LossSparklines)

    @property
    def accuracy_sparklines(self) -> AccuracySparklines:
        return self._one(AccuracySparklines)

    @property
    def lr_sparkline(self) -> LrSparkline:
        return self._one(LrSparkline)

    @property
    def gradient_panel(self) -> GradientPanel:
        return self._one(GradientPanel)

    @property
    def signal_panel(self) -> SignalPanel:
        return self._one(SignalPanel)

    @property
    def weight_panel(self) -> WeightPanel:
        return self.query_one(WeightPanel)

    @property
    def boundary_panel(self) -> BoundaryPanel:
        return self._one(BoundaryPanel)

    @property
    def epoch_summary(self) -> EpochSummary:
        return self._one(EpochSummary)

    # --- layout -----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.show_page("setup")
        self.query_one("#form-fields").can_focus = False  # Tab goes straight to the first field
        self._start_redraws()

    def on_unmount(self) -> None:
        """The dashboard closes: a run of another process measures the regions no more."""
        if self._controls is not None:
            self._controls.want_boundary(False)

    def _start_redraws(self) -> None:
        """The status line's redraws now, the panels' half a status period later."""
        for timer in self._redraw_timers:
            timer.stop()
        period = self.status_period
        self._redraw_timers = [
            self.set_interval(period, self._draw_status),
            self.set_timer(period / 2, self._start_panels),
        ]

    @property
    def in_view(self) -> bool:
        """Whether the lab is on screen: the current screen, or under dialogs only (its
        notice line shows)."""
        stack = self.app.screen_stack if self.is_mounted else []
        above = stack[stack.index(self) + 1 :] if self in stack else [None]
        return all(isinstance(screen, ModalScreen) for screen in above)

    @property
    def status_period(self) -> float:
        """Seconds between two redraws of the status line (see FOLLOWED_SLOWER)."""
        return REFRESH_S * self._slower

    def _draw_status(self) -> None:
        if self._inbox is not None:
            self._inbox.nudge()  # events that came since the last message
        self.run_status.flush()

    def _start_panels(self) -> None:
        """The panels' redraws begin half a status period after the status line's (see
        PANELS_EVERY)."""
        period = self.status_period * PANELS_EVERY
        self._redraw_timers.append(self.set_interval(period, self._draw_panels))

    def flush_panels(self) -> None:
        """Draw everything that arrived: the status line and the panels."""
        self.run_status.flush()
        self._draw_panels()

    def _draw_panels(self) -> None:
        """Draw what arrived for the panels since their last redraw."""
        self.gradient_panel.flush()
        self.signal_panel.flush()
        self.weight_panel.flush()
        self.boundary_panel.flush()
        self.loss_sparklines.flush()
        self.accuracy_sparklines.flush()
        self.lr_sparkline.flush()
        self.epoch_table.flush()
        self._show_best()
        self.query_one(CurvesCaption).show(self.loss_sparklines.x_end)

    def _show_best(self) -> None:
        """The line under the table names the starred row (once the table shows it)."""
        table = self.epoch_table
        best = table.records.get(table.best_epoch) if table.best_epoch is not None else None
        if best is not self.epoch_summary.best:
            self.epoch_summary.show_best(best)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def on_screen_resume(self) -> None:
        self._fit(self.app.size.width, self.app.size.height)

    def _fit(self, width: int, height: int) -> None:
        too_small = width < MIN_SIZE[0] or height < MIN_SIZE[1]
        compact = width < WIDE[0] or height < WIDE[1]
        self._set_classes(layout_classes(width, height))
        self.run_status.fit_lesson(1 if compact else 3)
        self.refresh_bindings()
        if too_small:
            self.query_one("#too-small", Static).update(
                f"Terminal too small: {width}x{height}.\n"
                f"dnn-tui needs at least {MIN_SIZE[0]}x{MIN_SIZE[1]}: "
                "enlarge the window or make the font smaller.\n\nctrl+q quits."
            )

    def _set_classes(self, wanted: dict[str, bool]) -> None:
        """Set or clear several classes with one styling pass of the screen (each class on
        its own would restyle every widget again)."""
        changed = [name for name, on in wanted.items() if self.has_class(name) != on]
        for name in changed:
            self.set_class(wanted[name], name, update=False)
        if changed:
            self.update_node_styles()

    def action_show_page(self, page: str) -> None:
        """1, 2, 3: bring a tab forward (compact layout)."""
        self.show_page(page)

    def show_page(self, page: str) -> None:
        """Bring a region forward in the compact layout (the wide one shows them all)."""
        self._set_classes({f"-page-{name}": name == page for name in PAGES})
        tabs = self.query_one(Tabs)
        if tabs.active != f"tab-{page}":
            tabs.active = f"tab-{page}"

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        page = (event.tab.id or "tab-setup").removeprefix("tab-")
        self._set_classes({f"-page-{name}": name == page for name in PAGES})
        focused = self.focused
        if focused is not None and focused is not event.tabs and not focused.display:
            self.set_focus(None)

    @property
    def panel(self) -> str:
        """The panel shown: gradients, signal or weights (``a`` cycles them)."""
        return next((p for p in PANELS[1:] if self.has_class(f"-{p}")), PANELS[0])

    def action_cycle_panels(self, _shown_in: str = "") -> None:
        """Show the next panel: gradients, signal, weights (the widest layout shows the
        gradients beside the signal or the weights); on small screens, bring their tab
        forward."""
        offered = self.offered_panels
        shown = self.panel
        panel = (
            offered[(offered.index(shown) + 1) % len(offered)] if shown in offered else PANELS[0]
        )
        for name in PANELS[1:]:
            self.set_class(name == panel, f"-{name}")
        self._label_panels()
        self._ask_boundary()
        if self.has_class("-compact") and not self.has_class("-page-gradients"):
            self.show_page("gradients")

    @property
    def offered_panels(self) -> tuple[str, ...]:
        """The panels ``a`` cycles: the boundary only where the data is a plane (the run's,
        or before a run the form's dataset)."""
        started = self.run_started
        if started is not None:
            plane = started.dataset.get("input_dim") == 2
        else:
            plane = self.query_one("#field-dataset", Select).value in PLANE_DATASETS
        return PANELS if plane else PANELS[:-1]

    def _label_panels(self) -> None:
        """The third tab says the panel shown and the one ``a`` brings next."""
        panel = self.panel
        label = GRADIENTS_TAB[panel]
        if panel == "weights" and "boundary" in self.offered_panels:
            label = WEIGHTS_TAB_PLANE
        self.query_one("#tab-gradients", Tab).label = label

    def _ask_boundary(self) -> None:
        """The engine measures the decision regions only while their panel is shown."""
        if self._controls is not None:
            self._controls.want_boundary(self.panel == "boundary")

    def action_show_errors(self) -> None:
        """x: the errors screen of the run shown (its evaluation, or one from its weights)."""
        from dnn_tui.app.screens.errors import ErrorsScreen

        if self.run_dir is None:
            self.app.notify("No run shown: start one, or open one from the runs list (v).")
            return
        self.app.push_screen(ErrorsScreen(self.run_dir))

    def action_lr_find(self) -> None:
        """l: the learning-rate range test of the form's settings; its suggestion, when taken,
        goes into the form's lr field (for the next run: a running job keeps its lr)."""
        from dnn_tui.app.screens.lr_find import LrFindScreen

        config = self.form_config()
        if config is not None:
            self.app.push_screen(LrFindScreen(config), self.take_lr)

    def take_lr(self, lr: float | None) -> None:
        """Put a suggested learning rate in the form's lr field."""
        if lr is None:
            return
        self.config_form.set_lr(lr)
        self.app.notify(f"learning rate {lr:.3g} in the form (enter there: the running job too)")

    def action_toggle_initial(self) -> None:
        """``i``: the signal and the weights at the start beside the current ones, or not; from
        the gradient panel, the signal panel comes forward to show it."""
        self.signal_panel.toggle_initial()
        self.weight_panel.toggle_initial()
        if self.panel == "gradients" and not self.has_class("-xwide"):
            self.action_cycle_panels()
        elif self.has_class("-compact") and not self.has_class("-page-gradients"):
            self.show_page("gradients")

    def on_key(self, event: events.Key) -> None:
        """Keys typed just after an Enter in the form are text, not commands (TypingGuard);
        the keys of a text field never reach here (it types them)."""
        if event.key == "escape":
            self.typing_guard.end()
        elif event.key == "enter":
            focused = self.focused
            if focused is not None and self.config_form in focused.ancestors_with_self:
                self.typing_guard.entered()
        elif self.typing_guard.holds(event.character):
            event.stop()
            event.prevent_default()
            self.show_notice(
                f"{self.typing_guard.held!r} was typed just after enter and taken for text, "
                "not keys: the focus is not in a text field (tab moves to one; esc, then keys)",
                "warning",
            )

    def action_toggle_theme(self) -> None:
        """t: the light theme or the dark one; every panel is drawn again in its colours."""
        self.app.theme = LIGHT_THEME if self.app.current_theme.dark else DARK_THEME
        for widget in self.query(Widget):
            widget.refresh()

    def action_leave_input(self) -> None:
        """Escape: give the keys back to the lab (r, space, s, c ... act again)."""
        self.set_focus(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = isinstance(self.focused, Input)
        if action == "leave_input":
            return typing
        if action == "show_page":
            return self.has_class("-compact") and not typing
        if action in ("start_background", "cycle_panels", "run_suite") and parameters:
            return not self.has_class("-compact")  # else the binding without a footer entry
        return True

    async def action_start_background(self, in_footer: bool = False) -> None:
        """b: the form's run as a process of its own (see DnnApp.action_start_background)."""
        await self.app.run_action("app.start_background")

    async def action_run_suite(self, in_footer: bool = False) -> None:
        """u: pick a suite and run it (see DnnApp.action_run_suite)."""
        await self.app.run_action("app.run_suite")

    # --- the epoch table's highlighted row ------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self.epoch_table:
            self._show_highlighted()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._show_highlighted()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self._show_highlighted()

    def _show_highlighted(self) -> None:
        """While the table has the focus, the line under it lists the highlighted row's changes."""
        table = self.epoch_table
        epoch = table.highlighted_epoch if self.focused is table else None
        record = table.records.get(epoch) if epoch is not None else None
        self.epoch_summary.show_row(epoch, record.get("events") if record else None)

    # --- notices and the lesson -------------------------------------------------------------

    def show_notice(self, text: str, level: str = "information") -> None:
        """Say something on the notice line (never over the panels)."""
        self.run_status.show_notice(text, level)

    def on_preset_shown(self, message: PresetShown) -> None:
        """Before the first run, the lesson line tells the form's preset's lesson."""
        if self.run_status.state == "idle":
            self.run_status.show_lesson(message.name, message.description)

    # --- what the app tells the lab ---------------------------------------------------------

    def begin_run(
        self,
        config: RunConfig | None,
        run_dir: Path,
        run_id: int,
        controls: RunControls,
        followed: bool = False,
    ) -> None:
        """A run was launched (or opened from its directory, config None when it has not
        written one yet; followed: it runs in another process): clear the panels and show it
        loading."""
        if self._controls is not None:  # the run shown until now measures them no more
            self._controls.want_boundary(False)
        self.run_id, self.run_dir, self._controls = run_id, run_dir, controls
        self.followed = followed
        self._replay_until = math.inf
        slower = FOLLOWED_SLOWER if followed else 1
        if slower != self._slower:
            self._slower = slower
            self._start_redraws()
        self._inbox = None
        self.run_started = self.last_step = self.last_signal = self.last_pass = None
        self.run_ended = False
        self.run_status.show_starting(config, run_dir)
        self.run_status.show_controls(controls)
        self.boundary_panel.reset(followed)
        self._ask_boundary()
        if config is not None:
            self.run_status.show_lesson(config.preset, config.description)
        self.epoch_table.clear_epochs()
        self.epoch_summary.reset(config.train.early_stopping if config is not None else 0)
        self.loss_sparklines.reset()
        self.accuracy_sparklines.reset()
        self.lr_sparkline.reset()
        if self.has_class("-page-setup"):
            self.show_page("train")

    def show_controls(self) -> None:
        """The controls changed: show their state now, before the engine applies them."""
        controls = self._controls
        if controls is None:
            return
        self.run_status.show_controls(controls)
        self.gradient_panel.show_controls(controls.clipping, controls.clip_norm)
        if self.run_status.state not in ("starting", Status.RUNNING, "paused"):
            return
        if controls.stop_requested:
            self.run_status.show_state("stopping")
        elif self.run_status.state != "starting":
            self.run_status.show_state("paused" if controls.paused else Status.RUNNING)

    def form_config(self) -> RunConfig | None:
        """The form's config to start a run with; None (said on screen) when a field is invalid."""
        try:
            return self.config_form.validated_config()
        except ConfigError as error:
            self.notify(str(error), title="Not started: invalid setting", severity="error")
            self.show_invalid_form()
            return None

    def show_invalid_form(self) -> None:
        """Starting was refused: bring the form forward with the first invalid field focused."""
        self.show_page("setup")
        self.config_form.focus_first_error()

    def show_worker_done(self) -> None:
        """The worker ended. One stopped while its data loaded never started the run, so no
        RunFinished will come to say so."""
        self.show_queued_events()
        if self.run_started is None and self.run_status.state in ("starting", "stopping"):
            self.run_status.show_ended(Status.STOPPED, "stopped before the first step")

    def show_queued_events(self) -> None:
        """Show the events still waiting in the run's inbox (routine ones wait up to a status
        redraw): what tells of a run's end must come after everything it reported."""
        if self._inbox is not None:
            for event in self._inbox.take():
                self.show_event(event)

    def on_run_lost(self, message: RunLost) -> None:
        """The followed run's process is gone without finishing: it was interrupted."""
        if message.run_id == self.run_id:
            self.show_queued_events()
            self.flush_panels()
            self.epoch_table.flush(force=True)
            self.run_status.show_ended(Status.INTERRUPTED, message.reason)

    def show_failure(self, message: str) -> None:
        """The run's worker failed (the app has notified the user)."""
        self.show_queued_events()
        self.run_status.show_ended(Status.FAILED, message)

    # --- the engine's events ----------------------------------------------------------------

    def on_engine_reported(self, message: EngineReported) -> None:
        """Route the reported engine events to the widgets that show them."""
        if message.run_id != self.run_id:
            return
        self._inbox = message.inbox
        events = message.take()
        for event in events:
            self.show_event(event)
        if self.followed and any(isinstance(event, EpochEnded) for event in events):
            self._draw_replay()

    def _draw_replay(self) -> None:
        """A followed run's first epochs (its past ones among them) are drawn as they come
        for REPLAY_S, not at the panels' (slower) pace."""
        now = time.monotonic()
        if self._replay_until == math.inf:
            self._replay_until = now + REPLAY_S
        if now < self._replay_until:  # the panels only: the status line keeps its pace
            self.epoch_table.flush(force=True)
            self._draw_panels()

    def show_event(self, event: Event) -> None:
        """Route one engine event (of the shown run) to the widgets that show it."""
        match event:
            case StepMeasured() as event:
                self.last_step = event
                self.run_status.show_step(event)
                x = progress(event.epoch, event.step, event.steps_per_epoch)
                self.loss_sparklines.add_train(event.recent_loss, x)
                self.loss_sparklines.advance(x)
                self.accuracy_sparklines.advance(x)
                self.lr_sparkline.advance(x)
                self.gradient_panel.show_step(event)
                self.weight_panel.show_step(event)
            case WeightsMeasured() as event:
                self.weight_panel.show_weights(event)
            case BoundaryMeasured() as event:
                self.boundary_panel.show_boundary(event)
            case EpochEnded(record=record, best_epoch=best):
                x = float(record["epoch"])
                if self.last_step is None or self.last_step.epoch < record["epoch"]:
                    # no report of this epoch came (a long run opened from its summary, or
                    # an epoch shorter than the reports' interval): its means stand for them
                    if isinstance(loss := record["train_loss"], float):
                        self.loss_sparklines.add_train(loss, x)
                    self.gradient_panel.show_epoch(record)
                self.epoch_table.add_epoch(record, best)
                self.run_status.show_epoch(record)
                self.loss_sparklines.add_val(record["val_loss"], x)
                self.accuracy_sparklines.add_train(record["train_acc"], x)
                self.accuracy_sparklines.add_val(record["val_acc"], x)
                for pair in (self.loss_sparklines, self.accuracy_sparklines):
                    pair.advance(x)
                if isinstance(lr := record.get("lr"), float):
                    self.lr_sparkline.add_epoch(lr, x)
                if self.lr_sparkline.display:  # a schedule moves the lr: the status line too
                    self.show_controls()
                self.epoch_summary.end_epoch(self.epoch_table.records, best, record["epoch"])
            case ActivationsMeasured() as event:
                self.last_signal = event
                self.signal_panel.show_signal(event)
            case ControlApplied(epoch=epoch, step=step, kind=kind, value=value):
                change = {"step": step, "kind": kind, "value": value}
                self.epoch_summary.show_control(epoch, change)
                self.show_controls()
            case RunStarted() as event:
                self.run_started = event
                self.run_status.show_starting(event.config, self.run_dir or Path())
                self.run_status.show_lesson(event.config.preset, event.config.description)
                self.run_status.show_started(event, self.run_dir or Path())
                self._measure(event.device)
                self.epoch_summary.patience = event.config.train.early_stopping
                self.gradient_panel.start(event.layers, event.parameters)
                self.signal_panel.start()
                self.weight_panel.start(event.layers)
                self.boundary_panel.start(event.dataset)
                self._label_panels()
                self.show_controls()
            case PassTraced() as event:
                self.last_pass = event
            case RunResumed(epoch=epoch, epochs=epochs):
                self.run_ended = False
                self.run_status.show_resumed(epochs)
                self.show_notice(f"continued after epoch {epoch}, to epoch {epochs}")
            case RunFinished() as event:
                self._finish(event)
            case Notice(text=text, level=level):
                self.show_notice(text, level)
                self.run_status.show_cpu_notice(text)

    def _measure(self, device: str) -> None:
        """The status line shows the run's CPU, memory and GPU: this process's for a run of
        its own, a followed run's process while it lives on this host; nothing for events
        shown without a run going on (a replay into a test's picture)."""
        if not getattr(self.app, "running", False):
            return
        if not self.followed:
            self.run_status.measure(None, device)
            return
        from dnn_tui.rundir.liveness import hostname, read_liveness

        record = read_liveness(self.run_dir) if self.run_dir is not None else None
        if record is not None and record.host == hostname() and record.alive():
            self.run_status.measure(record.pid, device)

    def _finish(self, event: RunFinished) -> None:
        """The state line keeps the result (best epoch, test accuracy); a divergence also opens
        the remedies panel."""
        self.run_ended = True
        self.run_status.show_finished(event)
        self.flush_panels()
        self.epoch_table.flush(force=True)
        self.epoch_table.mark_best(event.best_epoch)
        self._show_best()
        if event.status == Status.DIVERGED and self.run_started is not None:
            detail = event.diverged or {}
            self.app.push_screen(
                DivergenceScreen(self.run_started.config, detail, event.best_epoch),
                self._remedy_chosen,
            )

    async def _remedy_chosen(self, config: RunConfig | None) -> None:
        if config is not None:
            self.config_form.load(config)
            await self.run_action("app.start_run")
