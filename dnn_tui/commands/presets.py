"""``dnn-tui presets``: every experiment of the lab, one line each."""

from __future__ import annotations

import argparse

from dnn_tui.presets import list_presets
from dnn_tui.training.status import EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    presets = commands.add_parser("presets", help="list the presets")
    presets.set_defaults(handler=_presets)


def _presets(args: argparse.Namespace) -> int:
    from rich.table import Table

    from dnn_tui.training.report import make_console, width_of

    presets = [(p.name, " ".join(p.description.split())) for p in list_presets()]
    console = make_console()
    if width_of(console) is None:  # a pipe: one line each, no padding, easy to grep
        width = max((len(name) for name, _ in presets), default=0)
        for name, description in presets:
            console.print(f"{name:<{width}}  {description}", soft_wrap=True)
        return EXIT_OK
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("preset", style="bold cyan", no_wrap=True)
    table.add_column("what it shows")
    for name, description in presets:
        table.add_row(name, description)
    console.print(table)
    return EXIT_OK
