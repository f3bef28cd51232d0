"""The cyclic garbage collector during a run.

A full collection walks every object the process holds: some 320,000 once PyTorch is
imported, 440,000 with the dashboard's widgets beside it. Python runs one whenever the
objects that survived two younger collections reach a quarter of the old ones, which
training (tensors, epoch records) and the dashboard (its caches of drawn lines) reach
every few seconds: 150-300 ms with the GIL held each time, measured on the baseline
(1.2 s of a 22 s run beside the dashboard, 0.4 s headless), while neither the steps nor
the screen move. ``frozen_heap`` moves everything alive when the steps begin out of
the collector's reach (``gc.freeze``) and gives it back when the run ends
(``gc.unfreeze``), so that a run's model and data, once dropped, are collected as
before. Younger collections are untouched. A dashboard following a run of another process
(140,000 objects, 55 ms a full collection) does the same while it follows: its CPU is
taken from the run it watches.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_runs = 0
"""Runs of this process inside frozen_heap (the heap is given back when the last ends)."""


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Freeze the objects alive now for the body's duration (runs may overlap)."""
    global _runs
    with _lock:
        _runs += 1
        gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0:
                gc.unfreeze()
