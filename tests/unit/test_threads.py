"""The thread policy: ``auto`` takes the cores other processes leave idle and moves with the
load; a number is kept, and a starved run is told so. The load is scripted (a meter whose
looks the test sets); one test reads the real machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from dnn_tui.config import ConfigError, RunConfig, TrainConfig, parse_option, validate
from dnn_tui.training.threads import (
    FIRST_LOOK,
    RECHECK_INTERVAL,
    Load,
    LoadMeter,
    ThreadPolicy,
    thread_cap,
)


class ScriptedMeter:
    """A LoadMeter whose clock and looks the test sets."""

    def __init__(self, cores: int) -> None:
        self.cores = cores
        self.now = 0.0
        self.others = 0.0

    def clock(self) -> float:
        return self.now

    def look(self) -> Load:
        return Load(self.cores, self.others, 1.0)


def policy(requested, cores: int = 2, others: float = 0.0):
    meter = ScriptedMeter(cores)
    meter.others = others
    chosen: list[int] = []
    threads = ThreadPolicy(requested, meter, chosen.append)  # type: ignore[arg-type]
    threads.start()
    return threads, meter, chosen


def later(meter: ScriptedMeter, seconds: float = RECHECK_INTERVAL) -> None:
    meter.now += seconds


@pytest.fixture(autouse=True)
def no_omp_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)


def test_auto_starts_on_every_core_and_keeps_them_on_a_quiet_machine() -> None:
    threads, meter, chosen = policy("auto", cores=4)
    assert chosen == [4]
    later(meter, FIRST_LOOK)
    assert threads.recheck() is None
    assert chosen == [4]


def test_auto_gives_up_a_core_another_process_holds_and_says_so() -> None:
    threads, meter, chosen = policy("auto", cores=2, others=1.0)
    assert threads.recheck() is None  # too early: the first look comes FIRST_LOOK in
    later(meter, FIRST_LOOK)
    note = threads.recheck()
    assert chosen == [2, 1]
    assert note is not None and note.level == "warning"
    assert note.text.startswith(
        "CPU busy: other processes hold 1 of 2 cores; the run uses 1 thread"
    )


def test_auto_takes_the_core_back_when_the_other_process_ends() -> None:
    threads, meter, chosen = policy("auto", cores=2, others=1.0)
    later(meter, FIRST_LOOK)
    threads.recheck()
    meter.others = 0.1
    later(meter, RECHECK_INTERVAL / 2)
    assert threads.recheck() is None  # not yet: at most one look every RECHECK_INTERVAL
    later(meter)
    note = threads.recheck()
    assert chosen == [2, 1, 2]
    assert note is not None and note.text == "CPU free again: the run uses 2 threads"


@pytest.mark.parametrize(
    ("cores", "others", "expected"),
    [(2, 0.2, 2), (2, 0.6, 1), (2, 2.0, 1), (8, 3.0, 5), (8, 2.6, 5), (8, 2.4, 6), (1, 0.0, 1)],
)
def test_auto_fits_the_idle_cores(cores: int, others: float, expected: int) -> None:
    threads, meter, _ = policy("auto", cores=cores, others=others)
    later(meter, FIRST_LOOK)
    threads.recheck()
    assert threads.threads == expected


def test_auto_takes_no_more_than_omp_num_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    threads, meter, chosen = policy("auto", cores=8)
    later(meter, FIRST_LOOK)
    threads.recheck()
    assert chosen == [2]
    assert thread_cap(1) == 1


def test_a_number_is_kept_and_a_starved_run_is_told_once() -> None:
    threads, meter, chosen = policy(2, cores=2, others=1.0)
    later(meter, FIRST_LOOK)
    note = threads.recheck()
    assert chosen == [2]
    assert note is not None and note.level == "warning"
    assert "this run asks for 2 threads; --threads 1 (or auto) would suit" in note.text
    later(meter)
    assert threads.recheck() is None  # still starved: said once
    meter.others = 0.0
    later(meter)
    note = threads.recheck()
    assert note is not None and note.text == "CPU free again"
    assert chosen == [2]


@pytest.mark.parametrize(("text", "value"), [("auto", "auto"), ("AUTO", "auto"), ("3", 3)])
def test_threads_option_reads_auto_or_a_number(text: str, value) -> None:
    assert parse_option("threads", text) == value


@pytest.mark.parametrize("value", [0, -1, 1025, "many", True, 1.5])
def test_threads_outside_the_rule_are_refused_by_name(value) -> None:
    config = RunConfig(train=TrainConfig(threads=value))
    with pytest.raises(ConfigError, match=r"^threads: must be an integer from 1 to 1024 or 'auto'"):
        validate(config)


def test_the_meter_sees_a_busy_process_beside_this_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real machine: a spinning process shows as about one core of the others' load."""
    meter = LoadMeter()
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        meter.look()
        time.sleep(0.5)
        load = meter.look()
    finally:
        spinner.kill()
        spinner.wait()
    assert load is not None
    assert load.others >= 0.6  # the spinner's core (the other tests' workers may add more)
    assert load.own < 0.5  # this process slept
    assert load.cores == len(os.sched_getaffinity(0))
