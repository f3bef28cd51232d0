"""The status line's readings of the machine: CPU and memory of the run's process, the GPU's
use and memory, and the short form of the thread policy's "CPU busy" notices."""

from __future__ import annotations

import os

import pytest

from dnn_tui.app.usage import (
    READ_S,
    GpuMeter,
    GpuReading,
    UsageMeter,
    UsageReading,
    busy_line,
    fmt_bytes,
    gpu_index,
    usage_text,
)
from dnn_tui.training.threads import Load, ThreadPolicy

GB = 1024**3


def test_readings_are_written_whole_and_short() -> None:
    assert fmt_bytes(512) == "512 B"
    assert fmt_bytes(312 * 1024**2) == "312 MB"
    assert fmt_bytes(2.1 * GB) == "2.1 GB"
    assert fmt_bytes(80 * GB) == "80.0 GB"
    assert fmt_bytes(141 * GB) == "141 GB"
    reading = UsageReading(cpu_percent=183.4, rss=312 * 1024**2)
    assert usage_text(reading) == "CPU 183% · RSS 312 MB"
    gpu = GpuReading(utilisation=45, used=int(2.1 * GB), total=80 * GB)
    with_gpu = UsageReading(cpu_percent=97.0, rss=GB, gpu=gpu)
    assert usage_text(with_gpu) == "CPU 97% · RSS 1.0 GB · GPU 45% 2.1 GB/80.0 GB"


def test_only_cuda_devices_have_a_gpu_index() -> None:
    assert gpu_index("cuda") == 0 and gpu_index("cuda:1") == 1
    assert gpu_index("cpu") is None and gpu_index("mps") is None


def test_this_process_is_measured_at_most_once_a_second() -> None:
    now = [10.0]
    meter = UsageMeter(clock=lambda: now[0])
    assert meter.read() is None  # nothing measured yet
    sum(i * i for i in range(200_000))  # some CPU time to see
    now[0] += READ_S
    first = meter.read()
    assert first is not None and first.gpu is None
    assert first.rss > 10 * 1024**2  # this interpreter with PyTorch's tests around it
    assert first.cpu_percent >= 0.0
    now[0] += READ_S / 2
    assert meter.read() is first  # too soon: the last reading again


def test_a_process_that_ended_reads_as_nothing() -> None:
    import subprocess

    child = subprocess.Popen(["sleep", "30"])
    now = [0.0]
    meter = UsageMeter(child.pid, clock=lambda: now[0])
    child.kill()
    child.wait()
    now[0] += READ_S
    assert meter.read() is None


def test_no_gpu_reading_without_a_gpu_nvml_can_open() -> None:
    # On a machine without an NVIDIA driver NVML cannot start: no meter, nothing shown. Where
    # one is found, its reading is whole.
    meter = GpuMeter.open(0)
    if meter is None:
        return
    reading = meter.read()
    assert reading is not None and 0 <= reading.utilisation <= 100
    assert 0 < reading.used <= reading.total


class FixedMeter:
    """The load a test chooses, for the real policy."""

    def __init__(self, load: Load) -> None:
        self.cores, self.load = load.cores, load
        self.now = 0.0

    def clock(self) -> float:
        self.now += 10.0
        return self.now

    def look(self) -> Load:
        return self.load


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        (2, "CPU busy: others hold 1 of 2 cores; --threads 1"),
        ("auto", "CPU busy: others hold 1 of 2 cores; 1 thread"),
    ],
)
def test_the_policys_busy_notice_has_a_short_form(
    requested: int | str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    meter = FixedMeter(Load(cores=2, others=1.0, own=1.0))
    policy = ThreadPolicy(requested, meter, set_threads=lambda _n: None)  # type: ignore[arg-type]
    note = policy.recheck()
    assert note is not None and note.level == "warning"
    assert busy_line(note.text) == expected
    assert busy_line("CPU free again") is None and busy_line("digits fell back") is None
