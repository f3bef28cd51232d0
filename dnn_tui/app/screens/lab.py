"""LabScreen: configure a run and watch it train.

Regions: the run status on top; the config form; the loss and accuracy
sparklines with the epoch table; the gradient panel and the signal panel (the
forward signal), one at a time (``a`` flips them, class ``-signal``) except in the
``-xwide`` layout, which shows both. The layout follows the terminal's size (the
classes are set on resize, the stylesheet does the rest):

- ``-compact`` (narrower than ``WIDE[0]`` or lower than ``WIDE[1]``): one region
  at a time behind tabs (Setup, Train, Gradients), the status always on top.
- wide: the form as a sidebar, sparklines, table and gradients stacked beside it.
- ``-xwide`` (at least ``XWIDE`` columns and tall): table and gradients side by side.
- ``-too-small`` (below ``MIN_SIZE``): a message instead of a broken layout.

``on_engine_reported`` is the one place where engine events reach the widgets; the
widgets keep what arrived and draw it when ``flush_panels`` runs, every ``REFRESH_S``.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, Tab, Tabs

from dnn_tui.app.formatting import fmt_acc
from dnn_tui.app.messages import EngineReported, RunLost
from dnn_tui.app.screens.divergence import DivergenceScreen
from dnn_tui.app.widgets.accuracy_sparklines import AccuracySparklines
from dnn_tui.app.widgets.config_form import ConfigForm
from dnn_tui.app.widgets.epoch_table import EpochTable
from dnn_tui.app.widgets.gradient_panel import GradientPanel
from dnn_tui.app.widgets.loss_sparklines import LossSparklines
from dnn_tui.app.widgets.run_status import RunStatus
from dnn_tui.app.widgets.signal_panel import SignalPanel
from dnn_tui.config import ConfigError, RunConfig
from dnn_tui.training.controls import RunControls
from dnn_tui.training.events import (
    ActivationsMeasured,
    ControlApplied,
    EpochEnded,
    Notice,
    RunFinished,
    RunStarted,
    StepMeasured,
)

MIN_SIZE = (60, 18)
"""Below this many columns or rows the lab shows a "terminal too small" message."""
WIDE = (110, 34)
"""From this many columns and rows on, every region shows at once (no tabs)."""
XWIDE = 170
"""From this many columns on (and WIDE's rows), the table and the gradients sit side by side."""
CLIP_MAX = Binding.Group("clip max", compact=True)
"""The footer shows + and - as one entry."""
REFRESH_S = 0.25
"""Seconds between redraws of the live panels, however fast events come. Each redraw takes CPU
and the GIL from the training thread: on 2 cores, with the baseline on 8k MNIST images (20
epochs a second), redrawing 10 times a second kept about 0.85x of headless samples/s and 4
times a second about 1.0x (noisy: headless itself varied from 130k to 175k samples/s).
Key presses are shown at once, not at this pace."""
PAGES = ("setup", "train", "gradients")
"""The compact layout's tabs."""
GRADIENTS_TAB = {False: "Gradients · a: signal", True: "Signal · a: gradients"}
"""The third tab's label, by whether it shows the signal panel."""


def preset_names() -> list[str]:
    """The presets for the picker; none when a file is broken (``dnn-tui presets`` says which)."""
    from dnn_tui.presets import list_presets

    try:
        return [preset.name for preset in list_presets()]
    except ConfigError:
        return []


class LabScreen(Screen[None]):
    """The main screen: the form, the run status and the live panels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "app.start_run", "start", priority=True),
        Binding("r", "app.start_run", "start", show=False),
        Binding("b", "app.start_background", "bg run"),
        Binding("space", "app.toggle_pause", "pause"),
        Binding("s", "app.stop_run", "stop"),
        Binding("c", "app.toggle_clipping", "clip"),
        Binding("plus", "app.scale_clip_norm(2.0)", "max×2", key_display="+", group=CLIP_MAX),
        Binding("minus", "app.scale_clip_norm(0.5)", "max÷2", key_display="-", group=CLIP_MAX),
        # The footer shows `a` where it has room; at 80 columns the Gradients tab's label says it.
        Binding("a", "toggle_signal('footer')", "signal"),
        Binding("a", "toggle_signal", "signal", show=False),
        Binding("g", "app.show_graph", "graph"),
        Binding("v", "app.compare_runs", "runs"),
        Binding("u", "app.run_suite", "suite"),
        Binding("question_mark", "app.show_help", "help", key_display="?"),
        Binding("escape", "leave_input", "leave input", show=False),
    ]

    def __init__(self, config: RunConfig, run_root: Path) -> None:
        super().__init__(id="lab")
        self._config = config
        self._run_root = run_root
        self.run_id = 0
        """The run whose events are shown; events of older runs are dropped."""
        self.run_dir: Path | None = None
        self.run_started: RunStarted | None = None
        """The current run's RunStarted (config, layers, parameters), once it arrived."""
        self.last_step: StepMeasured | None = None
        """The latest progress report of the current run."""
        self.last_signal: ActivationsMeasured | None = None
        """The latest activation figures of the current run."""
        self._controls: RunControls | None = None

    def compose(self) -> ComposeResult:
        yield RunStatus(self._run_root)
        yield Tabs(
            Tab("Setup", id="tab-setup"),
            Tab("Train", id="tab-train"),
            Tab(GRADIENTS_TAB[False], id="tab-gradients"),
            id="lab-tabs",
        )
        with Horizontal(id="lab-body"):
            with Vertical(id="setup-page", classes="page"):
                yield ConfigForm(self._config, preset_names())
            with Vertical(id="main-pages"):
                with Vertical(id="train-page", classes="page"):
                    with Vertical(id="sparklines"):
                        yield LossSparklines()
                        yield AccuracySparklines()
                    yield EpochTable()
                with VerticalScroll(id="gradients-page", classes="page"):
                    yield GradientPanel()
                    yield SignalPanel()
        yield Static("", id="too-small")
        yield Footer(compact=True)

    # --- typed access to the widgets --------------------------------------------------------

    @property
    def config_form(self) -> ConfigForm:
        return self.query_one(ConfigForm)

    @property
    def run_status(self) -> RunStatus:
        return self.query_one(RunStatus)

    @property
    def epoch_table(self) -> EpochTable:
        return self.query_one(EpochTable)

    @property
    def loss_sparklines(self) -> LossSparklines:
        return self.query_one(LossSparklines)

    @property
    def accuracy_sparklines(self) -> AccuracySparklines:
        return self.query_one(AccuracySparklines)

    @property
    def gradient_panel(self) -> GradientPanel:
        return self.query_one(GradientPanel)

    @property
    def signal_panel(self) -> SignalPanel:
        return self.query_one(SignalPanel)

    # --- layout -----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.show_page("setup")
        self.set_interval(REFRESH_S, self.flush_panels)

    def flush_panels(self) -> None:
        """Draw what arrived since the last flush (called REFRESH_S apart)."""
        self.run_status.flush()
        self.gradient_panel.flush()
        self.signal_panel.flush()
        self.loss_sparklines.flush()
        self.accuracy_sparklines.flush()
        self.epoch_table.flush()

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def on_screen_resume(self) -> None:
        self._fit(self.app.size.width, self.app.size.height)

    def _fit(self, width: int, height: int) -> None:
        too_small = width < MIN_SIZE[0] or height < MIN_SIZE[1]
        self.set_class(too_small, "-too-small")
        compact = width < WIDE[0] or height < WIDE[1]
        if compact != self.has_class("-compact"):
            self.set_class(compact, "-compact")
            self.refresh_bindings()  # `a` shows in the footer only where there is room
        self.set_class(width >= XWIDE and height >= WIDE[1], "-xwide")
        if too_small:
            self.query_one("#too-small", Static).update(
                f"Terminal too small: {width}x{height}.\n"
                f"dnn-tui needs at least {MIN_SIZE[0]}x{MIN_SIZE[1]}: "
                "enlarge the window or make the font smaller.\n\nctrl+q quits."
            )

    def show_page(self, page: str) -> None:
        """Bring a region forward in the compact layout (the wide one shows them all)."""
        for name in PAGES:
            self.set_class(name == page, f"-page-{name}")
        tabs = self.query_one(Tabs)
        if tabs.active != f"tab-{page}":
            tabs.active = f"tab-{page}"

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        page = (event.tab.id or "tab-setup").removeprefix("tab-")
        for name in PAGES:
            self.set_class(name == page, f"-page-{name}")
        focused = self.focused
        if focused is not None and focused is not event.tabs and not focused.display:
            self.set_focus(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_signal" and parameters == ("footer",):
            return not self.has_class("-compact")  # the other `a` binding acts, unseen
        return True

    def action_toggle_signal(self, _shown_in: str = "") -> None:
        """Flip between the gradient panel and the signal panel (the widest layout shows both);
        on small screens, bring their tab forward."""
        signal = not self.has_class("-signal")
        self.set_class(signal, "-signal")
        self.query_one("#tab-gradients", Tab).label = GRADIENTS_TAB[signal]
        if self.has_class("-compact") and not self.has_class("-page-gradients"):
            self.show_page("gradients")

    def action_leave_input(self) -> None:
        """Escape: give the keys back to the lab (r, space, s, c ... act again)."""
        self.set_focus(None)

    # --- what the app tells the lab ---------------------------------------------------------

    def begin_run(
        self, config: RunConfig | None, run_dir: Path, run_id: int, controls: RunControls
    ) -> None:
        """A run was launched (or opened from its directory, config None when it has not
        written one yet): clear the panels and show it loading."""
        self.run_id, self.run_dir, self._controls = run_id, run_dir, controls
        self.run_started = self.last_step = self.last_signal = None
        self.run_status.show_starting(config, run_dir)
        self.run_status.show_controls(controls)
        self.epoch_table.clear_epochs()
        self.loss_sparklines.reset()
        self.accuracy_sparklines.reset()
        if self.has_class("-page-setup"):
            self.show_page("train")

    def show_controls(self) -> None:
        """The controls changed: show their state now, before the engine applies them."""
        controls = self._controls
        if controls is None:
            return
        self.run_status.show_controls(controls)
        self.gradient_panel.show_controls(controls.clipping, controls.clip_norm)
        if self.run_status.state not in ("starting", "running", "paused"):
            return
        if controls.stop_requested:
            self.run_status.show_state("stopping")
        elif self.run_status.state != "starting":
            self.run_status.show_state("paused" if controls.paused else "running")

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
        if self.run_started is None and self.run_status.state in ("starting", "stopping"):
            self.run_status.show_ended("stopped", "stopped before the first step")

    def on_run_lost(self, message: RunLost) -> None:
        """The followed run's process is gone without finishing: it was interrupted."""
        if message.run_id == self.run_id:
            self.flush_panels()
            self.epoch_table.flush(force=True)
            self.run_status.show_ended("interrupted", message.reason)

    def show_failure(self, message: str) -> None:
        """The run's worker failed (the app has notified the user)."""
        self.run_status.show_ended("failed", message)

    # --- the engine's events ----------------------------------------------------------------

    def on_engine_reported(self, message: EngineReported) -> None:
        """Route one engine event to the widgets that show it."""
        if message.run_id != self.run_id:
            return
        match message.event:
            case StepMeasured() as event:
                self.last_step = event
                self.run_status.show_step(event)
                self.loss_sparklines.train.append(event.recent_loss)
                self.gradient_panel.show_step(event)
            case EpochEnded(record=record, best_epoch=best):
                self.epoch_table.add_epoch(record, best)
                self.loss_sparklines.val.append(record["val_loss"])
                self.accuracy_sparklines.train.append(record["train_acc"])
                self.accuracy_sparklines.val.append(record["val_acc"])
            case ActivationsMeasured() as event:
                self.last_signal = event
                self.signal_panel.show_signal(event)
            case ControlApplied():
                self.show_controls()
            case RunStarted() as event:
                self.run_started = event
                self.run_status.show_starting(event.config, self.run_dir or Path())
                self.run_status.show_started(event, self.run_dir or Path())
                self.gradient_panel.start(event.layers)
                self.signal_panel.start()
                self.show_controls()
            case RunFinished() as event:
                self._finish(event)
            case Notice(text=text, level=level):
                severity = level if level in ("warning", "error") else "information"
                self.notify(text, severity=severity, timeout=10)

    def _finish(self, event: RunFinished) -> None:
        self.run_status.show_finished(event)
        self.flush_panels()
        self.epoch_table.flush(force=True)
        self.epoch_table.mark_best(event.best_epoch)
        test = f"test accuracy {fmt_acc(event.test['acc'])}" if event.test else "no test split"
        if event.status == "completed":
            self.notify(f"{test} (best epoch {event.best_epoch})", title="Run finished")
        elif event.status == "early_stopped":
            self.notify(
                f"Early stop: best epoch {event.best_epoch} restored; {test}",
                title="Run finished",
            )
        elif event.status == "stopped":
            self.notify(f"Stopped; {test} with the best epoch so far", title="Run stopped")
        elif event.status == "diverged" and self.run_started is not None:
            detail = event.diverged or {}
            self.notify(
                f"epoch {detail.get('epoch')}, step {detail.get('step')}, {detail.get('layer')}",
                title="Run diverged",
                severity="error",
            )
            self.app.push_screen(
                DivergenceScreen(self.run_started.config, detail, event.best_epoch),
                self._remedy_chosen,
            )

    async def _remedy_chosen(self, config: RunConfig | None) -> None:
        if config is not None:
            self.config_form.load(config)
            await self.run_action("app.start_run")
