"""Thread-safe knobs that a UI (or a signal handler) turns while a run goes on.

Runs without any UI. The engine reads the knobs once per step: a cheap check of
``version`` (a plain int, read without the lock), and only when it moved,
``take_changes()`` under the lock. Each change therefore takes effect at the next
step and is recorded by the engine as a ``ControlApplied`` event.

One step of a paused run (``step``) is a change like the others: the engine, waiting while
paused, wakes, records it, takes exactly one optimizer step and waits again. Steps asked for
faster than the engine takes them queue up, one recorded per step taken.

Two requests change nothing the run learns, so the engine does not record them: which sample a
paused run traces (``trace``: the engine, waiting, wakes, traces it and waits again) and
whether a view shows the decision regions (``want_boundary``).
"""

from __future__ import annotations

import threading
from typing import Any

from dnn_tui.config import check_clip_norm, check_lr

DEFAULT_CLIP_NORM = 1.0
"""Threshold used when clipping is switched on for a run configured without one."""


class RunControls:
    """Stop, pause/resume, clipping on/off and threshold, learning rate."""

    def __init__(self, clip_norm: float | None = None, lr: float | None = None) -> None:
        self._lock = threading.Lock()
        self._resumed = threading.Event()
        self._resumed.set()
        self._woken = threading.Event()
        """Set by every change that ends a wait while paused: resume, stop, a step."""
        self._stop = threading.Event()
        self._clipping = clip_norm is not None
        self._clip_norm = clip_norm if clip_norm is not None else DEFAULT_CLIP_NORM
        self._lr = lr
        self._pending: list[tuple[str, Any]] = []
        self.pruned = False
        """Whether the stop came from a search's pruner: the run then ends ``pruned``."""
        self.failure: str | None = None
        """Why the run must end as ``failed`` (see ``fail``: e.g. its files cannot be written)."""
        self.version = 0
        """Bumped on every change; the engine compares it each step without locking."""
        self.boundary_wanted = False
        """Whether a view shows the decision regions (a lab's boundary panel, this process's
        or a watcher's that asked through control.jsonl): the engine
        measures them only then. A plain flag read without the lock at progress reports, not
        a change the run records."""
        self.trace_sample = 0
        """The sample whose pass a paused run traces (its split's index, wrapped to its size)."""
        self._trace_asked = False

    # --- read side (any thread) ---------------------------------------------------------

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._resumed.is_set()

    @property
    def clipping(self) -> bool:
        return self._clipping

    @property
    def clip_norm(self) -> float:
        """The threshold, kept while clipping is off so that toggling brings it back."""
        return self._clip_norm

    @property
    def effective_clip_norm(self) -> float | None:
        """The threshold in force, or None when clipping is off."""
        return self._clip_norm if self._clipping else None

    @property
    def lr(self) -> float | None:
        return self._lr

    # --- write side (UI thread, signal handlers) ----------------------------------------

    def _changed(self, kind: str, value: Any) -> None:
        self._pending.append((kind, value))
        self.version += 1

    def stop(self) -> None:
        """End the run after the current step (also wakes a paused run)."""
        with self._lock:
            if not self._stop.is_set():
                self._stop.set()
                self._changed("stop", True)
        self._resumed.set()
        self._woken.set()

    def prune(self) -> None:
        """End the run after the current step with status ``pruned`` (a search's pruner)."""
        self.pruned = True
        self.stop()

    def fail(self, reason: str) -> None:
        """End the run after the current step with status ``failed`` and this reason."""
        with self._lock:
            if self.failure is None:
                self.failure = reason
        self.stop()

    def pause(self) -> None:
        with self._lock:
            if self._resumed.is_set() and not self._stop.is_set():
                self._resumed.clear()
                self._changed("pause", True)

    def resume(self) -> None:
        with self._lock:
            if not self._resumed.is_set():
                self._resumed.set()
                self._changed("pause", False)
        self._woken.set()

    def step(self) -> bool:
        """Ask a paused run for exactly one optimizer step (it pauses again after it).

        False, and nothing asked, when the run is not paused or is stopping.
        """
        with self._lock:
            if self._resumed.is_set() or self._stop.is_set():
                return False
            self._changed("step", True)
        self._woken.set()
        return True

    def trace(self, sample: int) -> bool:
        """Ask a paused run to trace this sample's pass (it stays paused).

        False, and nothing asked, when the run is not paused or is stopping.
        """
        with self._lock:
            if self._resumed.is_set() or self._stop.is_set():
                return False
            self.trace_sample, self._trace_asked = sample, True
        self._woken.set()
        return True

    def want_boundary(self, on: bool) -> None:
        """Whether a view shows the decision regions (the engine measures them only then)."""
        self.boundary_wanted = on

    def toggle_pause(self) -> bool:
        """Pause or resume; returns True when now paused."""
        if self.paused:
            self.resume()
        else:
            self.pause()
        return self.paused

    def set_clipping(self, on: bool) -> None:
        with self._lock:
            if on != self._clipping:
                self._clipping = on
                self._changed("clipping", on)

    def toggle_clipping(self) -> bool:
        """Flip clipping; returns the new state."""
        self.set_clipping(not self._clipping)
        return self._clipping

    def set_clip_norm(self, value: float) -> None:
        """ConfigError (a ValueError) for a threshold validate() would refuse."""
        value = check_clip_norm(value)
        with self._lock:
            if value != self._clip_norm:
                self._clip_norm = value
                self._changed("clip_norm", value)

    def scale_clip_norm(self, factor: float) -> float:
        """Multiply the threshold (``+`` doubles, ``-`` halves); returns the new one."""
        self.set_clip_norm(self._clip_norm * factor)
        return self._clip_norm

    def set_lr(self, value: float) -> None:
        """ConfigError (a ValueError) for a learning rate validate() would refuse."""
        value = check_lr(value)
        with self._lock:
            if value != self._lr:
                self._lr = value
                self._changed("lr", value)

    # --- engine side ------------------------------------------------------------------------

    def follow_lr(self, value: float) -> None:
        """The lr a schedule put in force at an epoch's end: shown as the run's lr, and what a
        later ``set_lr`` compares with. A change asked and not yet taken keeps its value."""
        with self._lock:
            if not any(kind == "lr" for kind, _ in self._pending):
                self._lr = value

    def take_changes(self) -> list[tuple[str, Any]]:
        """The changes since the last call, oldest first, up to the first step asked for: the
        engine takes one step per call, and what follows it waits for the next call (``version``
        moves again so that the engine looks)."""
        with self._lock:
            taken = next(
                (i + 1 for i, (kind, _) in enumerate(self._pending) if kind == "step"),
                len(self._pending),
            )
            changes, self._pending = self._pending[:taken], self._pending[taken:]
            if self._pending:
                self.version += 1
            return changes

    def wait_while_paused(self) -> int | None:
        """Block while paused; returns at once when running or stopping, or a step is asked
        (None), or a trace is asked (the sample to trace: the run is still paused)."""
        while True:
            self._woken.clear()  # before the looks: a change made after them sets it again
            if self._resumed.is_set():
                return None
            with self._lock:
                if self._trace_asked:
                    self._trace_asked = False
                    return self.trace_sample
                if any(kind == "step" for kind, _ in self._pending):
                    return None
            self._woken.wait()
