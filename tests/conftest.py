"""Shared test setup.

torch runs single-threaded in the tests: on a 2-core machine that is busy with
anything else, OpenMP's second thread makes small ops wait for a time slice and
training runs many times slower; one thread keeps the suite's time steady. A run's
``threads = "auto"`` takes at most ``OMP_NUM_THREADS``, so runs in the tests keep to one
thread too (and repeat bit for bit, whatever the load).

pytest-xdist's workers start with ``COLUMNS=80`` in their environment, and the command line
fits its output to ``COLUMNS``: every test starts without it, as a shell that does not export
it, so output is the same with and without workers; a test that wants a width says so
(``columns=`` of the CLI helpers).
"""

import os

import pytest
import torch

os.environ["OMP_NUM_THREADS"] = "1"
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _no_inherited_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
