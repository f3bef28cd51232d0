"""The lab's keys, described once: the bindings, the footer's labels and the help's table.

Each row says how the help writes a key, what it does, and the bindings that make it work
(a binding's description is the footer's short label). The lab screen and the app bind
what the rows hold, the help screen prints ``keys_markdown()``, and a test compares that
table with the one in the docs, so no description can drift from what a key does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding


@dataclass(frozen=True)
class KeyRow:
    """One key (or a few that go together) of the lab."""

    keys: str
    """The key(s) as the help's table writes them (markdown)."""
    does: str
    """What it does, in the help's and the docs' words."""
    bindings: tuple[Binding, ...] = ()
    """What makes it work; none for keys Textual handles itself (tab, the arrows)."""
    footer_first: bool = False
    """A key that starts a run: the footer shows these first, in the table's order, however far
    down the table they are (the help lists the background run after the everyday keys)."""
    where: Literal["lab", "app"] = "lab"
    """Bound by the lab screen, or by the app (it acts on every screen)."""


QUIT = KeyRow(
    "`ctrl+q`",
    "quit; during a run it asks first (press it again)",
    (Binding("ctrl+q", "request_quit", "quit", priority=True),),
    where="app",
)

LAB_KEYS: tuple[KeyRow, ...] = (
    KeyRow(
        "`ctrl+r`",
        "start a run with the form's settings (works even while typing)",
        (Binding("ctrl+r", "app.start_run", "run", priority=True),),
        footer_first=True,
    ),
    KeyRow(
        "`r`",
        "start a run (when the focus is not in a text field)",
        (Binding("r", "app.start_run", "start", show=False),),
        footer_first=True,
    ),
    KeyRow(
        "`space`",
        "pause / resume the running job",
        (Binding("space", "app.toggle_pause", "pause"),),
    ),
    KeyRow(
        "`n`",
        "one step: the paused job takes exactly one optimizer step and pauses again; every "
        "panel shows its result (the model graph `g` shows its pass node by node)",
        # Not in the footer: it has no room at 80 columns; the help lists it.
        (Binding("n", "app.step_run", "step", show=False),),
    ),
    KeyRow(
        "`s`",
        "stop the running job after the current step (files are saved)",
        (Binding("s", "app.stop_run", "stop"),),
    ),
    KeyRow(
        "`c`",
        "clipping on / off for the running job, from its next step",
        (Binding("c", "app.toggle_clipping", "clip"),),
    ),
    KeyRow(
        "`+` / `-`",
        "double / halve the clipping threshold",
        (
            Binding("plus", "app.scale_clip_norm(2.0)", "max", key_display="+-"),
            Binding("minus", "app.scale_clip_norm(0.5)", "max÷2", show=False),
        ),
    ),
    KeyRow(
        "`a`",
        "cycle the gradient panel, the signal panel (the forward signal), the weight panel "
        "and, for 2-D data, the decision regions",
        (
            # The footer shows `a` where it has room; at 80 columns the Gradients tab's label
            # says it.
            Binding("a", "cycle_panels('footer')", "panels"),
            Binding("a", "cycle_panels", "panels", show=False),
        ),
    ),
    KeyRow(
        "`i`",
        "show the signal and the weights at the start (before the first step) beside the "
        "current ones, or not",
        (Binding("i", "toggle_initial", "start", show=False),),
    ),
    KeyRow(
        "`1` `2` `3`",
        "the Setup, Train and Gradients tabs (small terminals)",
        (
            Binding("1", "show_page('setup')", "tabs", key_display="1-3"),
            Binding("2", "show_page('train')", "train tab", show=False),
            Binding("3", "show_page('gradients')", "gradients tab", show=False),
        ),
    ),
    KeyRow(
        "`g`",
        "model graph: the network node by node, with the latest gradients",
        (Binding("g", "app.show_graph", "graph"),),
    ),
    KeyRow(
        "`x`",
        "what the network got wrong: the shown run's confusion matrix, per-class accuracy and "
        "worst test examples (also on the run under the cursor in the runs list)",
        # Not in the footer: it has no room at 80 columns; the help lists it.
        (Binding("x", "show_errors", "errors", show=False),),
    ),
    KeyRow(
        "`l`",
        "learning-rate range test of the form's settings (a throwaway model): the loss against "
        "the lr, the suggested lr; `enter` puts it in the form's lr field",
        # Not in the footer: it has no room at 80 columns; the help lists it.
        (Binding("l", "lr_find", "lr find", show=False),),
    ),
    KeyRow(
        "`v`",
        "the runs list; `space` selects runs to compare (curves, settings, gaps, gradients)",
        (Binding("v", "app.compare_runs", "runs"),),
    ),
    KeyRow(
        "`u`",
        "run a suite of presets with the form's dataset (each its own epochs unless you "
        "changed them), then compare them",
        (
            Binding("u", "run_suite(True)", "suite"),
            Binding("u", "run_suite", show=False),  # the compact footer has no room for it
        ),
    ),
    KeyRow(
        "`t`",
        "the light or the dark theme (the bands' colours keep their contrast on both)",
        # Not in the footer: it has no room at 80 columns; the help lists it.
        (Binding("t", "toggle_theme", "theme", show=False),),
    ),
    KeyRow(
        "`?`",
        "this help",
        (Binding("question_mark", "app.show_help", "help", key_display="?"),),
    ),
    KeyRow(
        "`escape`",
        "leave a text field (then the one-letter keys work again)",
        (Binding("escape", "leave_input", "leave field", key_display="esc"),),
    ),
    KeyRow("`tab` / `shift+tab`", "move between fields, the epoch table and the gradient panel"),
    KeyRow("arrows, `pageup` / `pagedown`", "scroll what has the focus (here: this help)"),
    KeyRow(
        "`b`",
        "start the form's run as a process of its own, watched here (it outlives the dashboard)",
        (
            Binding("b", "start_background(True)", "bg run"),
            Binding("b", "start_background", show=False),  # the compact footer has no room
        ),
        footer_first=True,
    ),
    KeyRow(
        "`o`",
        "continue the shown run once it has ended, from its checkpoint (its latest epoch), to "
        "the epochs you give, as a process of its own watched here (also on the run under the "
        "cursor in the runs list)",
        (Binding("o", "app.continue_run", "continue", show=False),),
    ),
    QUIT,
)
"""The lab's keys in the help's order."""


def bindings(rows: Iterable[KeyRow] = LAB_KEYS, where: str = "lab") -> list[Binding]:
    """The bindings of the rows bound ``where``, in the footer's order (Textual shows them in
    the order bound): the keys that start a run first, then the table's order."""
    chosen = [row for row in rows if row.where == where]
    ordered = sorted(chosen, key=lambda row: not row.footer_first)  # stable: the table's order
    return [binding for row in ordered for binding in row.bindings]


def keys_markdown(rows: Iterable[KeyRow] = LAB_KEYS) -> str:
    """The rows as a markdown table (key | what it does): the help prints it, and the docs
    hold the same between ``<!-- keys:lab -->`` and ``<!-- /keys:lab -->``."""
    lines = ["| key | what it does |", "|---|---|"]
    lines += [f"| {row.keys} | {row.does} |" for row in rows]
    return "\n".join(lines)
