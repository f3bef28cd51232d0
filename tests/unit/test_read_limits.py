"""Whatever a run or a sweep writes, the tool reads back: the read limits of history.json,
history.csv and sweep.json are derived from the allowed ranges (the most epochs of the deepest
model, the most runs of a sweep), and tested at those limits through their derivation."""

from __future__ import annotations

import json
import math
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dnn_tui.config import MAX_DEPTH, MAX_EPOCHS, RunConfig, to_dict
from dnn_tui.rundir.files import (
    EPOCHS_FILE,
    EVENTS_PER_EPOCH,
    LONGEST_FLOAT,
    MAX_CONFIG_BYTES,
    MAX_CSV_BYTES,
    MAX_EPOCH_BYTES,
    MAX_EPOCH_LOG_BYTES,
    MAX_HISTORY_BYTES,
    MAX_HISTORY_HEAD_BYTES,
    bounded_record,
    csv_header,
    dumps_history,
    epoch_csv_row,
    epoch_line,
    largest_epoch_record,
)
from dnn_tui.rundir.recorder import RunRecorder
from dnn_tui.sweeps.planning import (
    MAX_STATE_BYTES,
    MAX_STATE_ENTRY_BYTES,
    MAX_SWEEP_RUNS,
    STATE_TEXT_BYTES,
    largest_state_entry,
    read_state,
    write_state,
)
from dnn_tui.training.activations import HIST_BINS
from dnn_tui.training.events import EpochEnded
from tests.helpers.run_files import record, signal, started


def history_of(epochs: list[dict], description: str = "") -> dict:
    return {
        "schema": 2,
        "status": "completed",
        "config": to_dict(RunConfig(preset="p", description=description)),
        "dataset": {"name": "digits", "train": 1, "val": 1, "test": 1},
        "layers": [f"fc{i}" for i in range(MAX_DEPTH + 1)],
        "activations": None,
        "initial": None,
        "epochs": epochs,
        "best_epoch": 1,
        "test": {"loss": 0.1, "acc": 0.9},
        "diverged": None,
        "error": None,
        "partial_epoch": None,
    }


def test_the_largest_record_holds_every_field_a_run_writes() -> None:
    largest = largest_epoch_record()
    written = {**record(1), **signal(1).record()}
    assert set(written) <= set(largest)
    for key, value in largest.items():
        if isinstance(value, list) and key != "events":
            assert len(value) == MAX_DEPTH + 1
    assert all(len(row) == HIST_BINS for row in largest["act_hist"])
    assert len(largest["events"]) == EVENTS_PER_EPOCH


def test_a_history_of_the_most_epochs_fits_the_limit() -> None:
    """history.json grows by one line an epoch: measured on 1 and 3 largest records (with a
    description as long as a config file may hold, every character escaped), then carried to
    MAX_EPOCHS."""
    head_text = "\x1b" * MAX_CONFIG_BYTES
    one = len(dumps_history(history_of([largest_epoch_record()], head_text)))
    three = len(dumps_history(history_of([largest_epoch_record()] * 3, head_text)))
    per_epoch = (three - one) // 2
    assert per_epoch <= MAX_EPOCH_BYTES
    head = one - per_epoch
    assert head <= MAX_HISTORY_HEAD_BYTES
    assert head + MAX_EPOCHS * per_epoch <= MAX_HISTORY_BYTES
    # The case: 32 layers passed the old 64 MiB limit after about 11,500 epochs.
    assert MAX_HISTORY_BYTES > 64 << 20


def test_history_csv_of_the_most_epochs_fits_the_limit() -> None:
    row = epoch_csv_row(largest_epoch_record())
    assert len(csv_header()) + MAX_EPOCHS * len(row) <= MAX_CSV_BYTES


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=MAX_DEPTH + 1),
    st.lists(finite, min_size=1, max_size=8),
    st.integers(min_value=0, max_value=EVENTS_PER_EPOCH),
)
def test_generated_records_fit_the_largest(layers: int, numbers: list, events: int) -> None:
    def pick(i: int) -> float:
        return numbers[i % len(numbers)]

    generated = {
        **record(MAX_EPOCHS),
        **{key: pick(i) for i, key in enumerate(("train_loss", "val_loss", "lr", "seconds"))},
        "grad_norm": [pick(i) for i in range(layers)],
        "events": [{"step": 2**62, "kind": "clip_norm", "value": pick(i)} for i in range(events)],
        "act_mean": [pick(i) for i in range(layers)],
        "act_std": [pick(i + 1) for i in range(layers)],
        "act_saturated": [pick(i + 2) for i in range(layers)],
        "act_dead": None,
        "act_hist": [[pick(i + j) for j in range(HIST_BINS)] for i in range(layers)],
    }
    assert len(epoch_line(generated)) + len(",\n    ") <= MAX_EPOCH_BYTES
    assert len(epoch_csv_row(generated)) <= len(epoch_csv_row(largest_epoch_record()))


def test_a_sweep_of_the_most_runs_fits_the_limit(tmp_path: Path) -> None:
    """sweep.json grows by one entry a run: measured on 1 and 3 entries whose texts are all
    far longer than STATE_TEXT_BYTES (so cut), then carried to MAX_SWEEP_RUNS."""
    long = "\x1b]0;x\x07" * 5000
    entry = {key: long for key in largest_state_entry()}
    entry["values"] = {key: long for key in largest_state_entry()["values"]}
    sizes = []
    for runs in (1, 3):
        write_state(
            tmp_path, {"schema": 1, "status": "running", "grid": {}, "runs": [entry] * runs}
        )
        sizes.append((tmp_path / "sweep.json").stat().st_size)
        state = read_state(tmp_path)
        assert state is not None and len(state["runs"]) == runs
        assert len(json.dumps(state["runs"][0]["error"])) <= STATE_TEXT_BYTES
    per_run = (sizes[1] - sizes[0]) // 2
    assert per_run <= MAX_STATE_ENTRY_BYTES
    assert sizes[0] + (MAX_SWEEP_RUNS - 1) * per_run <= MAX_STATE_BYTES


def test_a_real_sweep_of_the_most_runs_reads_back(tmp_path: Path) -> None:
    """The issue's case: a sweep.json of 10^5 ordinary runs passed the old 16 MiB limit."""
    width = len(str(MAX_SWEEP_RUNS))
    runs = [
        {
            "dir": f"{i:0{width}d}-lr=0.00{i % 7 + 1}-seed={i}",
            "base": "baseline",
            "values": {"lr": f"0.00{i % 7 + 1}", "seed": str(i)},
            "status": "completed",
            "started": 1.7e9 + i * math.pi,
            "exit_code": 0,
            "epochs": 20,
            "best_val_acc": 0.9612345678901234,
            "test_acc": 0.9598765432109876,
            "error": None,
            "seconds": 41.234,
        }
        for i in range(MAX_SWEEP_RUNS)
    ]
    grid = {"lr": [f"0.00{k}" for k in range(1, 8)], "seed": [str(i) for i in range(10)]}
    write_state(tmp_path, {"schema": 1, "status": "completed", "grid": grid, "runs": runs})
    assert (tmp_path / "sweep.json").stat().st_size > 16 << 20
    state = read_state(tmp_path)
    assert state is not None and len(state["runs"]) == MAX_SWEEP_RUNS


def test_an_epoch_of_any_number_of_steering_changes_fits_the_budget(tmp_path: Path) -> None:
    """A record keeps at most EVENTS_PER_EPOCH changes (the rest counted), so the longest run
    of the deepest model reads back: every file gets the same bounded record."""
    change = {"step": 2**40, "kind": "lr", "value": LONGEST_FLOAT}
    busy = {**largest_epoch_record(), "events": [change] * 10_000, "events_dropped": None}
    bounded = bounded_record(busy)
    assert len(bounded["events"]) == EVENTS_PER_EPOCH
    assert bounded["events_dropped"] == 10_000 - EVENTS_PER_EPOCH
    assert len(epoch_line(bounded)) + len(",\n    ") <= MAX_EPOCH_BYTES
    assert MAX_EPOCHS * MAX_EPOCH_BYTES <= MAX_EPOCH_LOG_BYTES
    recorder = RunRecorder(tmp_path)
    recorder(started())
    recorder(EpochEnded({**record(1), "events": [change] * 300}, best_epoch=1, epochs=1))
    recorder.flush()
    logged = json.loads((tmp_path / EPOCHS_FILE).read_text())
    assert (len(logged["events"]), logged["events_dropped"]) == (EVENTS_PER_EPOCH, 300 - 64)
    ended = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [len(e["record"]["events"]) for e in ended if e["event"] == "EpochEnded"] == [64]
    recorder.close()
