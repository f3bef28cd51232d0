"""``train`` with stdout on a full disk (``/dev/full``: every write fails with ENOSPC): the
console is a view, so the run goes on, says so once in its files and ends as it would."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import cli_command, cli_env

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")


def test_a_full_disk_under_stdout_never_fails_the_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ("--dataset", "digits", "--limit", 200, "--hidden", "8", "--epochs", 2)
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            cli_command("train", *args, "--out", out),
            cwd=tmp_path,
            env=cli_env(),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "history.json").read_text())["status"] == "completed"
    lines = (out / "events.jsonl").read_text().splitlines()
    said = [r["text"] for r in map(json.loads, lines) if r["event"] == "Notice"]
    assert said == ["the console cannot be written (No space left on device); the run goes on"]
