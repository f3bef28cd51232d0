"""``dnn-tui eval RUN... --ensemble``: the members' softmax outputs averaged on their shared
test split, checked against the average computed here with plain PyTorch; the suite of seeds
and the sweep summary's ensembles, checked against it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import torch
from rich.console import Console
from safetensors.torch import load_file

from dnn_tui.analysis.ensemble import evaluate_ensemble
from dnn_tui.commands.sweep import print_summary
from dnn_tui.config import DataConfig, ModelConfig
from dnn_tui.data import load_dataset
from dnn_tui.model import build_mlp
from dnn_tui.rundir.files import load_run
from dnn_tui.sweeps.planning import summarize, with_ensembles
from dnn_tui.training.numbers import fmt_acc, fmt_loss
from tests.helpers.cli import Cli, run_cli
from tests.helpers.idx_files import images_and_labels, write_idx

DIGITS = ("--dataset", "digits", "--limit", 200, "--epochs", 2, "--hidden", "16", "--lr", 0.01)


def _train(cli: Cli, out: Path, *options: object) -> Path:
    done = cli("train", *options, "--out", out, cwd=out.parent)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def seeds(cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three digits runs of seeds 0, 1 and 2 (one split)."""
    folder = tmp_path_factory.mktemp("ensemble")
    return [_train(cli, folder / f"seed{seed}", *DIGITS, "--seed", seed) for seed in range(3)]


def _oracle(runs: list[Path]) -> tuple[list[tuple[float, float]], float, float]:
    """Each member's (acc, loss) and the ensemble's acc and loss, by hand."""
    data = load_dataset(DataConfig("digits", limit=200, split_seed=0))
    x, y = data.x_test, data.y_test
    members, probabilities = [], []
    for run in runs:
        model = build_mlp(ModelConfig(hidden=(16,)), data.input_dim, data.classes)
        model.load_state_dict(load_file(run / "model.safetensors"))
        model.eval()
        with torch.no_grad():
            logits = model(x)
        members.append(
            (
                (logits.argmax(1) == y).double().mean().item(),
                torch.nn.functional.cross_entropy(logits, y).item(),
            )
        )
        probabilities.append(torch.softmax(logits.double(), dim=1))
    mean = torch.stack(probabilities).mean(0)
    acc = (mean.argmax(1) == y).double().mean().item()
    loss = -mean[torch.arange(len(y)), y].log().mean().item()
    return members, acc, loss


def test_the_ensemble_is_the_plain_softmax_average(cli: Cli, seeds: list[Path]) -> None:
    done = cli("eval", *seeds, "--ensemble", "--json", cwd=seeds[0].parent)

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert list(result) == ["split", "count", "members", "ensemble"]
    assert (result["split"], result["count"]) == ("test", 180)
    members, acc, loss = _oracle(seeds)
    assert [m["run"] for m in result["members"]] == [str(run) for run in seeds]
    for member, (member_acc, member_loss) in zip(result["members"], members, strict=True):
        assert list(member) == ["run", "acc", "loss"]
        assert member["acc"] == pytest.approx(member_acc, abs=1e-12)
        assert member["loss"] == pytest.approx(member_loss, rel=1e-5)
    assert list(result["ensemble"]) == ["acc", "loss"]
    assert result["ensemble"]["acc"] == pytest.approx(acc, abs=1e-12)
    assert result["ensemble"]["loss"] == pytest.approx(loss, rel=1e-5)


def test_the_table_names_each_member_the_mean_and_the_ensemble(cli: Cli, seeds: list[Path]) -> None:
    done = cli("eval", *seeds[:2], "--ensemble", cwd=seeds[0].parent)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "ensemble of 2 runs on the test split of digits (180 samples, split seed 0)"
    assert [line.split()[0] for line in lines[2:4]] == [str(run) for run in seeds[:2]]
    assert lines[4].startswith("mean member") and lines[5].startswith("ensemble")
    assert "points from the mean member" in lines[6]


def _refused(cli: Cli, runs: list[Path]) -> str:
    done = cli("eval", *runs, "--ensemble", cwd=runs[0].parent)
    assert done.returncode == 1, done.stdout
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    return line


def test_another_dataset_is_refused_by_name(cli: Cli, seeds: list[Path]) -> None:
    moons = _train(cli, seeds[0].parent / "moons", "--dataset", "moons", "--epochs", 1)
    line = _refused(cli, [seeds[0], moons])
    assert f"{seeds[0]} and {moons}: different datasets (digits, moons)" in line


def test_another_split_seed_is_refused_by_name(cli: Cli, seeds: list[Path]) -> None:
    other = _train(cli, seeds[0].parent / "split1", *DIGITS, "--split-seed", 1)
    line = _refused(cli, [seeds[0], seeds[1], other])
    assert f"{seeds[0]} and {other}: different split seeds (0, 1)" in line


def test_another_input_shape_is_refused_by_name(cli: Cli, tmp_path: Path) -> None:
    runs = []
    for side in (8, 6):
        images, labels = images_and_labels(60, seed=side, shape=(side, side))
        files = [
            "--idx-images",
            write_idx(tmp_path / f"images{side}", images),
            "--idx-labels",
            write_idx(tmp_path / f"labels{side}", labels),
        ]
        runs.append(_train(cli, tmp_path / f"idx{side}", "--dataset", "idx", *files, "--epochs", 1))
    line = _refused(cli, runs)
    assert (
        f"{runs[0]} and {runs[1]}: different input shapes "
        "(64 inputs and 10 classes, 36 inputs and 10 classes)" in line
    )


def test_several_runs_without_ensemble_is_a_usage_error(cli: Cli, seeds: list[Path]) -> None:
    done = cli("eval", *seeds[:2], cwd=seeds[0].parent)
    assert done.returncode == 2
    assert "several runs: only with --ensemble" in done.stderr


def test_an_ensemble_of_one_is_refused(cli: Cli, seeds: list[Path]) -> None:
    done = cli("eval", seeds[0], "--ensemble", cwd=seeds[0].parent)
    assert done.returncode == 1
    assert "an ensemble needs at least two runs" in done.stderr


# --- the suite of seeds and the sweep summary -----------------------------------------------


def test_the_suite_ensemble_trains_three_seeds_then_their_ensemble(
    cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "suite"
    done = cli(
        "suite", "ensemble", "--dataset", "digits", "--limit", 100, "--epochs", 1, "--out", out,
        cwd=tmp_path,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    runs = [out / f"baseline-seed{seed}" for seed in range(3)]
    assert sorted(p.name for p in out.iterdir()) == [run.name for run in runs]
    for seed, run in enumerate(runs):
        config = load_run(run).config
        assert (config.preset, config.train.seed, config.data.split_seed) == (
            "baseline (edited)",
            seed,
            0,
        )
    _, ensemble = done.stdout.split("== suite ensemble: ensemble ==")
    score = evaluate_ensemble(runs)
    assert f"ensemble of 3 runs on the test split of digits ({score.count} samples" in ensemble
    assert [line.split()[-2] for line in ensemble.splitlines()[3:6]] == [
        fmt_acc(member.acc) for member in score.members
    ]
    assert ensemble.splitlines()[7].split()[1:] == [fmt_acc(score.acc), fmt_loss(score.loss)]


def test_the_suite_of_seeds_refuses_a_seed(cli: Cli, tmp_path: Path) -> None:
    done = cli("suite", "ensemble", "--dataset", "digits", "--seed", 3, cwd=tmp_path)
    assert done.returncode == 2
    assert "--seed: the suite ensemble sets the seeds (0, 1, 2)" in done.stderr


def test_the_sweep_summary_evaluates_each_point_s_seeds_as_one_ensemble(
    seeds: list[Path],
) -> None:
    root = seeds[0].parent
    entries = [
        {"dir": run.name, "values": {"lr": "0.01", "seed": str(seed)}, "status": "completed"}
        for seed, run in enumerate(seeds)
    ] + [
        {"dir": "gone", "values": {"lr": "0.1", "seed": "0"}, "status": "completed"},
        {"dir": "failed", "values": {"lr": "0.1", "seed": "1"}, "status": "failed"},
    ]
    rows = {row.values["lr"]: row for row in with_ensembles(root, summarize(entries))}

    assert rows["0.01"].members == tuple(run.name for run in seeds)
    assert rows["0.01"].ensemble == evaluate_ensemble(seeds).acc
    assert rows["0.1"].ensemble is None  # one member that ran its course (and no folder)
    out = io.StringIO()
    print_summary(list(rows.values()), ["lr", "seed"], Console(file=out, width=120))
    header, *_ = (line for line in out.getvalue().splitlines() if "lr" in line)
    assert "ensemble test acc" in header
    assert fmt_acc(evaluate_ensemble(seeds).acc) in out.getvalue()


@pytest.mark.e2e
def test_a_sweep_over_seeds_prints_each_point_s_ensemble(tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    done = run_cli(
        "sweep", "--dataset", "digits", "--limit", 100, "--epochs", 1, "--hidden", 8,
        "--grid", "seed=0,1", "--jobs", 2, "--out", root, cwd=tmp_path,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    runs = sorted(path for path in root.iterdir() if path.is_dir())
    assert len(runs) == 2
    _, comparison = done.stdout.split("comparison")
    assert "ensemble test acc" in comparison
    assert fmt_acc(evaluate_ensemble(runs).acc) in comparison
