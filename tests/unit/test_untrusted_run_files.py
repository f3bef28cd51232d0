"""Run files written by others (a colleague, a script, a damaged disk) never break a reader,
a watcher or a run: liveness records, steering requests and event logs are checked, and
what breaks a rule is refused by name or counted, never raised."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dnn_tui.rundir.catalog import list_runs
from dnn_tui.rundir.liveness import (
    CLOCK_SKEW_S,
    LIVENESS_FILE,
    Liveness,
    current,
    hostname,
    parse_liveness,
    read_liveness,
    shown_status,
)
from dnn_tui.rundir.recorder import claim_run_dir

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "regularization-mnist"

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
"""Any JSON value (NaN and infinities included: Python's json reads and writes them)."""


def make_run(path: Path, **changes: object) -> Path:
    shutil.copytree(FIXTURES / "baseline", path)
    if changes:
        history = json.loads((path / "history.json").read_text())
        history.update(changes)
        (path / "history.json").write_text(json.dumps(history))
    return path


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


# --- liveness.json ------------------------------------------------------------------------------

BAD_LIVENESS = {
    "pid as a string": {"pid": "123", "host": hostname(), "started": 1.0, "heartbeat": 1.0},
    "negative pid": {"pid": -1, "host": hostname(), "started": 1.0, "heartbeat": 1.0},
    "pid beyond any": {"pid": 10**30, "host": hostname(), "started": 1.0, "heartbeat": 1.0},
    "float pid": {"pid": 1.5, "host": hostname(), "started": 1.0, "heartbeat": 1.0},
    "boolean pid": {"pid": True, "host": hostname(), "started": 1.0, "heartbeat": 1.0},
    "host a list": {"pid": 1, "host": ["h"], "started": 1.0, "heartbeat": 1.0},
    "heartbeat a string": {"pid": 1, "host": "elsewhere", "started": 1.0, "heartbeat": "now"},
    "heartbeat infinite": {"pid": 1, "host": "elsewhere", "started": 1.0, "heartbeat": 1e999},
    "process start a string": {
        "pid": 1,
        "host": hostname(),
        "started": 1.0,
        "heartbeat": 1.0,
        "process_start": "x",
    },
}


@pytest.mark.parametrize("name", sorted(BAD_LIVENESS))
def test_a_wrongly_typed_liveness_record_is_no_record(tmp_path: Path, name: str) -> None:
    """runs, compare, watch and the dashboard list the run as they would without a record."""
    root = tmp_path / "runs"
    run = make_run(root / "run", status="running")
    good = make_run(root / "good")
    (run / LIVENESS_FILE).write_text(json.dumps(BAD_LIVENESS[name]))
    assert read_liveness(run) is None
    assert shown_status("running", run) == "interrupted"
    statuses = {entry.name: entry.status for entry in list_runs(root)}
    assert statuses == {"run": "interrupted", "good": "completed"}
    assert good.exists()


@pytest.mark.parametrize("text", ["[1000000000", "[" * 5000, '"a string"', "", "\xff"])
def test_a_liveness_record_that_is_no_json_object_is_no_record(tmp_path: Path, text: str) -> None:
    (tmp_path / LIVENESS_FILE).write_bytes(text.encode("utf-8", "surrogateescape"))
    assert read_liveness(tmp_path) is None
    assert shown_status("running", tmp_path) == "interrupted"


def test_force_replaces_a_finished_run_whatever_its_liveness_record_says(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    (run / LIVENESS_FILE).write_text(json.dumps(BAD_LIVENESS["pid as a string"]))
    claim_run_dir(run, force=True).close()
    assert read_liveness(run) is not None  # this process's claim


def test_a_heartbeat_from_the_future_does_not_keep_a_run_alive(tmp_path: Path) -> None:
    now = time.time()
    far_ahead = Liveness(1, "another-host", now, now + 10 * 365 * 86400)
    slightly_ahead = Liveness(1, "another-host", now, now + CLOCK_SKEW_S / 2)
    assert not far_ahead.alive(now)
    assert slightly_ahead.alive(now)
    run = make_run(tmp_path / "run", status="running")
    (run / LIVENESS_FILE).write_text(far_ahead.to_json())
    assert shown_status("running", run) == "interrupted"


def test_valid_records_read_back_as_written(tmp_path: Path) -> None:
    record = current()
    (tmp_path / LIVENESS_FILE).write_text(record.to_json())
    assert read_liveness(tmp_path) == record
    assert shown_status("running", tmp_path) == "running"
    dead = Liveness(dead_pid(), hostname(), record.started, record.heartbeat)
    (tmp_path / LIVENESS_FILE).write_text(dead.to_json())
    assert shown_status("running", tmp_path) == "interrupted"


LIVENESS_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "pid": JSON | st.integers(),
        "host": JSON | st.text(max_size=300),
        "started": JSON | st.floats(),
        "heartbeat": JSON | st.floats(),
        "process_start": JSON | st.integers(),
    },
)


@settings(max_examples=1000, deadline=None)
@given(record=LIVENESS_FIELDS | JSON)
def test_generated_liveness_records_never_raise_and_only_valid_ones_are_kept(record) -> None:
    parsed = parse_liveness(json.dumps(record).encode())
    if parsed is None:
        return
    assert isinstance(parsed.pid, int) and not isinstance(parsed.pid, bool)
    assert 0 < parsed.pid <= 2**22
    assert isinstance(parsed.host, str) and 0 < len(parsed.host) <= 255
    for value in (parsed.started, parsed.heartbeat):
        assert isinstance(value, float) and 0 <= value < 2**40
    assert parsed.process_start is None or (
        isinstance(parsed.process_start, int) and not isinstance(parsed.process_start, bool)
    )
    parsed.alive()  # never raises either


@settings(max_examples=1000, deadline=None)
@given(raw=st.binary(max_size=200))
def test_liveness_bytes_never_raise(raw: bytes) -> None:
    parsed = parse_liveness(raw)
    assert parsed is None or isinstance(parsed, Liveness)
