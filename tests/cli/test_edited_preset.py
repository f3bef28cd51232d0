"""A preset whose experiment the command line changes is ``NAME (edited)``, as the dashboard's
form names it: ``train``, ``tui`` and the lesson line never claim the preset for another run."""

from __future__ import annotations

import pytest

from dnn_tui.cli import build_parser, config_from_args


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["--preset", "full-batch"], "full-batch"),
        (["--preset", "full-batch", "--dataset", "digits", "--seed", "3"], "full-batch"),
        (["--preset", "full-batch", "--epochs", "20"], "full-batch (edited)"),
        (["--preset", "l2", "--lr", "0.01"], "l2 (edited)"),
    ],
)
def test_the_command_line_names_an_edited_preset(args: list[str], name: str) -> None:
    config = config_from_args(build_parser().parse_args(["train", *args]))
    assert config.preset == name
