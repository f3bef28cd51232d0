"""How many PyTorch threads a run uses, and whether other processes starve it.

Runs without any UI. One run of a small MLP gains little from a second thread (about 1.18x
on 2 cores) and loses up to 9x when another process holds a core: PyTorch's OpenMP threads
wait for each other at the end of every operation, so one thread the kernel has put aside
stalls every step. ``threads = "auto"`` therefore takes the cores other processes leave
idle, looks again at epoch ends (at most every ``RECHECK_INTERVAL`` seconds) and moves with
the load, and never takes more than ``OMP_NUM_THREADS`` when that is set (a sweep sets it
so that its runs together fit the cores). A number is taken as it is; the policy then only
says when the run is starved.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import psutil
import torch

RECHECK_INTERVAL = 2.0
"""Least seconds between two looks at the load (a look reads two /proc files)."""
FIRST_LOOK = 0.2
"""Seconds into the run of the first look (the run starts on every core it may take)."""
BUSY_MARGIN = 0.5
"""Cores other processes must hold beyond the idle ones before a thread is given up (a
shell, the terminal and the dashboard's own drawing come and go)."""


def available_cores() -> int:
    """The cores this process may run on (its affinity mask, as a container or taskset
    limits it), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity call on this platform
        return max(1, os.cpu_count() or 1)


def thread_cap(cores: int) -> int:
    """The most threads ``auto`` takes: ``OMP_NUM_THREADS`` when set to a positive number,
    else every core."""
    text = os.environ.get("OMP_NUM_THREADS", "").strip()
    if text.isdigit() and int(text) > 0:
        return min(int(text), cores)
    return cores


@dataclass(frozen=True)
class Load:
    """What one look at the machine saw."""

    cores: int
    """The cores this process may use."""
    others: float
    """Cores' worth of CPU time the other processes used over the look (0.0 to ``cores``)."""
    own: float
    """Cores' worth of CPU time this process used over the look."""

    @property
    def idle(self) -> float:
        """Cores the other processes leave to this run."""
        return max(0.0, self.cores - self.others)


class LoadMeter:
    """CPU time of the whole machine and of this process, between two looks.

    ``psutil.cpu_times`` counts every core; this process's own time is taken out, so what is
    left is the other processes' (the dashboard's own drawing is the run's, not a rival's).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.process = psutil.Process()
        self.cores = available_cores()
        self.last = self._read()

    def _read(self) -> tuple[float, float, float]:
        machine = psutil.cpu_times()
        busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
        own = self.process.cpu_times()
        return self.clock(), busy, own.user + own.system

    def look(self) -> Load | None:
        """The load since the previous look; None when too little time passed to tell."""
        now, busy, own = self._read()
        then, busy_then, own_then = self.last
        wall = now - then
        if wall <= 0.01:
            return None
        self.last = (now, busy, own)
        total = psutil.cpu_count() or self.cores
        # Machine-wide busy time spans every core, this process may use fewer (affinity).
        others = max(0.0, (busy - busy_then) - (own - own_then)) / wall
        return Load(self.cores, min(float(total), others), max(0.0, own - own_then) / wall)


@dataclass(frozen=True)
class ThreadsNote:
    """A change the run should tell its user about."""

    threads: int
    """The threads the run uses from now on."""
    text: str
    level: Literal["information", "warning"]


class ThreadPolicy:
    """The run's PyTorch thread count: set at the start, looked at again at epoch ends.

    ``requested`` is the config's ``threads``: a number to take as it is, or ``auto``.
    """

    def __init__(
        self,
        requested: int | Literal["auto"],
        meter: LoadMeter | None = None,
        set_threads: Callable[[int], None] = torch.set_num_threads,
    ) -> None:
        self.requested = requested
        self.meter = meter or LoadMeter()
        self.set_threads = set_threads
        self.cap = thread_cap(self.meter.cores)
        self.threads = requested if isinstance(requested, int) else self.cap
        self.starved = False
        self.checked_at = -math.inf

    def start(self) -> None:
        """Set the first thread count: the number asked for, or for ``auto`` the cap until the
        first look (``FIRST_LOOK`` seconds in, so that the look measures something)."""
        self.set_threads(self.threads)
        self.checked_at = self.meter.clock() - RECHECK_INTERVAL + FIRST_LOOK

    def recheck(self) -> ThreadsNote | None:
        """With a progress report or at an epoch end: look at the load again (at most every
        ``RECHECK_INTERVAL`` seconds), set the threads that fit it, say what changed."""
        if self.meter.clock() - self.checked_at < RECHECK_INTERVAL:
            return None
        self.checked_at = self.meter.clock()
        before = self.threads
        note = self._decide(self.meter.look())
        if self.threads != before:
            self.set_threads(self.threads)
        return note

    def _decide(self, load: Load | None) -> ThreadsNote | None:
        if load is None:
            return None
        starved = load.others + self.threads > load.cores + BUSY_MARGIN
        if self.requested == "auto":
            fitting = max(1, min(self.cap, math.floor(load.idle + BUSY_MARGIN)))
            if fitting != self.threads:
                self.threads = fitting
                starved = load.others + fitting > load.cores + BUSY_MARGIN
                self.starved = starved
                return _moved(load, fitting)
        if starved == self.starved:
            return None
        self.starved = starved
        if not starved:
            return ThreadsNote(self.threads, "CPU free again", "information")
        fitting = max(1, math.floor(load.idle + BUSY_MARGIN))
        return ThreadsNote(
            self.threads,
            f"CPU busy: other processes hold {busy_cores(load)} of {load.cores} cores and this "
            f"run asks for {self.threads} threads; --threads {fitting} (or auto) would suit",
            "warning",
        )


def busy_cores(load: Load) -> str:
    """The other processes' load in cores, as a person would say it (``1``, ``1.5``)."""
    return f"{load.others:.1f}".removesuffix(".0")


def _moved(load: Load, threads: int) -> ThreadsNote:
    if load.others >= BUSY_MARGIN:
        return ThreadsNote(
            threads,
            f"CPU busy: other processes hold {busy_cores(load)} of {load.cores} cores; the run "
            f"uses {threads} thread{'s' if threads > 1 else ''} (--threads N to choose)",
            "warning",
        )
    return ThreadsNote(threads, f"CPU free again: the run uses {threads} threads", "information")
