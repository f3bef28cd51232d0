"""ModelGraphScreen: the network as the lab draws it, with each parameter's latest gradient.

Input -> Affine (W, b) -> [BatchNorm (gamma, beta)] -> activation -> [Dropout]
-> ... -> Affine -> Softmax -> cross-entropy loss: every node with its output
shape and parameter count, and during or after a run the latest gradient norm of
each of its parameters (coloured by the gradient band of its layer, the lesson rule of
``dnn_tui.training.lessons``), each Affine node's weight norm ‖W‖ and, on each activation
node, the latest std of its output (the forward signal, coloured by the signal panel's
band). Below it, the Keras-style summary with the total. A BatchNorm node counts its
parameters as the summary does: γ and β, which are trained, and the running mean and
variance, which are not (the detail column says which is which).

It shows the current run's model, or the form's when that describes a different
model (then without gradients), under the experiment's lesson (its preset's
description, in full). Shapes come from ``dnn_tui.graph``, which needs no torch;
they are written as Keras writes them, ``(None, 100)``, None standing for the batch
dimension. While a run goes on the gradient column is refreshed four times a second.

A paused run (of this dashboard) shows below the graph one sample's pass through it: what
each node passed forward, the gradient it received, each parameter's gradient from this
sample, and the chain rule for one weight (``dnn_tui.analysis.trace`` writes it out). The run
traced it on its own thread when it paused (``PassTraced``), so it is the pass of the weights
the run waits with; each ``n`` (one step) brings the next, and ``[`` / ``]`` ask the run for
the previous or next sample's (it traces them on its thread, still paused). A run of another
process writes its pass to trace.json (``rundir.files.read_trace``), which this screen reads
when it changed; the keys reach that run as ``trace`` requests through control.jsonl.

A Linear bias followed by BatchNorm gets a gradient of zero up to rounding (about
1e-8): the normalisation subtracts the batch mean, so a constant added before it
changes nothing. Its norm is drawn dim with ``BN`` beside it, not in the band
colours (it is not vanishing, it is unused: BatchNorm's β does its job).
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from dnn_tui.analysis.trace import pass_lines
from dnn_tui.app.widgets.gradient_panel import BAND_STYLES, dark_theme
from dnn_tui.app.widgets.signal_panel import BAND_STYLES as SIGNAL_STYLES
from dnn_tui.fileio import visible
from dnn_tui.graph import DATASET_SHAPES, GraphNode, build_graph, summary_text
from dnn_tui.rundir.files import TRACE_FILE, RunError, SavedTrace, read_trace
from dnn_tui.rundir.follow import SteeringFailed
from dnn_tui.training.events import ActivationsMeasured, PassTraced
from dnn_tui.training.lessons import gradient_bands, signal_band
from dnn_tui.training.numbers import fmt_count, fmt_norm, fmt_weight_norm

if TYPE_CHECKING:
    from dnn_tui.app.screens.lab import LabScreen

GRADS_W = 34
"""Columns of the gradient column (two parameters and the weight norm: ``W 1.8e-2 b 5.9e-9 BN
‖W‖ 8.81``; an activation's std: ``σ 2.2e-1``)."""
REFRESH_S = 0.5
"""Seconds between looks at the lab's latest gradient norms."""


class ModelGraphScreen(Screen[None]):
    """The computational graph of the configured model (``g``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,g", "app.pop_screen", "back"),
        Binding("left_square_bracket", "trace(-1)", "previous sample", show=False),
        Binding("right_square_bracket", "trace(1)", "next sample", show=False),
    ]

    def __init__(self, lab: LabScreen) -> None:
        super().__init__(id="model-graph")
        self._lab = lab
        self._shown: object = None
        self._saved: tuple[object, PassTraced | Text | None] = (None, None)
        """(trace.json's identity, its pass or why there is none): read again on a change."""

    AUTO_FOCUS = "#graph-body"
    """The body has the focus: arrows and PageUp/PageDown scroll it at once."""

    def compose(self) -> ComposeResult:
        yield Label("", id="graph-title")
        with VerticalScroll(id="graph-body"):
            yield Static("", id="graph-lesson", markup=False)
            yield Static("", id="graph-nodes")
            yield Static("", id="graph-pass")
            yield Static("", id="graph-summary")
        yield Footer()

    def on_mount(self) -> None:
        self._update()
        self.set_interval(REFRESH_S, self._update)

    def _update(self) -> None:
        """Redraw when the lab has new gradients (or the first time)."""
        lab = self._lab
        self._saved_pass()
        traced = lab.last_pass
        sample = traced.traced.sample if traced is not None else None  # not in PassTraced's ==
        key = (lab.run_started, lab.last_step, lab.last_signal, traced, sample, self._paused)
        key += (self._saved[0],)  # trace.json's identity
        if key == self._shown:
            return
        self._shown = key
        title, nodes, norms, signal = self._model()
        bands, weights = self._layer_figures()
        # the preset, description and dataset name come from the run's files: shown as typed
        self.query_one("#graph-title", Label).update(Text(visible(title)))
        lesson = self._lesson()
        self.query_one("#graph-lesson", Static).update(Text(visible(lesson)))
        self.query_one("#graph-lesson", Static).display = bool(lesson)
        if nodes is None:
            self.query_one("#graph-nodes", Static).update("")
            self.query_one("#graph-summary", Static).update("")
            return
        table = graph_table(nodes, norms, signal, bands, weights, dark_theme(self))
        self.query_one("#graph-nodes", Static).update(table)
        shown = self._pass_text()
        self.query_one("#graph-pass", Static).update(shown or "")
        self.query_one("#graph-pass", Static).display = shown is not None
        self.query_one("#graph-summary", Static).update(summary_text(nodes))

    @property
    def _paused(self) -> bool:
        return self._lab.run_status.state == "paused" and not self._lab.run_ended

    def _saved_pass(self) -> PassTraced | Text | None:
        """A run of another process: its trace.json (read when it changed), or why there is
        no pass to draw; None for a run of this dashboard, or one not paused."""
        run_dir = self._lab.run_dir
        if getattr(self.app, "local", True) or not self._paused or run_dir is None:
            return None
        path = run_dir / TRACE_FILE
        try:
            stat = path.lstat()
            identity: object = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except OSError:
            identity = None
        if identity == self._saved[0]:
            return self._saved[1]
        try:
            saved = read_trace(run_dir)
        except RunError as error:
            shown: PassTraced | Text | None = Text(visible(str(error)), style="dim")
        else:
            shown = None if saved is None else _saved_traced(saved)
        self._saved = (identity, shown)
        return shown

    def action_trace(self, offset: int) -> None:
        """[ and ]: the pass of the previous or next sample (the run wraps at its split's end)."""
        controls = getattr(self.app, "controls", None)
        if controls is None or not self._paused:
            self.notify("A paused run's pass is traced: pause the run (space) first.")
            return
        shown = self._traced()
        current = shown.traced.sample if shown is not None else controls.trace_sample
        try:
            asked = controls.trace(current + offset)
        except SteeringFailed as error:
            self.notify(visible(str(error)), severity="error")
            return
        if not asked:
            self.notify("A paused run's pass is traced: pause the run (space) first.")

    def _traced(self) -> PassTraced | None:
        """The pass to show: the run is paused, and traced it after its latest step."""
        lab = self._lab
        traced, step = lab.last_pass, lab.last_step
        saved = self._saved_pass()
        if isinstance(saved, PassTraced):
            traced = saved
        if not self._paused or traced is None:
            return None
        if step is not None and (step.epoch, step.step) > (traced.epoch, traced.step):
            return None  # a step was taken since: the run traces it as it pauses again
        return traced

    def _pass_text(self) -> Text | None:
        """One sample's pass of the paused run, or why there is none; None while it runs."""
        if not self._paused:
            return None
        traced = self._traced()
        saved = self._saved_pass()
        if traced is None and isinstance(saved, Text):
            return saved
        if traced is None:
            if getattr(self.app, "local", True):
                return Text("One sample's pass: traced as the run pauses …", style="dim")
            return Text(
                "One sample's pass: the run writes it to trace.json as it pauses …; for the "
                "run's kept weights: dnn-tui eval RUN_DIR --trace",
                style="dim",
            )
        text = Text(no_wrap=True, overflow="crop")
        text.append(
            f"Paused at epoch {traced.epoch} after step {traced.step}: one sample's pass\n",
            style="bold",
        )
        text.append("n: one more step · [ and ]: the previous or next sample\n", style="dim")
        lines = pass_lines(traced.traced)
        for i, line in enumerate(lines):
            heading = line.startswith(("forward:", "backward:", "the chain rule"))
            text.append(line + "\n", style="bold" if heading or i == len(lines) - 1 else "")
        text.rstrip()
        return text

    def _layer_figures(self) -> tuple[dict[str, str], dict[str, float]]:
        """Per Linear layer of the current run: its gradient band and its weight norm."""
        started, step = self._lab.run_started, self._lab.last_step
        if started is None or step is None or len(step.grad_norm) != len(started.layers):
            return {}, {}
        bands = gradient_bands(step.grad_norm, step.update_ratio)
        weights = dict(zip(started.layers, step.weight_norm, strict=False))
        return dict(zip(started.layers, bands, strict=True)), weights

    def _lesson(self) -> str:
        """The experiment's lesson: the current run's, else the form's (empty for a custom one)."""
        started = self._lab.run_started
        config = started.config if started is not None else self._lab.config_form.check()[0]
        if config is None or not config.description:
            return ""
        return f"{config.preset}: {' '.join(config.description.split())}"

    def _model(
        self,
    ) -> tuple[str, list[GraphNode] | None, dict[str, float], ActivationsMeasured | None]:
        """(title, nodes or None, parameter name -> latest gradient norm, latest signal)."""
        lab = self._lab
        started, step = lab.run_started, lab.last_step
        form, errors = lab.config_form.check()
        same = started is not None and (
            form is None
            or (
                form.model == started.config.model
                and form.data.dataset in (started.config.data.dataset, started.dataset["name"])
            )
        )
        if started is not None and same:
            data = started.dataset
            nodes = build_graph(started.config.model, int(data["input_dim"]), int(data["classes"]))
            norms = (
                dict(zip(started.parameters, step.param_grad_norm, strict=False)) if step else {}
            )
            if step:
                when = "latest gradient norms, activation std σ"
            elif lab.last_signal:
                when = "activation std σ at the start, no gradients yet"
            else:
                when = "no gradients measured yet"
            title = f"Model of the current run on {data['name']} ({when})"
            return title, nodes, norms, lab.last_signal
        if form is None:
            return f"The form has invalid fields: {next(iter(errors.values()))}", None, {}, None
        shape = DATASET_SHAPES.get(form.data.dataset)
        if shape is None:
            return (
                f"The shape of the {form.data.dataset} dataset is known once a run loaded it",
                None,
                {},
                None,
            )
        nodes = build_graph(form.model, *shape)
        return f"Model in the form, on {form.data.dataset} (not trained yet)", nodes, {}, None


def _saved_traced(saved: SavedTrace) -> PassTraced | Text:
    """trace.json as the pass to draw, or why it holds none."""
    if saved.traced is None:
        return Text(
            f"Paused at epoch {saved.epoch} after step {saved.step}: the pass of sample "
            f"{saved.sample} (label {saved.label}) is too large to send "
            f"({fmt_count(saved.too_large or 0)} bytes); dnn-tui eval RUN_DIR --trace "
            f"--sample {saved.sample} --split {saved.split} traces the kept weights",
            style="dim",
        )
    return PassTraced(saved.epoch, saved.step, saved.traced)


def cancelled_biases(nodes: list[GraphNode]) -> set[str]:
    """The Linear biases that a BatchNorm right after them cancels (parameter names)."""
    return {
        param.name
        for node, after in pairwise(nodes)
        if after.title == "BatchNorm"
        for param in node.params
        if param.symbol == "b"
    }


def graph_table(
    nodes: list[GraphNode],
    norms: dict[str, float],
    signal: ActivationsMeasured | None = None,
    bands: dict[str, str] | None = None,
    weights: dict[str, float] | None = None,
    dark: bool = True,
) -> Text:
    """One line per node: arrow, node, output shape, parameters, count, gradient norms and the
    weight norm (or the activation's std), operation. ``bands``: each Linear layer's gradient
    band (a BatchNorm's parameters take their layer's); ``weights``: each one's ‖W‖; dark:
    the theme's background (the bands' colours follow it).

    Fixed columns, cropped at the right edge: the operation goes first when space is short.
    """
    cancelled = cancelled_biases(nodes)
    bands, weights = bands or {}, weights or {}
    band_styles, signal_styles = BAND_STYLES[dark], SIGNAL_STYLES[dark]
    text = Text(no_wrap=True, overflow="crop")
    title = "latest |grad|, ‖W‖, σ"
    text.append(f"   {'node':<15}{'output':<13}{'parameters':<17}{'count':>9}  {title}\n")
    text.stylize("bold")
    for i, node in enumerate(nodes):
        arrow = "┌" if i == 0 else "└" if i == len(nodes) - 1 else "│"
        name = f"{node.title} {node.name}" if node.module else node.title
        shape = f"(None, {node.width})" if node.width is not None else "scalar"
        params = " ".join(f"{p.symbol} {'×'.join(map(str, p.shape))}" for p in node.params)
        count = fmt_count(node.trainable + node.buffers) if node.params else ""
        layer = "fc" + node.name.removeprefix("bn") if node.name.startswith("bn") else node.name
        band = bands.get(layer, "healthy")
        text.append(f" {arrow} ")
        text.append(f"{name:<15}", style="bold" if node.params else "")
        text.append(f"{shape:<13}{params:<17}{count:>9}  ")
        used = 0
        for param in node.params:
            if param.name not in norms:
                continue
            norm = norms[param.name]
            cell = f"{param.symbol} {fmt_norm(norm)} "
            if param.name in cancelled:
                cell += "BN "
                text.append(cell, style="dim")
            else:
                text.append(cell, style=band_styles[band])
            used += len(cell)
        if node.name in weights:
            cell = f"‖W‖ {fmt_weight_norm(weights[node.name])} "
            text.append(cell, style=band_styles[band])
            used += len(cell)
        if signal is not None and node.name in signal.layers:
            i = signal.layers.index(node.name)
            std = signal.std[i]
            kind = signal_band(std, signal.share[i], signal.share_kind)
            cell = f"σ {fmt_norm(std)} "
            text.append(cell, style=signal_styles[kind])
            used += len(cell)
        detail = node.detail
        if any(param.name in cancelled for param in node.params):
            detail += " (b cancelled by BN)"
        if node.buffers:
            detail += (
                f" ({fmt_count(node.trainable)} trained: γ, β; {fmt_count(node.buffers)} running"
                " mean and variance, not trained)"
            )
        text.append(" " * max(GRADS_W - used, 1) + detail + "\n", style="dim")
    text.append("\nNone: the batch dimension (the samples of one step)", style="dim")
    text.rstrip()
    return text
