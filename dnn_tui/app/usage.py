"""What the shown run takes from the machine, for the status line: its process's CPU use and
memory (psutil), on CUDA the GPU's use and memory (NVML, the binding of the optional extra
``gpu``), and whether other processes starve it of CPU.

A reading costs about 0.1 ms (two reads of /proc) and is taken at most every ``READ_S``
seconds. NVML is imported when a CUDA run starts; without the binding, or without a GPU it
can open, the GPU is simply not shown. psutil is imported at the first reading, not with
the dashboard (its first frame comes sooner).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

READ_S = 1.0
"""Least seconds between two readings."""


@dataclass(frozen=True)
class GpuReading:
    """One look at a GPU through NVML."""

    utilisation: int
    """Percent of the last sample period in which a kernel ran."""
    used: int
    """Bytes of its memory in use (by every process)."""
    total: int


@dataclass(frozen=True)
class UsageReading:
    """One look at the run's process (and its GPU)."""

    cpu_percent: float
    """CPU time over wall time since the previous look, in percent of one core (a process
    with two busy threads shows 200%, as ``top`` says)."""
    rss: int
    """Resident memory in bytes."""
    gpu: GpuReading | None = None


def fmt_bytes(count: float) -> str:
    """Bytes as a person reads them: ``312 MB``, ``2.1 GB`` (powers of 1024)."""
    for unit in ("B", "KB", "MB"):
        if count < 1024:
            return f"{count:.0f} {unit}"
        count /= 1024
    return f"{count:.1f} GB" if count < 100 else f"{count:.0f} GB"


def usage_text(reading: UsageReading) -> str:
    """``CPU 97% · RSS 312 MB`` and, on CUDA, `` · GPU 45% 2.1 GB/80 GB``."""
    text = f"CPU {reading.cpu_percent:.0f}% · RSS {fmt_bytes(reading.rss)}"
    gpu = reading.gpu
    if gpu is not None:
        text += f" · GPU {gpu.utilisation}% {fmt_bytes(gpu.used)}/{fmt_bytes(gpu.total)}"
    return text


BUSY = "CPU busy"
"""How the thread policy's notices start when other processes starve the run (see
``dnn_tui.training.threads``) ..."""
FREE = "CPU free again"
"""... and when that is over."""


def busy_line(notice: str) -> str | None:
    """The status line's short form of a thread policy notice: ``CPU busy: others hold 1 of
    2 cores; --threads 1`` (or ``; 1 thread`` when ``auto`` has already moved); None for
    any other notice."""
    if not notice.startswith(BUSY):
        return None
    head, _, rest = notice.partition(";")
    head = head.split(" and this run", 1)[0].replace("other processes", "others")
    advice = re.search(r"--threads \d+", rest) or re.search(r"\d+ threads?\b", rest)
    return f"{head}; {advice.group(0)}" if advice else head


def gpu_index(device: str) -> int | None:
    """The NVML index of a CUDA device string (``cuda`` is the first), None for others."""
    name, _, index = device.partition(":")
    if name != "cuda":
        return None
    return int(index) if index.isdigit() else 0


class GpuMeter:
    """NVML's view of one GPU; ``open`` returns None where there is none to see."""

    def __init__(self, nvml: Any, handle: Any) -> None:
        self.nvml = nvml
        self.handle = handle

    @classmethod
    def open(cls, index: int) -> GpuMeter | None:
        try:
            import pynvml  # the optional extra ``gpu`` (nvidia-ml-py)
        except ImportError:
            return None
        try:
            pynvml.nvmlInit()
            return cls(pynvml, pynvml.nvmlDeviceGetHandleByIndex(index))
        except (pynvml.NVMLError, OSError):  # no driver, no such GPU
            return None

    def read(self) -> GpuReading | None:
        try:
            rates = self.nvml.nvmlDeviceGetUtilizationRates(self.handle)
            memory = self.nvml.nvmlDeviceGetMemoryInfo(self.handle)
        except (self.nvml.NVMLError, OSError):
            return None
        return GpuReading(int(rates.gpu), int(memory.used), int(memory.total))


class UsageMeter:
    """Readings of one process (this one by default) and its GPU, at most every READ_S."""

    def __init__(
        self,
        pid: int | None = None,
        gpu: GpuMeter | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.process.cpu_percent(None)  # the first call starts the count (it says 0.0)
        self.errors: tuple[type[Exception], ...] = (psutil.Error, OSError)
        self.gpu = gpu
        self.clock = clock
        self.read_at = clock()
        self.last: UsageReading | None = None

    def read(self) -> UsageReading | None:
        """A fresh reading once READ_S has passed since the last, else the last (None before
        the first, or once the process is gone)."""
        now = self.clock()
        if now - self.read_at < READ_S:
            return self.last
        self.read_at = now
        try:
            cpu = self.process.cpu_percent(None)
            rss = self.process.memory_info().rss
        except self.errors:  # the followed run's process ended
            self.read_at = math.inf
            self.last = None
            return None
        gpu = self.gpu.read() if self.gpu is not None else None
        self.last = UsageReading(cpu, rss, gpu)
        return self.last
