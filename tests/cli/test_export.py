"""``dnn-tui export RUN... --tensorboard DIR``: the event files hold each run's history numbers,
under the documented tags and steps, as TensorBoard's own reader and a plain reading of the
records see them; damaged runs, a bad export folder and a missing writer are named."""

from __future__ import annotations

import json
import math
import os
import struct
import sys
from pathlib import Path
from typing import Any

import pytest

from dnn_tui.analysis.tensorboard import (
    ACTIVATION_LISTS,
    EPOCH_TAGS,
    INSTALL_HINT,
    LINEAR_LISTS,
    step_records,
    tag_names,
)
from dnn_tui.rundir.files import load_run
from dnn_tui.rundir.liveness import read_liveness
from tests.helpers.cli import Cli, run_in_process
from tests.helpers.event_files import event_file, histogram_points, read_events, scalar_points
from tests.helpers.run_files import make_run


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A schema 3 run of three epochs on 300 digits: activation and weight figures too."""
    root = tmp_path_factory.mktemp("export")
    done = run_in_process(
        "train", "--dataset", "digits", "--limit", 300, "--epochs", 3, "--out", "run", cwd=root
    )
    assert done.returncode == 0, done.stderr
    return root / "run"


def f32(value: float) -> float:
    """A number as an event's scalar holds it (a 32-bit float)."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def expected_scalars(history: dict[str, Any]) -> dict[str, list[tuple[int, float]]]:
    """Every scalar the export must hold, from history.json alone: (epoch, value) by tag."""
    expected: dict[str, list[tuple[int, float]]] = {}

    def add(tag: str, step: int, value: Any) -> None:
        if value is not None:
            expected.setdefault(tag, []).append((step, f32(value)))

    linear = history["layers"]
    hidden = (history.get("activations") or {}).get("layers", [])
    initial = history.get("initial") or {}
    for names, keys in ((linear, LINEAR_LISTS), (hidden, ACTIVATION_LISTS)):
        for key in keys:
            for name, value in zip(names, initial.get(key) or [None] * len(names), strict=True):
                add(f"{key}/{name}", 0, value)
    for record in history["epochs"]:
        epoch = record["epoch"]
        for key, tag in EPOCH_TAGS.items():
            add(tag, epoch, record[key])
        for names, keys in ((linear, LINEAR_LISTS), (hidden, ACTIVATION_LISTS)):
            for key in keys:
                for name, value in zip(names, record.get(key) or [None] * len(names), strict=True):
                    add(f"{key}/{name}", epoch, value)
    add("loss/test", history["best_epoch"], history["test"]["loss"])
    add("accuracy/test", history["best_epoch"], history["test"]["acc"])
    return expected


def expected_histograms(history: dict[str, Any]) -> dict[str, list[tuple[int, list[float]]]]:
    """Every histogram's shares, by tag: step 0 (initial) and each epoch."""
    expected: dict[str, list[tuple[int, list[float]]]] = {}
    records = [(0, history["initial"])] + [(r["epoch"], r) for r in history["epochs"]]
    for step, record in records:
        for name, row in zip(history["activations"]["layers"], record["act_hist"], strict=True):
            expected.setdefault(f"activations/{name}", []).append((step, row))
        for name, row in zip(history["layers"], record["weight_hist"], strict=True):
            expected.setdefault(f"weights/{name}", []).append((step, row))
    return expected


def block_imports(patch: pytest.MonkeyPatch, package: str) -> None:
    """Make ``import package`` (and its modules) fail, as where it is not installed."""
    for name in [name for name in sys.modules if name.split(".")[0] == package]:
        patch.setitem(sys.modules, name, None)
    patch.setitem(sys.modules, package, None)


def export(cli: Cli, *args: object, cwd: Path) -> Any:
    return cli("export", *args, cwd=cwd)


def test_tensorboard_s_reader_reads_the_history_numbers(
    trained: Path, tmp_path: Path, cli: Cli
) -> None:
    pytest.importorskip("tensorboard", reason="the TensorBoard reader is not installed")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    baseline = make_run(tmp_path / "baseline")  # schema 1: no activation or weight figures
    done = export(cli, trained, baseline, "--tensorboard", tmp_path / "tb", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for run in (trained, baseline):
        history = json.loads((run / "history.json").read_text())
        reader = EventAccumulator(
            str(tmp_path / "tb" / run.name), size_guidance={"scalars": 0, "histograms": 0}
        )
        reader.Reload()
        expected = expected_scalars(history)
        assert sorted(reader.Tags()["scalars"]) == sorted(expected)
        for tag, points in expected.items():
            assert [(e.step, e.value) for e in reader.Scalars(tag)] == points, tag
        if history["schema"] < 3:
            assert reader.Tags()["histograms"] == []
            continue
        shares = expected_histograms(history)
        assert sorted(reader.Tags()["histograms"]) == sorted(shares)
        for tag, rows in shares.items():
            read = [(e.step, list(e.histogram_value.bucket)) for e in reader.Histograms(tag)]
            assert read == rows, tag


def test_the_records_hold_the_run_without_tensorboard(trained: Path, tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        block_imports(patch, "tensorboard")
        done = run_in_process("export", trained, "--tensorboard", tmp_path / "tb", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    history = json.loads((trained / "history.json").read_text())
    events = read_events(event_file(tmp_path / "tb" / "run"))
    assert events[0].file_version == "brain.Event:2"
    steps = [event.step for event in events[1:]]
    assert steps == list(range(len(history["epochs"]) + 1))  # step 0: before the first step
    points = scalar_points(events)
    expected = expected_scalars(history)
    assert {tag: [(s, v) for s, _, v in p] for tag, p in points.items()} == expected
    # wall times: the run's start, then the epochs' durations added up
    start = read_liveness(trained)
    assert start is not None
    clock = [start.started]
    for record in history["epochs"]:
        clock.append(clock[-1] + record["seconds"])
    assert [event.wall_time for event in events[1:]] == pytest.approx(clock, abs=1e-6)
    assert events[0].wall_time == pytest.approx(start.started)
    # histograms: the shares as measured, over the run's ranges, empty end bins left out
    shares = expected_histograms(history)
    read = histogram_points(events)
    assert {tag: [(s, list(h.bucket)) for s, h in p] for tag, p in read.items()} == shares
    for tag, hists in read.items():
        kind, name = tag.split("/")
        if kind == "weights":
            half = history["initial"]["weight_hist_max"][history["layers"].index(name)]
            low, high = -half, half
        else:
            low, high = history["activations"]["hist_range"]
        for step, histo in hists:
            bins = len(histo.bucket)
            edges = [low + (high - low) * i / bins for i in range(bins + 1)]
            filled = [i for i, share in enumerate(histo.bucket) if share > 0]
            assert histo.bucket_limit == pytest.approx(edges[1:]), (tag, step)
            assert histo.min == pytest.approx(edges[filled[0]]), (tag, step)
            assert histo.max == pytest.approx(edges[filled[-1] + 1]), (tag, step)
            assert histo.num == pytest.approx(1.0, abs=1e-5), (tag, step)


def test_runs_export_to_their_own_subfolders_and_damaged_ones_are_named(
    trained: Path, tmp_path: Path, cli_process: Cli
) -> None:
    first = make_run(tmp_path / "a" / "run")
    second = make_run(tmp_path / "b" / "run", preset="l2")
    damaged = make_run(tmp_path / "damaged")
    history = json.loads((damaged / "history.json").read_text())
    history["epochs"][3]["val_acc"] = "x"
    (damaged / "history.json").write_text(json.dumps(history))
    out = tmp_path / "tb"
    done = cli_process(
        "export", first, damaged, second, tmp_path / "nowhere", "--tensorboard", out, cwd=tmp_path
    )
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{first} -> {out / 'run'}: 20 epochs",
        f"{second} -> {out / 'run-2'}: 20 epochs (run was taken)",
    ]
    errors = done.stderr.splitlines()
    assert len(errors) == 2, done.stderr
    assert "damaged run" in errors[0] and "history.json: epochs[3].val_acc" in errors[0]
    assert "nowhere: no such run directory" in errors[1]
    assert sorted(os.listdir(out)) == ["run", "run-2"]
    for folder, run in ((out / "run", first), (out / "run-2", second)):
        losses = scalar_points(read_events(event_file(folder)))["loss/val"]
        history = json.loads((run / "history.json").read_text())
        assert [v for _, _, v in losses] == [f32(r["val_loss"]) for r in history["epochs"]]
    # an export again never mixes its records with the first one's
    again = cli_process("export", first, "--tensorboard", out, cwd=tmp_path)
    assert again.returncode == 0 and "run-3: 20 epochs (run was taken)" in again.stdout


def test_a_folder_that_cannot_take_the_export_is_refused(tmp_path: Path, cli: Cli) -> None:
    run = make_run(tmp_path / "run")
    (tmp_path / "file").write_text("mine")
    os.mkfifo(tmp_path / "fifo")
    for target, words in (
        (tmp_path / "file", "a regular file: the export needs a folder"),
        (tmp_path / "fifo", "a FIFO: the export needs a folder"),
        (run, "the folder holds a run or a sweep (config.toml)"),
    ):
        done = export(cli, run, "--tensorboard", target, cwd=tmp_path)
        assert done.returncode == 1, target
        assert done.stdout == "" and words in done.stderr, done.stderr
        assert len(done.stderr.splitlines()) == 1
    assert (tmp_path / "file").read_text() == "mine"
    assert sorted(p.name for p in run.iterdir()) == ["config.toml", "history.csv", "history.json"]
    missing = export(cli, run, cwd=tmp_path)
    assert missing.returncode == 2 and "--tensorboard" in missing.stderr


def test_without_tensorboardx_the_install_line_is_given(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    with pytest.MonkeyPatch.context() as patch:
        block_imports(patch, "tensorboardX")
        done = run_in_process("export", run, "--tensorboard", tmp_path / "tb", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"dnn-tui: error: the TensorBoard export needs tensorboardX: {INSTALL_HINT}"
    )
    assert not (tmp_path / "tb").exists()


def test_a_damaged_histogram_range_is_named_and_nothing_is_left(
    trained: Path, tmp_path: Path, cli: Cli
) -> None:
    import shutil

    run = tmp_path / "odd"
    shutil.copytree(trained, run)
    history = json.loads((run / "history.json").read_text())
    history["activations"]["hist_range"] = [2.0, None]
    (run / "history.json").write_text(json.dumps(history))
    done = export(cli, run, "--tensorboard", tmp_path / "tb", cwd=tmp_path)
    assert done.returncode == 1
    assert "history.json: activations.hist_range: must be two finite numbers" in done.stderr
    assert os.listdir(tmp_path / "tb") == []


def test_layer_names_from_a_file_make_distinct_tags() -> None:
    assert tag_names(["fc1", "a/b", "fc1", "", "x" * 100]) == [
        "fc1",
        "a_b",
        "fc1-2",
        "layer4",
        "x" * 64,
    ]


def test_null_figures_are_left_out(trained: Path, tmp_path: Path) -> None:
    """A value that was not finite (null in history.json) is no point, never a 0 or a NaN."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained, run)
    history = json.loads((run / "history.json").read_text())
    history["epochs"][1]["val_loss"] = None
    history["epochs"][1]["weight_norm"][0] = None
    (run / "history.json").write_text(json.dumps(history))
    records = {r.step: r.scalars for r in step_records(load_run(run), 0.0)}
    assert all(math.isfinite(v) for scalars in records.values() for v in scalars.values())
    assert "loss/val" in records[1] and "loss/val" not in records[2]
    assert "weight_norm/fc1" in records[1] and "weight_norm/fc1" not in records[2]
    assert "weight_norm/fc2" in records[2]
    assert not any(tag.startswith("act_saturated/") for s in records.values() for tag in s)


def test_a_run_that_fails_while_written_leaves_no_subfolder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from dnn_tui.analysis import tensorboard

    full, fine = make_run(tmp_path / "full"), make_run(tmp_path / "fine")
    write = tensorboard.write_events

    def disk_full(run: Any, folder: Path) -> int:
        if run.path == full:
            (folder / ".events.out.tfevents.1.dnn-tui.partial").write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")
        return write(run, folder)

    monkeypatch.setattr(tensorboard, "write_events", disk_full)
    done = run_in_process("export", full, fine, "--tensorboard", tmp_path / "tb", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == (
        f"dnn-tui: error: {full}: not exported: [Errno 28] No space left on device\n"
    )
    assert done.stdout == f"{fine} -> {tmp_path / 'tb' / 'fine'}: 20 epochs\n"
    assert os.listdir(tmp_path / "tb") == ["fine"]
