"""A sweep's grid is counted before it is expanded: over the limit (10,000 runs, ``--max-runs``
up to 100,000) it is a usage error naming the count and the limit, and nothing is made."""

from __future__ import annotations

from pathlib import Path

import pytest

from dnn_tui import cli
from dnn_tui.sweeps import planning
from dnn_tui.sweeps.planning import Axis, GridTooLarge, check_grid_size


def values(count: int, form: str) -> str:
    return ",".join(form.format(i) for i in range(count))


@pytest.fixture
def never_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_axes: object) -> None:
        raise AssertionError("the grid was expanded before it was counted")

    monkeypatch.setattr(planning.itertools, "product", refuse)


def test_a_billion_runs_are_refused_before_anything_is_allocated(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    never_expanded: None,
) -> None:
    monkeypatch.chdir(tmp_path)
    grid = [
        "--grid",
        f"seed={values(1000, '{}')}",
        "--grid",
        f"lr={values(1000, '0.{:04d}1')}",
        "--grid",
        f"epochs={values(1000, '{}1')}",
    ]
    assert cli.main(["sweep", "--dataset", "moons", *grid]) == 2
    err = capsys.readouterr().err
    assert "the grid makes 1,000,000,000 runs, more than the limit of 10,000" in err, err
    assert "--max-runs" in err
    assert not (tmp_path / "runs").exists()


def test_max_runs_sets_the_limit_within_its_range(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    never_expanded: None,
) -> None:
    monkeypatch.chdir(tmp_path)
    grid = ["--dataset", "moons", "--grid", "lr=0.1,0.2,0.3"]
    assert cli.main(["sweep", *grid, "--max-runs", "2"]) == 2
    assert "the grid makes 3 runs, more than the limit of 2" in capsys.readouterr().err
    for wrong in ("0", "100001", "-5"):
        assert cli.main(["sweep", *grid, "--max-runs", wrong]) == 2
        assert "--max-runs: must be 1 to 100,000" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_a_sweep_file_s_grid_is_counted_too(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    never_expanded: None,
) -> None:
    monkeypatch.chdir(tmp_path)
    seeds = ", ".join(map(str, range(200)))
    epochs = ", ".join(map(str, range(1, 61)))
    grid = f"[grid]\nseed = [{seeds}]\nepochs = [{epochs}]\n"
    (tmp_path / "big.toml").write_text(f'[data]\ndataset = "moons"\n{grid}')
    assert cli.main(["sweep", "big.toml"]) == 2
    assert "the grid makes 12,000 runs, more than the limit of 10,000" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_the_count_is_the_product_of_the_value_counts() -> None:
    axes = [Axis(f"a{i}", tuple(map(str, range(10)))) for i in range(4)]
    assert check_grid_size(3, axes, limit=30_000) == 30_000  # at the limit: allowed
    with pytest.raises(GridTooLarge, match="30,000 runs, more than the limit of 29,999"):
        check_grid_size(3, axes, limit=29_999)
    huge = [Axis(f"a{i}", ("1", "2")) for i in range(200)]
    with pytest.raises(GridTooLarge, match=r"about 10\^60 runs"):
        check_grid_size(1, huge)
