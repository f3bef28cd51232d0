"""Options that are taken or ignored silently, through ``dnn_tui.cli.main`` in-process: given
for nothing (exit 2 with the usage), empty, not ASCII numbers, too long, or beyond what PyTorch
takes (exit 2, naming the option), or unable to change the run (a warning)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.cli import Cli, read_history


@pytest.mark.parametrize(
    ("args", "rule"),
    [
        (
            ["--idx-images", "i.gz", "--idx-labels", "l.gz"],
            "--idx-images: only read with dataset idx (the dataset is auto)",
        ),
        (
            ["--dataset", "digits", "--idx-labels", "l.gz"],
            "--idx-labels: only read with dataset idx (the dataset is digits)",
        ),
        (["--init-std", "0.1"], "--init-std: only used by init normal (the init is xavier)"),
        (
            ["--preset", "deep-sigmoid", "--init-std", "0.1"],
            "--init-std: only used by init normal (the init is default)",
        ),
        (
            ["--dataset", "moons", "--data-dir", "cache"],
            "--data-dir: only read by datasets auto, mnist, fashion-mnist, kmnist "
            "(the dataset is moons)",
        ),
    ],
)
def test_an_option_given_for_nothing_is_a_usage_error(
    cli: Cli, tmp_path: Path, args: list[str], rule: str
) -> None:
    done = cli("train", *args, "--out", tmp_path / "run", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("usage: dnn-tui train ")
    assert done.stderr.splitlines()[-1] == f"dnn-tui train: error: {rule}"
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--preset", "exploding", "--init-std", "0.2"],  # the preset's init is normal
        ["--init", "normal", "--init-std", "0.2"],
    ],
)
def test_an_option_the_run_uses_is_taken(cli: Cli, tmp_path: Path, args: list[str]) -> None:
    """Accepted: the command goes on to the data, whose (missing) file it names."""
    idx = ["--dataset", "idx", "--idx-images", "no-images", "--idx-labels", "no-labels"]
    done = cli("train", *args, *idx, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("dnn-tui: error: no-images: cannot read the file")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", ""], "preset: unknown preset '' (known: baseline,"),
        (["--config", ""], "config: an empty file name; give a TOML file or leave --config out"),
        (["--data-dir", ""], "data_dir: an empty value; leave --data-dir out"),
        (["--hidden", ""], "hidden: an empty value; leave --hidden out (--hidden none: no hidden"),
        (["--lr", " "], "lr: an empty value; leave --lr out"),
        (["--hidden", "²"], "hidden: must be comma-separated positive integers like 100,50,20;"),
        (["--hidden", "9" * 5000], "hidden: 5000 characters is too long for a number"),
        (["--seed", "１"], "seed: must be an integer, got '１'"),
        (["--optimizer", "sgd", "--lr", "1e39"], "lr: the learning rate must be at most 3.403e+38"),
        (["--l2", "1e-300"], "l2: must be at least 1.175e-38 (smaller values are 0 in float32)"),
        (["--activation", "x" * 100_000], "activation: must be one of relu, sigmoid, tanh,"),
    ],
)
def test_bad_values_are_refused_naming_the_option(
    cli: Cli, tmp_path: Path, args: list[str], message: str
) -> None:
    done = cli("train", *args, "--out", tmp_path / "run", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.startswith(f"dnn-tui train: error: {message}")
    assert len(last) < 400
    assert not (tmp_path / "run").exists()


def test_an_unrecognised_100000_character_word_is_not_echoed_whole(
    cli: Cli, tmp_path: Path
) -> None:
    done = cli("train", "--lr", "0.1", "y" * 100_000, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == f"dnn-tui: error: unrecognized arguments: {'y' * 39}…"


def test_a_patience_that_cannot_stop_the_run_is_a_warning(cli: Cli, tmp_path: Path) -> None:
    """Also: --hidden none trains the linear model (one Linear layer)."""
    out = tmp_path / "run"
    done = cli(
        "train",
        *("--dataset", "digits", "--limit", 100, "--hidden", "none"),
        *("--epochs", 2, "--early-stopping", 2, "--out", out),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "dnn-tui: warning: early_stopping: a patience of 2 never stops a run of 2 epochs "
        "(the best weights are restored anyway)\n"
    )
    history = read_history(out)
    assert history["layers"] == ["fc1"] and len(history["epochs"]) == 2


def test_eval_refuses_data_files_it_would_not_read(cli: Cli, digits_run, tmp_path: Path) -> None:
    out, _ = digits_run
    done = cli("eval", out, "--idx-images", "i.gz", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("usage: dnn-tui eval ")
    assert done.stderr.splitlines()[-1] == (
        "dnn-tui eval: error: --idx-images: only read with dataset idx (the dataset is digits)"
    )


def test_suite_refuses_an_option_before_its_first_run(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "suite"
    done = cli("suite", "regularization", "--init-std", "0.1", "--out", out, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1].startswith(
        "dnn-tui suite: error: preset baseline: --init-std: only used"
    )
    assert not out.exists()
