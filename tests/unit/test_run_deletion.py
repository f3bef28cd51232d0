"""Deleting a run from the runs list checks again at the moment of deletion: no symlink is
followed, no live run is deleted, nothing outside the runs folder is touched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dnn_tui.rundir.catalog import DeleteRefused, delete_run
from dnn_tui.rundir.liveness import LIVENESS_FILE, current
from tests.helpers.run_files import a_run, make_running


def test_a_finished_run_and_its_emptied_suite_folder_are_deleted(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    run = a_run(root / "suite" / "baseline")
    other = a_run(root / "suite2" / "a")
    a_run(root / "suite2" / "b")
    delete_run(root, "suite/baseline")
    assert not run.exists() and not (root / "suite").exists() and root.is_dir()
    delete_run(root, "suite2/a")
    assert not other.exists() and (root / "suite2" / "b").is_dir()


def test_a_folder_swapped_for_a_link_is_never_followed(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    outside = a_run(tmp_path / "precious")
    run = a_run(root / "suite" / "baseline")
    shutil.rmtree(run)
    run.symlink_to(outside)  # the swap between the question and the answer
    with pytest.raises(DeleteRefused, match="symbolic link"):
        delete_run(root, "suite/baseline")
    assert (outside / "history.json").is_file() and run.is_symlink()
    # A suite folder swapped for a link is refused too.
    shutil.rmtree(root / "suite")
    (root / "suite").symlink_to(tmp_path)
    with pytest.raises(DeleteRefused, match="symbolic link"):
        delete_run(root, "suite/precious")
    assert (outside / "history.json").is_file()


def test_a_run_that_started_meanwhile_is_never_deleted(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    run = a_run(root / "suite" / "baseline")
    make_running(run)
    with pytest.raises(DeleteRefused, match="running: stop it first"):
        delete_run(root, "suite/baseline")
    assert (run / "history.json").is_file()
    # Only its claim so far (it is loading its data): running as well.
    claimed = root / "claimed"
    claimed.mkdir()
    (claimed / LIVENESS_FILE).write_text(current().to_json())
    with pytest.raises(DeleteRefused, match="running"):
        delete_run(root, "claimed")
    assert claimed.is_dir()


@pytest.mark.parametrize("name", ["", ".", "..", "../runs2", "suite/../..", "/etc"])
def test_names_that_leave_the_runs_folder_are_refused(tmp_path: Path, name: str) -> None:
    root = tmp_path / "runs"
    a_run(root / "suite" / "baseline")
    with pytest.raises(DeleteRefused):
        delete_run(root, name)
    assert (root / "suite" / "baseline" / "history.json").is_file()
