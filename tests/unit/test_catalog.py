"""Finding runs: run directories at any depth up to the limit, their statuses (interrupted when
the process is gone), damaged ones listed with the reason, and rescans that read only changes."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from dnn_tui.rundir import catalog
from dnn_tui.rundir.catalog import MAX_DEPTH, RunCatalog, find_run_dirs, list_runs
from dnn_tui.rundir.liveness import LIVENESS_FILE, Liveness, current, hostname
from tests.helpers.run_files import dead_pid, make_run

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "regularization-mnist"


def write_liveness(run: Path, record: Liveness) -> None:
    (run / LIVENESS_FILE).write_text(record.to_json())


def test_runs_are_found_in_suites_and_sweeps_up_to_the_depth_limit(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    found = {
        make_run(root / "20250101-120000-baseline"),
        make_run(root / "20250102-suite-regularization" / "l2", "l2"),
        make_run(root / "20250102-suite-regularization" / "dropout", "dropout"),
        make_run(root / "sweep" / "lr=0.1" / "seed=0"),
        make_run(root.joinpath(*[f"d{i}" for i in range(MAX_DEPTH - 1)], "deepest")),
    }
    make_run(root.joinpath(*[f"d{i}" for i in range(MAX_DEPTH)], "too-deep"))
    make_run(root / ".trash" / "old")
    (root / "empty").mkdir()
    (root / "link").symlink_to(root / "20250102-suite-regularization")
    only_config = root / "starting"
    only_config.mkdir()
    shutil.copy(FIXTURES / "baseline" / "config.toml", only_config)
    found.add(only_config)

    assert set(find_run_dirs(root)) == found
    assert list(find_run_dirs(root / "sweep" / "lr=0.1" / "seed=0")) == [
        root / "sweep" / "lr=0.1" / "seed=0"
    ]
    assert list(find_run_dirs(tmp_path / "nowhere")) == []


def test_entries_show_what_the_list_needs(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs" / "20250101-suite-regularization" / "bottleneck", "bottleneck")
    (entry,) = list_runs(tmp_path / "runs")
    history = json.loads((run / "history.json").read_text())
    epochs = history["epochs"]
    assert entry.name == os.path.join("20250101-suite-regularization", "bottleneck")
    assert (entry.preset, entry.dataset, entry.status) == ("bottleneck", "idx", "completed")
    assert (entry.epochs, entry.planned) == (20, 20)
    best = next(record for record in epochs if record["epoch"] == history["best_epoch"])
    assert (entry.best_epoch, entry.best_val_acc) == (history["best_epoch"], best["val_acc"])
    assert entry.max_val_acc == max(record["val_acc"] for record in epochs)
    assert entry.test_acc == history["test"]["acc"]
    assert entry.gap == pytest.approx(epochs[-1]["train_acc"] - epochs[-1]["val_acc"])
    assert entry.modified == pytest.approx((run / "history.json").stat().st_mtime)
    as_json = entry.to_json(now=entry.modified + 90)
    assert as_json["age_s"] == pytest.approx(90)
    assert as_json["status"] == "completed" and as_json["problem"] is None


def test_a_running_run_whose_process_is_gone_is_interrupted(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    alive = make_run(root / "alive", status="running")
    write_liveness(alive, current())
    dead = make_run(root / "dead", status="running")
    now = time.time()
    write_liveness(dead, Liveness(dead_pid(), hostname(), now, now))
    make_run(root / "no-record", status="running")
    far = make_run(root / "far-stale", status="running")
    write_liveness(far, Liveness(1, "another-host", now - 600, now - 600))
    statuses = {entry.name: entry.status for entry in list_runs(root)}
    assert statuses == {
        "alive": "running",
        "dead": "interrupted",
        "no-record": "interrupted",
        "far-stale": "interrupted",
    }


def test_a_just_started_run_without_history_is_running(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "new"
    run.mkdir(parents=True)
    shutil.copy(FIXTURES / "baseline" / "config.toml", run)
    write_liveness(run, current())
    (entry,) = list_runs(tmp_path / "runs")
    assert (entry.status, entry.epochs) == ("running", 0)
    (run / LIVENESS_FILE).unlink()
    (entry,) = list_runs(tmp_path / "runs")
    assert (entry.status, entry.preset, entry.dataset, entry.planned) == (
        "interrupted",
        "baseline",
        "idx",
        20,
    )
    assert entry.problem is None


def test_a_run_gone_before_its_history_is_interrupted(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    claimed = root / "claimed-only"  # the claim alone: the process went while loading data
    claimed.mkdir(parents=True)
    now = time.time()
    write_liveness(claimed, Liveness(dead_pid(), hostname(), now, now))
    configured = root / "config-only"
    configured.mkdir()
    shutil.copy(FIXTURES / "l2" / "config.toml", configured)
    write_liveness(configured, Liveness(dead_pid(), hostname(), now, now))
    bad_config = root / "bad-config"
    bad_config.mkdir()
    (bad_config / "config.toml").write_text("[train]\nepochs = 'many'\n")
    stray = root / "csv-only"  # no claim and no config: a run's leftovers, not a run
    stray.mkdir()
    shutil.copy(FIXTURES / "l2" / "history.csv", stray)
    entries = {entry.name: entry for entry in list_runs(root)}
    assert {name: entry.status for name, entry in entries.items()} == {
        "claimed-only": "interrupted",
        "config-only": "interrupted",
        "bad-config": "interrupted",
        "csv-only": "damaged",
    }
    assert (entries["config-only"].preset, entries["config-only"].epochs) == ("l2", 0)
    assert entries["claimed-only"].preset is None
    assert entries["claimed-only"].modified == pytest.approx(
        os.stat(claimed / LIVENESS_FILE).st_mtime
    )
    assert "history.json: missing" in (entries["csv-only"].problem or "")


def test_damaged_runs_are_listed_with_file_and_reason(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    make_run(root / "good")
    make_run(root / "typed", test=[1])
    fifo = make_run(root / "fifo")
    (fifo / "history.json").unlink()
    os.mkfifo(fifo / "history.json")
    entries = {entry.name: entry for entry in list_runs(root)}
    assert entries["good"].status == "completed"
    assert entries["typed"].damaged
    assert entries["typed"].problem == (
        f"{root / 'typed' / 'history.json'}: test: must be a JSON object or null, got [1]"
    )
    assert entries["fifo"].damaged
    assert "not read: a FIFO, not a regular file" in (entries["fifo"].problem or "")


def test_a_rescan_reads_only_what_changed(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "runs"
    first = make_run(root / "a")
    make_run(root / "b")
    running = make_run(root / "c", status="running")
    write_liveness(running, current())
    reads: list[Path] = []
    read_history = catalog.read_history

    def counting(path: Path) -> dict:
        reads.append(path.parent)
        return read_history(path)

    monkeypatch.setattr(catalog, "read_history", counting)
    listing = RunCatalog(root)
    assert len(listing.scan()) == 3
    assert sorted(reads) == [first, root / "b", running]
    reads.clear()
    assert [e.status for e in listing.scan() if e.path == running] == ["running"]
    assert reads == []
    # A changed history is read again; a running run's process is asked again.
    history = json.loads((first / "history.json").read_text())
    history["status"] = "stopped"
    (first / "history.json").write_text(json.dumps(history, indent=1))
    (running / LIVENESS_FILE).unlink()
    entries = {entry.path: entry for entry in listing.scan()}
    assert reads == [first]
    assert entries[first].status == "stopped"
    assert entries[running].status == "interrupted"


def test_list_order_newest_folder_first_and_a_suite_in_run_order(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    suite = root / "20250102-suite-regularization"
    for i, preset in enumerate(("baseline", "l2", "dropout", "bottleneck")):
        run = make_run(suite / preset, preset)
        os.utime(run / "history.json", (2000 + i, 2000 + i))
    old = make_run(root / "20250101-120000-baseline")
    os.utime(old / "history.json", (1000, 1000))
    names = [entry.name for entry in list_runs(root)]
    assert names == [
        os.path.join(suite.name, preset) for preset in ("baseline", "l2", "dropout", "bottleneck")
    ] + ["20250101-120000-baseline"]
