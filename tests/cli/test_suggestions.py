"""Mistyped names get the closest known one, and every kind of command-line mistake exits 2:
a command, an option, a preset, a suite, a dataset or a choice (``dnn_tui.cli.main``
in-process; one test through a real subprocess, as a shell sees it)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from dnn_tui.cli import build_parser
from dnn_tui.fileio import did_you_mean
from tests.helpers.cli import Cli


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [
        (["trian"], "did you mean 'train'?"),
        (["comapre", "x"], "did you mean 'compare'?"),
        (["train", "--activaton", "relu"], "did you mean '--activation'?"),
        (["train", "--optimiser", "adam"], "did you mean '--optimizer'?"),
        (["sweep", "--grdi", "lr=0.1"], "did you mean '--grid'?"),
        (["train", "--preset", "basline"], "did you mean 'baseline'?"),
        (["train", "--preset", "deep-sigmod"], "did you mean 'deep-sigmoid'?"),
        (["train", "--dataset", "mnst"], "did you mean 'mnist'?"),
        (["train", "--dataset", "fashion_mnist"], "did you mean 'fashion-mnist'?"),
        (["train", "--activation", "leaky-relu"], "did you mean 'leaky_relu'?"),
        (["train", "--init", "xaviar"], "did you mean 'xavier'?"),
        (["suite", "gradiants"], "did you mean 'gradients'?"),
        (["suite", "cliping"], "did you mean 'clipping'?"),
    ],
)
def test_a_mistyped_name_exits_2_with_the_closest_one(
    cli: Cli, tmp_path: Path, args: list[str], suggestion: str
) -> None:
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.endswith(suggestion) or f"{suggestion} (known:" in last, last
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--preset", "zzzzzz"],
        ["train", "--dataset", "qqqq"],
        ["train", "--frobnicate", "1"],
        ["nothing-like-a-command"],
    ],
)
def test_nothing_close_suggests_nothing(cli: Cli, tmp_path: Path, args: list[str]) -> None:
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert "did you mean" not in done.stderr


def test_the_same_kind_of_typo_gets_the_same_exit_code(cli: Cli, tmp_path: Path) -> None:
    """A mistyped option name, option value, preset, suite and command: all usage errors."""
    typos = [
        ["train", "--activaton", "relu"],
        ["train", "--activation", "relux"],
        ["train", "--preset", "basline"],
        ["train", "--epochs", "zero"],
        ["suite", "nosuch"],
        ["trian"],
    ]
    assert {cli(*args, cwd=tmp_path).returncode for args in typos} == {2}


def test_british_spellings_of_a_suite_are_accepted(cli: Cli, tmp_path: Path) -> None:
    done = cli("suite", "regularisation", "--hidden", "10", "--out", tmp_path / "s", cwd=tmp_path)
    # The suite is found (then refused for dropout's two hidden widths, before any run).
    assert done.returncode == 2
    assert "preset dropout: dropout:" in done.stderr.splitlines()[-1]


def test_a_missing_run_directory_is_not_called_damaged(cli: Cli, tmp_path: Path) -> None:
    for args in (["compare", "nowhere"], ["eval", "nowhere"]):
        done = cli(*args, cwd=tmp_path)
        assert done.returncode == 1, args
        assert done.stderr == "dnn-tui: error: nowhere: no such run directory\n", args


def test_every_option_of_every_command_has_help() -> None:
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    missing = [
        f"{name} {action.option_strings or action.dest}"
        for name, command in commands.choices.items()
        for action in command._actions
        if not action.help or action.help == argparse.SUPPRESS
    ]
    assert missing == []


def test_suite_help_speaks_of_the_suite_directory(cli: Cli, tmp_path: Path) -> None:
    done = cli("suite", "--help", cwd=tmp_path)
    assert "one run directory per preset" in " ".join(done.stdout.split())


def test_did_you_mean_ignores_case_and_separators() -> None:
    assert did_you_mean("BASELINE", ["baseline", "l2"]) == "; did you mean 'baseline'?"
    assert did_you_mean("leaky-relu", ["relu", "leaky_relu"]) == "; did you mean 'leaky_relu'?"
    assert did_you_mean("", ["a"]) == ""
    assert did_you_mean(3, ["3"]) == ""
    assert did_you_mean("zzz", ["baseline"]) == ""


def test_a_shell_sees_the_suggestion_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dnn_tui", "trian"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].endswith("did you mean 'train'?")
