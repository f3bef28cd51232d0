"""``dnn-tui eval RUN --confusion [--counts] [--json]``: the matrix in 80 columns, per-class
accuracy and the most confused pairs, from evaluation.json or from the saved weights."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dnn_tui.training.numbers import fmt_acc
from tests.helpers.cli import Cli

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "errors-digits"


@pytest.fixture
def run(tmp_path: Path) -> Path:
    path = tmp_path / "digits-run"
    shutil.copytree(FIXTURE, path)
    return path


def test_the_report_fits_80_columns_and_names_the_most_confused_pairs(cli: Cli, run: Path) -> None:
    done = cli("eval", run.name, "--confusion", cwd=run.parent)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    stored = json.loads((run / "evaluation.json").read_text())
    top = stored["most_confused"][0]
    assert f"  {top['true']} -> {top['pred']}  x{top['count']}" in lines
    assert "(evaluation.json)" in done.stdout
    # a row per class, the diagonal bracketed, the class's accuracy at its end
    (row_1,) = [line for line in lines if line.startswith("   1 ")]
    right = stored["confusion"][1][1] / sum(stored["confusion"][1])
    assert f"[{round(100 * right):>3}]" in row_1
    assert row_1.split()[-2] == fmt_acc(stored["per_class_acc"][1])


def test_counts_show_the_matrix_s_counts(cli: Cli, run: Path) -> None:
    done = cli("eval", run.name, "--confusion", "--counts", cwd=run.parent)
    stored = json.loads((run / "evaluation.json").read_text())
    (row_0,) = [line for line in done.stdout.splitlines() if line.startswith("   0 ")]
    assert f"[{stored['confusion'][0][0]:>2}]" in row_0
    assert all(len(line) <= 80 for line in done.stdout.splitlines())


def test_json_prints_evaluation_json_s_fields(cli: Cli, run: Path) -> None:
    done = cli("eval", run, "--confusion", "--json", cwd=run.parent)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads((run / "evaluation.json").read_text())


def test_a_run_without_evaluation_json_is_evaluated_from_its_weights(cli: Cli, run: Path) -> None:
    stored = json.loads((run / "evaluation.json").read_text())
    (run / "evaluation.json").unlink()
    done = cli("eval", run, "--confusion", "--json", cwd=run.parent)
    assert done.returncode == 0, done.stderr
    computed = json.loads(done.stdout)
    assert computed["confusion"] == stored["confusion"]
    assert [m["index"] for m in computed["worst"]] == [m["index"] for m in stored["worst"]]
    assert computed["acc"] == stored["acc"]
    text = cli("eval", run, "--confusion", cwd=run.parent).stdout
    assert "(computed from the saved weights)" in text


def test_a_run_without_weights_or_evaluation_says_why(cli: Cli, run: Path) -> None:
    (run / "evaluation.json").unlink()
    (run / "model.safetensors").unlink()
    done = cli("eval", run.name, "--confusion", cwd=run.parent)
    assert done.returncode == 1
    assert "no evaluation.json and no model.safetensors" in done.stderr


def test_a_damaged_evaluation_is_named(cli: Cli, run: Path) -> None:
    (run / "evaluation.json").write_text('{"schema": 1}')
    done = cli("eval", run.name, "--confusion", cwd=run.parent)
    assert done.returncode == 1
    assert "evaluation.json: split: missing" in done.stderr


def test_json_or_counts_alone_is_a_usage_error(cli: Cli, run: Path) -> None:
    done = cli("eval", run, "--json", cwd=run.parent)
    assert done.returncode == 2
    assert "--json: only with --ensemble or --confusion" in done.stderr
    done = cli("eval", run, "--counts", cwd=run.parent)
    assert done.returncode == 2
    assert "--counts: only with --confusion" in done.stderr
    done = cli("eval", run, run, "--confusion", cwd=run.parent)
    assert done.returncode == 2
    assert "--confusion: one run" in done.stderr


def test_compare_per_class_puts_the_runs_side_by_side(cli: Cli, run: Path) -> None:
    old = run.parent / "old-run"
    shutil.copytree(run, old)
    (old / "evaluation.json").unlink()
    damaged = run.parent / "damaged-run"
    shutil.copytree(run, damaged)
    (damaged / "evaluation.json").write_text("{")
    done = cli("compare", run, old, damaged, "--per-class", cwd=run.parent)
    stored = json.loads((run / "evaluation.json").read_text())
    rows = {line.split()[1]: line.split()[3:-1] for line in done.stdout.splitlines() if "│" in line}
    assert rows["3"][0] == fmt_acc(stored["per_class_acc"][3])
    assert rows["3"][2] == rows["3"][4] == "-"  # no evaluation.json; a damaged one
    assert rows["all"][0] == fmt_acc(stored["acc"])
    assert "no evaluation.json" in done.stdout and "old-run" in done.stdout
    assert done.returncode == 1
    assert "damaged-run/evaluation.json: not valid JSON" in done.stderr
