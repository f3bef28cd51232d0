"""``dnn-tui presets``, ``compare``, ``eval`` and ``suite``, run in-process by the ``cli``
fixture (tests/cli/conftest.py) on runs a real ``train`` process made."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from dnn_tui.training.numbers import fmt_acc
from tests.helpers.cli import Cli, read_history


def best_val_acc(run_dir: Path) -> float:
    """The validation accuracy of the run's best epoch (lowest validation loss)."""
    history = read_history(run_dir)
    return next(r["val_acc"] for r in history["epochs"] if r["epoch"] == history["best_epoch"])


def test_presets_lists_every_preset_with_its_description(cli: Cli, tmp_path: Path) -> None:
    done = cli("presets", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout
    listed = dict(line.split(None, 1) for line in done.stdout.splitlines())
    for name in ("baseline", "bottleneck", "deep-sigmoid", "exploding", "exploding-clipped"):
        assert name in listed
    assert listed["baseline"].startswith("The reference MNIST model")


def test_compare_sorts_the_runs_by_best_val_accuracy(
    cli: Cli, digits_run, moons_run, tmp_path: Path
) -> None:
    runs = [digits_run[0], moons_run[0]]
    done = cli("compare", *runs, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout
    ranked = sorted(runs, key=best_val_acc, reverse=True)
    positions = [done.stdout.index(str(run)) for run in ranked]
    assert positions == sorted(positions)
    for run in runs:
        assert fmt_acc(best_val_acc(run)) in done.stdout
        assert fmt_acc(read_history(run)["test"]["acc"]) in done.stdout
    assert "completed" in done.stdout
    # The lesson's figures, plain text: each run's markers in the legend and the plot.
    figure = done.stdout.split("accuracy per epoch", 1)[1].split("loss (log) per epoch")[0]
    legend, plot = figure.splitlines()[1], "\n".join(figure.splitlines()[2:])
    for marker in ("●○", "■□"):
        assert marker in legend
        assert marker[0] in plot and marker[1] in plot
    assert "gradient norm per layer" in done.stdout


def test_compare_names_a_missing_run_and_compares_the_others(
    cli: Cli, digits_run, tmp_path: Path
) -> None:
    done = cli("compare", digits_run[0], "nowhere", cwd=tmp_path)
    assert done.returncode == 1
    assert str(digits_run[0]) in done.stdout
    assert done.stderr == "dnn-tui: error: nowhere: no such run directory\n"


def test_eval_reproduces_the_test_accuracy(cli: Cli, digits_run, tmp_path: Path) -> None:
    out, _ = digits_run
    done = cli("eval", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    test = read_history(out)["test"]
    match = re.search(r"test accuracy (\d+\.\d%) \(loss (\d+\.\d{4})\) on digits", done.stdout)
    assert match, done.stdout
    assert match[1] == fmt_acc(test["acc"])
    assert abs(float(match[2]) - test["loss"]) < 1e-3


def test_eval_on_data_of_another_shape_says_so(cli: Cli, digits_run, tmp_path: Path) -> None:
    done = cli("eval", digits_run[0], "--dataset", "moons", cwd=tmp_path)
    assert done.returncode == 1
    assert re.fullmatch(r"dnn-tui: error: moons: 2 inputs .* takes 64 inputs .*\n", done.stderr)


def test_eval_refuses_weights_that_are_not_safetensors(
    cli: Cli, digits_run, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(digits_run[0], run)
    (run / "model.safetensors").write_bytes(b"\x80\x04not safetensors but a pickle")
    done = cli("eval", run, cwd=tmp_path)
    assert done.returncode == 1
    assert "model.safetensors: not a valid safetensors file" in done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_suite_runs_its_presets_then_compares_them(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "suite"
    done = cli(
        "suite",
        "depth",
        "--dataset",
        "digits",
        "--limit",
        200,
        "--epochs",
        1,
        "--out",
        out,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    for preset in ("shallow", "baseline"):
        history = read_history(out / preset)
        # --epochs 1 changed the experiment: the config says so (the data does not count).
        assert history["config"]["preset"] == f"{preset} (edited)"
        assert history["config"]["data"]["dataset"] == "digits"
        assert len(history["epochs"]) == 1
    comparison = done.stdout.split("comparison", 1)[1]
    assert str(out / "shallow") in comparison and str(out / "baseline") in comparison


def test_suite_checks_every_config_before_running(cli: Cli, tmp_path: Path) -> None:
    done = cli("suite", "regularization", "--hidden", 10, "--out", tmp_path / "s", cwd=tmp_path)
    assert done.returncode == 2  # the command line asks what one of its presets cannot take
    assert done.stderr.splitlines()[-1].startswith(
        "dnn-tui suite: error: preset dropout: dropout: "
    )
    assert not (tmp_path / "s").exists()
