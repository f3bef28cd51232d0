"""``dnn-tui eval RUN --trace [--sample K] [--split S] [--json]``: one sample's pass through
the kept weights, equal to autograd's, written out node by node in 80 columns."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from dnn_tui.analysis.restore import restore_run
from tests.helpers.cli import Cli
from tests.helpers.trace_oracle import assert_equal_to_autograd

TINY_MOONS = ("--dataset", "moons", "--hidden", "8,8", "--activation", "tanh", "--epochs", 2)
"""The 2-8-8-2 tanh network on the moons: every number of its pass fits a screen."""


@pytest.fixture(scope="module", params=[False, True], ids=["plain", "batchnorm"])
def tiny_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.helpers.cli import run_in_process

    where = tmp_path_factory.mktemp("trace")
    extra = ("--batchnorm",) if request.param else ()
    done = run_in_process("train", *TINY_MOONS, *extra, "--out", where / "run", cwd=where)
    assert done.returncode == 0, done.stderr
    return where / "run"


@pytest.mark.parametrize(("split", "sample"), [("test", 0), ("train", 7)])
def test_json_equals_autograd_on_the_kept_weights(
    cli: Cli, tiny_run: Path, split: str, sample: int
) -> None:
    done = cli(
        "eval",
        tiny_run,
        "--trace",
        "--split",
        split,
        "--sample",
        sample,
        "--json",
        cwd=tiny_run.parent,
    )
    assert done.returncode == 0, done.stderr
    traced = json.loads(done.stdout)
    assert (traced["split"], traced["sample"]) == (split, sample)
    restored = restore_run(tiny_run)
    x = {"test": restored.data.x_test, "train": restored.data.x_train}[split][sample]
    y = {"test": restored.data.y_test, "train": restored.data.y_train}[split][sample]
    assert traced["label"] == int(y)
    assert traced["input"] == pytest.approx(x.tolist())
    assert_equal_to_autograd(traced, restored.model, x)  # type: ignore[arg-type]


def test_the_text_shows_every_number_and_the_chain_rule(cli: Cli, tiny_run: Path) -> None:
    done = cli("eval", tiny_run, "--trace", "--sample", 2, cwd=tiny_run.parent)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    again = cli("eval", tiny_run, "--trace", "--sample", 2, "--json", cwd=tiny_run.parent)
    traced = json.loads(again.stdout)
    assert "eval mode" in done.stdout
    fc2 = next(node for node in traced["nodes"] if node["name"] == "fc2")
    assert sum("[" in line for line in lines) >= len(fc2["grad_weight"])  # every row shown
    (rule,) = [i for i, line in enumerate(lines) if line.startswith("the chain rule")]
    rule_text, upstream, local, result = lines[rule + 2 : rule + 6]
    assert "upstream × local" in rule_text and "p[" in upstream and "x[" in local
    factors = result.split(" = ")[1].split(" × ")
    product = float(result.split(" = ")[-1])
    assert product == pytest.approx(float(factors[0]) * float(factors[1]), abs=1e-3)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--trace", "--sample", "100000"), "--sample: must be from 0 to"),
        (("--trace", "--sample", "-1"), "--sample: must be 0 or more"),
        (("--trace", "--split", "holdout"), "--split: must be one of test, val, train"),
        (("--sample", "3"), "--sample: only with --trace"),
        (("--split", "val"), "--split: only with --trace"),
        (("--trace", "--confusion"), "--trace: one run"),
    ],
)
def test_bad_trace_options_exit_2_naming_the_option(
    cli: Cli, tiny_run: Path, args: tuple[str, ...], said: str
) -> None:
    done = cli("eval", tiny_run, *args, cwd=tiny_run.parent)
    assert done.returncode == 2
    assert said in done.stderr
    assert "Traceback" not in done.stderr


def test_weights_that_diverged_give_nulls_not_a_failure(
    cli: Cli, tiny_run: Path, tmp_path: Path
) -> None:
    from safetensors.torch import load_file, save_file

    run = tmp_path / "diverged"
    shutil.copytree(tiny_run, run)
    weights = load_file(run / "model.safetensors")
    weights["fc1.weight"][0, 0] = math.nan
    save_file(weights, run / "model.safetensors")
    done = cli("eval", run, "--trace", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    traced = json.loads(done.stdout)
    assert traced["loss"] is None and traced["nodes"][0]["output"][0] is None
