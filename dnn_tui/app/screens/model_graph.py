"""ModelGraphScreen: the network as the lab draws it, with each parameter's latest gradient.

Input -> Affine (W, b) -> [BatchNorm (gamma, beta)] -> activation -> [Dropout]
-> ... -> Affine -> Softmax -> cross-entropy loss: every node with its output
shape and parameter count, and during or after a run the latest gradient norm of
each of its parameters and, on each activation node, the latest std of its output
(the forward signal, coloured by the signal panel's band). Below it, the Keras-style
summary with the total.

It shows the current run's model, or the form's when that describes a different
model (then without gradients). Shapes come from ``dnn_tui.graph``, which
needs no torch; while a run goes on the gradient column is refreshed twice a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from dnn_tui.app.formatting import fmt_count, fmt_norm
from dnn_tui.app.widgets.gradient_panel import BAND_STYLES, band
from dnn_tui.app.widgets.signal_panel import BAND_STYLES as SIGNAL_STYLES
from dnn_tui.app.widgets.signal_panel import band as signal_band
from dnn_tui.graph import DATASET_SHAPES, GraphNode, build_graph, summary_text
from dnn_tui.training.events import ActivationsMeasured

if TYPE_CHECKING:
    from dnn_tui.app.screens.lab import LabScreen

GRADS_W = 21
"""Columns of the gradient column (two parameters: ``W 1.8e-02 b 5.9e-03``; an activation's
std: ``σ 2.2e-01``)."""
REFRESH_S = 0.5
"""Seconds between looks at the lab's latest gradient norms."""


class ModelGraphScreen(Screen[None]):
    """The computational graph of the configured model (``g``)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,g", "app.pop_screen", "back")]

    def __init__(self, lab: LabScreen) -> None:
        super().__init__(id="model-graph")
        self._lab = lab
        self._shown: object = None

    def compose(self) -> ComposeResult:
        yield Label("", id="graph-title")
        with VerticalScroll(id="graph-body"):
            yield Static("", id="graph-nodes")
            yield Static("", id="graph-summary")
        yield Footer()

    def on_mount(self) -> None:
        self._update()
        self.set_interval(REFRESH_S, self._update)

    def _update(self) -> None:
        """Redraw when the lab has new gradients (or the first time)."""
        lab = self._lab
        key = (lab.run_started, lab.last_step, lab.last_signal)
        if key == self._shown:
            return
        self._shown = key
        title, nodes, norms, signal = self._model()
        self.query_one("#graph-title", Label).update(title)
        if nodes is None:
            self.query_one("#graph-nodes", Static).update("")
            self.query_one("#graph-summary", Static).update("")
            return
        self.query_one("#graph-nodes", Static).update(graph_table(nodes, norms, signal))
        self.query_one("#graph-summary", Static).update(summary_text(nodes))

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


def graph_table(
    nodes: list[GraphNode], norms: dict[str, float], signal: ActivationsMeasured | None = None
) -> Text:
    """One line per node: arrow, node, output shape, parameters, count, gradient norms (or the
    activation's std), operation.

    Fixed columns, cropped at the right edge: the operation goes first when space is short.
    """
    text = Text(no_wrap=True, overflow="crop")
    text.append(f"   {'node':<15}{'output':<11}{'parameters':<17}{'count':>7}  latest |grad|, σ\n")
    text.stylize("bold")
    for i, node in enumerate(nodes):
        arrow = "┌" if i == 0 else "└" if i == len(nodes) - 1 else "│"
        name = f"{node.title} {node.name}" if node.module else node.title
        shape = f"(N, {node.width})" if node.width is not None else "scalar"
        params = " ".join(f"{p.symbol} {'×'.join(map(str, p.shape))}" for p in node.params)
        count = fmt_count(node.trainable) if node.params else ""
        text.append(f" {arrow} ")
        text.append(f"{name:<15}", style="bold" if node.params else "")
        text.append(f"{shape:<11}{params:<17}{count:>7}  ")
        grads = [(p.symbol, norms[p.name]) for p in node.params if p.name in norms]
        for symbol, norm in grads:
            text.append(f"{symbol} {fmt_norm(norm)} ", style=BAND_STYLES[band(norm)])
        used = sum(len(symbol) + 9 for symbol, _ in grads)
        if signal is not None and node.name in signal.layers:
            i = signal.layers.index(node.name)
            std = signal.std[i]
            kind = signal_band(std, signal.share[i], signal.share_kind)
            text.append(f"σ {fmt_norm(std)} ", style=SIGNAL_STYLES[kind])
            used = 10
        text.append(" " * max(GRADS_W - used, 1) + node.detail + "\n", style="dim")
    text.rstrip()
    return text
