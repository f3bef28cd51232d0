"""``dnn-tui compare --x steps|samples``: the figures against steps taken or samples seen."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers.cli import Cli
from tests.helpers.run_files import make_run


def test_compare_draws_against_samples_seen(cli: Cli, tmp_path: Path) -> None:
    run = make_run(tmp_path / "baseline")
    done = cli("compare", run, "--x", "samples", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "accuracy by samples seen" in done.stdout
    assert re.search(r"\b\d+(\.\d+)?[kM]\b", done.stdout)  # counts on the axis
    refused = cli("compare", run, "--x", "hours", cwd=tmp_path)
    assert refused.returncode == 2 and "--x" in refused.stderr
