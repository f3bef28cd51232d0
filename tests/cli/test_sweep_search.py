"""``dnn-tui sweep --search``: trials sampled by a real Optuna study in the sweep folder, pruned
from the runs' own event streams, resumed after a SIGKILL of the driver; and what mattered
(``compare SWEEP_DIR --importance``)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from pathlib import Path

import optuna
import pytest

from dnn_tui.cli import main
from dnn_tui.rundir.liveness import is_alive, read_liveness
from dnn_tui.sweeps.planning import SWEEP_FILE
from dnn_tui.sweeps.space import parse_dimension
from tests.helpers.cli import (
    epochs_done,
    read_history,
    run_cli,
    run_in_process,
    start_cli,
)
from tests.helpers.waiting import wait_for

DIGITS = ("--dataset", "digits", "--limit", 400)
ENDED = ("completed", "early_stopped")
SPACE = ("--space", "lr=log:1e-4..1e-1", "--space", "hidden=choice:32/16,16/none")


def state_of(root: Path) -> dict:
    return json.loads((root / SWEEP_FILE).read_text())


def study_of(root: Path) -> optuna.Study:
    return optuna.load_study(study_name="sweep", storage=f"sqlite:///{root / 'study.db'}")


def check_inside_space(root: Path) -> None:
    """Every run's values inside the space, its config made of them, its status recorded."""
    state = state_of(root)
    dims = [parse_dimension(f"{k}={v}") for k, v in state["space"].items()]
    for entry in state["runs"]:
        for dim in dims:
            assert dim.contains(entry["values"][dim.name]), entry
        if entry["status"] != "interrupted":
            history = read_history(root / entry["dir"])
            assert history["status"] == entry["status"]
            assert history["config"]["train"]["lr"] == float(entry["values"]["lr"])


# --- refused before anything starts ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--space", "epoch=int:1..3"), "--space epoch: not a run option; did you mean 'epochs'"),
        (("--space", "lr=log:0..1"), "--space lr: log: LO must be above 0"),
        (("--space", "lr=float:0.5..0.1"), "--space lr: float: LO must not be above HI"),
        (("--space", "batch_size=int:1..2.5"), "--space batch_size: int: bounds must be integers"),
        (("--space", "activation=choice:relu,swish"), "--space activation:"),
        (("--space", "lr=log:1e-3..1e-1", "--lr", "0.1"), "--space lr: also given as --lr"),
        (("--space", "lr=log:1e-3..1e-1", "--grid", "seed=0,1"), "give no --grid"),
    ],
)
def test_a_bad_space_is_refused_by_key_and_rule(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["sweep", "--dataset", "moons", "--search", "tpe", "--trials", "3", *args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err, err
    assert not (tmp_path / "runs").exists()  # nothing made


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--search", "tpe", "--space", "lr=log:1e-3..1e-1"), "--trials: give the runs"),
        (("--space", "lr=log:1e-3..1e-1", "--trials", "2"), "give --search random or"),
        (("--grid", "lr=0.1,0.2", "--prune", "median"), "--prune and --trials: only with"),
    ],
)
def test_a_search_needs_its_parts(args, message, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "--dataset", "moons", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_sweep_file_space_is_checked_by_file_and_key(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lesson.toml").write_text('[space]\nlr = "log:1e-1..1e-3"\n')
    assert main(["sweep", "lesson.toml", "--search", "random", "--trials", "2"]) == 1
    assert "lesson.toml: space.lr: log: LO must not be above HI" in capsys.readouterr().err


def test_resume_refuses_a_new_plan_and_a_folder_that_is_no_sweep(tmp_path, capsys) -> None:
    assert main(["sweep", "--resume", str(tmp_path), "--grid", "lr=0.1,0.2"]) == 2
    assert "--resume goes on with the sweep as planned" in capsys.readouterr().err
    assert main(["sweep", "--resume", str(tmp_path)]) == 1
    assert "not a sweep folder" in capsys.readouterr().err


# --- real searches --------------------------------------------------------------------------


@pytest.mark.e2e
def test_a_random_search_with_median_pruning_then_what_mattered(tmp_path: Path) -> None:
    root = tmp_path / "search"
    args = ("--search", "random", "--trials", 3, "--prune", "median", "--jobs", 1)
    # Seed 3 draws lr 0.0045 and 0.048 with a hidden layer, then 0.00014 without: the third
    # trial lags the two the median pruner waits for, and is judged from epoch 30 (warmup).
    # Epochs take milliseconds: enough of them after it for the stop to reach the run. One
    # job at a time: two at once, the fast third trial could end before the second, and the
    # pruner judges no trial before two have finished (the searches on Ray and the killed
    # search run two at once).
    long = ("--epochs", 120, "--batch-size", 8, "--seed", 3)
    done = run_cli("sweep", *DIGITS, *long, *SPACE, *args, "--out", root, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "sweep of 3 trials (random)" in done.stdout
    state = state_of(root)
    assert (state["search"], state["trials"], state["prune"]) == ("random", 3, "median")
    assert state["space"] == {"lr": "log:0.0001..0.1", "hidden": "choice:32/16,16/none"}
    assert state["status"] == "completed" and len(state["runs"]) == 3
    check_inside_space(root)
    trials = {t.number: t for t in study_of(root).trials}
    assert len(trials) == 3
    for entry in state["runs"]:
        trial = trials[entry["trial"]]
        assert trial.params["lr"] == pytest.approx(float(entry["values"]["lr"]), rel=1e-5)
        if entry["status"] == "pruned":
            assert trial.state == optuna.trial.TrialState.PRUNED
            history = read_history(root / entry["dir"])
            assert 30 <= entry["pruned_at"] == len(history["epochs"]) < 120
            assert (root / entry["dir"] / "model.safetensors").is_file()  # its best weights
            assert f"{entry['dir']}: pruned at epoch {entry['pruned_at']}" in done.stdout
        else:
            assert trial.state == optuna.trial.TrialState.COMPLETE
            assert trial.value == pytest.approx(entry["best_val_loss"])
    assert [entry["status"] for entry in state["runs"]] == ["completed", "completed", "pruned"]

    shown = run_in_process("compare", root, "--importance", "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    result = json.loads(shown.stdout)
    assert set(result["importance"]) == {"lr", "hidden"}
    assert sum(result["importance"].values()) == pytest.approx(1.0)
    figure = run_in_process("compare", root, "--importance", cwd=tmp_path)
    assert "What mattered" in figure.stdout and "best val loss" in figure.stdout


def _kill_driver_mid_sweep(driver: subprocess.Popen, root: Path, upto: int) -> list[str]:
    """SIGKILL the driver once a run ended and another finished 1 to ``upto`` epochs (far
    from its end); the runs still going."""

    def one_ended_one_going() -> bool:
        assert driver.poll() is None, driver.communicate()
        try:
            runs = state_of(root)["runs"]
        except (OSError, ValueError):
            return False
        ended = [e for e in runs if e["status"] in ENDED]
        going = [
            e
            for e in runs
            if e["status"] == "running" and 1 <= epochs_done(root / e["dir"]) <= upto
        ]
        return bool(ended and going)

    wait_for(one_ended_one_going, "a run ended and another going", timeout=240)
    driver.kill()
    driver.wait()
    return [e["dir"] for e in state_of(root)["runs"] if e["status"] == "running"]


@pytest.mark.e2e
def test_a_search_killed_with_its_runs_resumes_to_its_trials_each_done_once(
    tmp_path: Path,
) -> None:
    """A reboot: the driver and its runs die; the interrupted trials are asked anew."""
    root = tmp_path / "search"
    args = ("--search", "tpe", "--trials", 3, "--jobs", 2, "--epochs", 100, "--batch-size", 8)
    driver = start_cli("sweep", *DIGITS, *SPACE, *args, "--out", root, cwd=tmp_path)
    try:
        going = _kill_driver_mid_sweep(driver, root, 50)
    finally:
        driver.kill()
    for name in going:  # the runs die with it
        record = read_liveness(root / name)
        assert record is not None
        with contextlib.suppress(ProcessLookupError):  # one that ended just now
            os.kill(record.pid, signal.SIGKILL)
        wait_for(lambda n=name: not is_alive(root / n), "the run's process gone")
    going = [name for name in going if read_history(root / name)["status"] == "running"]
    assert going  # the run halfway through at least
    finished = {
        e["dir"]: (root / e["dir"] / "history.json").stat().st_mtime_ns
        for e in state_of(root)["runs"]
        if e["status"] in ENDED
    }
    refused = run_in_process("sweep", "--resume", root, "--epochs", 5, cwd=tmp_path)
    assert refused.returncode == 2 and "give no plan (--epochs)" in refused.stderr
    done = run_in_process("sweep", "--resume", root, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "resuming:" in done.stdout
    state = state_of(root)
    counted = [e for e in state["runs"] if e["status"] != "interrupted"]
    assert len(counted) == 3 and all(e["status"] in ENDED for e in counted)
    assert [e["dir"] for e in state["runs"] if e["status"] == "interrupted"] == going
    assert len({e["trial"] for e in state["runs"]}) == len(state["runs"])  # none run twice
    for name, mtime in finished.items():  # a finished trial is never run again
        assert (root / name / "history.json").stat().st_mtime_ns == mtime
    check_inside_space(root)
    states = [t.state for t in study_of(root).trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) == 3
    assert states.count(optuna.trial.TrialState.FAIL) == len(going)


@pytest.mark.e2e
def test_a_grid_killed_mid_sweep_resumes_following_its_runs_still_going(tmp_path: Path) -> None:
    """Only the driver dies (SIGKILL): the run it left going is followed to its end, not
    started again; the points not started run; a finished one is not run again. The points
    around the one killed mid-way are short."""
    root = tmp_path / "grid"
    grid = ("--hidden", 16, "--grid", "epochs=10,150,12", "--jobs", 1, "--batch-size", 8)
    driver = start_cli("sweep", *DIGITS, *grid, "--out", root, cwd=tmp_path)
    try:
        going = _kill_driver_mid_sweep(driver, root, 40)  # 110 epochs left to find it going
    finally:
        driver.kill()
    assert going == ["2-epochs=150"]
    first = (root / "1-epochs=10" / "history.json").stat().st_mtime_ns
    done = run_in_process("sweep", "--resume", root, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "resuming: 1 runs still going (followed)" in done.stdout
    state = state_of(root)
    names = ["1-epochs=10", "2-epochs=150", "3-epochs=12"]
    assert [e["dir"] for e in state["runs"]] == names
    assert all(e["status"] in ENDED for e in state["runs"])
    assert [e["epochs"] for e in state["runs"]] == [10, 150, 12]  # the followed run whole
    assert (root / "1-epochs=10" / "history.json").stat().st_mtime_ns == first
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == [e["dir"] for e in state["runs"]]
    for entry in state["runs"]:
        assert read_history(root / entry["dir"])["status"] == entry["status"]


@pytest.mark.e2e
def test_a_tpe_search_with_pruning_on_a_local_ray(tmp_path, monkeypatch, capsys) -> None:
    """The same search as Ray tasks: the epoch ends come back from the workers through the
    sweep's flag actor, a pruned trial's task stops its run as pruned."""
    ray = pytest.importorskip("ray")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    root = tmp_path / "search"
    args = ("--search", "tpe", "--trials", 3, "--prune", "median", "--jobs", 2, "--ray")
    long = ("--epochs", 30, "--batch-size", 8)
    try:
        code = main(["sweep", *map(str, (*DIGITS, *long, *SPACE, *args)), "--out", str(root)])
    finally:
        ray.shutdown()
    out = capsys.readouterr()
    assert code == 0, out.err
    state = state_of(root)
    assert state["backend"] == "ray" and state["status"] == "completed"
    assert len(state["runs"]) == 3
    assert all(e["status"] in (*ENDED, "pruned") for e in state["runs"])
    check_inside_space(root)
    told = {t.number: t.state.name for t in study_of(root).trials}
    assert sorted(told) == sorted(e["trial"] for e in state["runs"])
    for entry in state["runs"]:
        assert told[entry["trial"]] == ("PRUNED" if entry["status"] == "pruned" else "COMPLETE")
