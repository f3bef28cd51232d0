"""A sweep folder is claimed exclusively, as a run directory is: two sweeps started together on
the same ``--out`` never share it."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from dnn_tui import cli
from dnn_tui.sweeps.planning import SWEEP_FILE, SweepClaimError, claim_sweep_dir

STATE = {"schema": 1, "status": "running", "grid": {}, "runs": []}


def claim_together(root: Path, sweeps: int) -> list[bool]:
    """``sweeps`` threads claim root at the same moment; which of them got it."""
    barrier = threading.Barrier(sweeps)
    won = [False] * sweeps

    def claim(i: int) -> None:
        barrier.wait()
        try:
            claim_sweep_dir(root, {**STATE, "who": i})
        except SweepClaimError:
            return
        won[i] = True

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(sweeps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won


@pytest.mark.parametrize("exists", [False, True])
def test_of_sweeps_started_together_one_claims_the_folder(tmp_path: Path, exists: bool) -> None:
    for attempt in range(20):
        root = tmp_path / f"out{attempt}" / "sweep"
        if exists:
            root.mkdir(parents=True)
        won = claim_together(root, 6)
        assert won.count(True) == 1, won
        assert json.loads((root / SWEEP_FILE).read_text())["who"] == won.index(True)


def test_a_claimed_or_used_folder_is_refused_by_name(tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    claim_sweep_dir(root, STATE)
    with pytest.raises(SweepClaimError, match="another sweep claimed it"):
        claim_sweep_dir(root, STATE)
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    with pytest.raises(SweepClaimError, match="new or empty folder"):
        claim_sweep_dir(used, STATE)
    assert sorted(p.name for p in used.iterdir()) == ["notes.txt"]  # its claim taken back
    (tmp_path / "file").write_text("")
    with pytest.raises(SweepClaimError, match="new or empty folder"):
        claim_sweep_dir(tmp_path / "file", STATE)


def test_the_sweep_command_refuses_a_folder_another_sweep_claimed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    claim_sweep_dir(tmp_path / "shared", STATE)
    code = cli.main(["sweep", "--dataset", "moons", "--grid", "lr=0.1,0.2", "--out", "shared"])
    assert code == 1
    assert "shared: --out must be a new or empty folder" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "shared").iterdir()] == [SWEEP_FILE]
