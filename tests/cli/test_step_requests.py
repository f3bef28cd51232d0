"""One step of a paused run of another process, asked through its control.jsonl (what
``watch``'s ``n`` writes): three requests, three optimizer steps, three recorded controls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import read_history, start_train, wait_for_run_files
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.e2e
"""A real ``train`` process."""


def logged(run_dir: Path, kind: str | None = None) -> list[dict]:
    """events.jsonl's records (of one ControlApplied kind when given)."""
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.endswith("}")]
    if kind is None:
        return records
    return [r for r in records if r["event"] == "ControlApplied" and r["kind"] == kind]


def request(run_dir: Path, *lines: dict) -> None:
    with (run_dir / "control.jsonl").open("a") as handle:
        handle.write("".join(json.dumps(line) + "\n" for line in lines))


def test_three_step_requests_take_three_steps_of_a_paused_process_run(tmp_path: Path) -> None:
    out = tmp_path / "stepped"
    process = start_train(out, 100_000)
    try:
        wait_for_run_files(out, process)
        request(out, {"kind": "step", "value": True})  # not paused yet: refused, said why
        request(out, {"kind": "pause", "value": True})
        wait_for(lambda: logged(out, "pause"), "the pause applied", 60)
        request(out, *[{"kind": "step", "value": True}] * 3)
        wait_for(lambda: len(logged(out, "step")) == 3, "three steps applied", 60)
    finally:
        request(out, {"kind": "stop", "value": True})
        assert process.wait(timeout=60) == 130
    records = logged(out)
    paused_at = max(i for i, r in enumerate(records) if r.get("kind") == "pause")
    reports = [r for r in records[paused_at:] if r["event"] == "StepMeasured"]
    steps = [r for r in records if r.get("kind") == "step"]
    assert len(steps) == 3
    # each step reported (a watcher's panels show it), one step after another
    assert [r["step"] for r in reports] == [steps[0]["step"] + i for i in range(3)]
    notices = [r["text"] for r in records if r["event"] == "Notice"]
    assert any("step: one step needs a paused run" in text for text in notices)
    history = read_history(out)
    recorded = [e for r in history["epochs"] for e in r["events"]]
    recorded += history["partial_epoch"]["events"]
    assert [e["kind"] for e in recorded].count("step") == 3
