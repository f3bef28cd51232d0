"""A sweep that goes on after its driver was killed (``dnn-tui sweep --resume SWEEP_DIR``).

Runs without any UI. The sweep folder holds what a driver needs to go on: ``sweep.json``
(each run's values and state), ``bases.json`` (the base configs the runs were planned
from) and, for a search, the study (``study.db``). A driver holds ``sweep.lock`` (an
``flock``, let go by the kernel when the driver dies however it dies), so a sweep is never
driven twice at once.

Resuming looks at each run that sweep.json does not say ended: a run whose run directory
says it ended (it finished after the driver died) is taken as it ended, never run again; a
run whose process still goes on is followed to its end (with ``--ray``, whose runs died with
their Ray instance, none is); any other (interrupted: its process died too; never started)
is run again: a grid's point into a new folder (``<name>-r2``), a search's trial told to the
study as failed and replaced by a new trial, so that the search ends with the trials asked.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dnn_tui.config import ConfigError, RunConfig, dumps, loads, shorten_path
from dnn_tui.fileio import FileRefused, atomic_write_text, read_small_file
from dnn_tui.rundir.files import HISTORY_FILE
from dnn_tui.rundir.liveness import is_alive
from dnn_tui.sweeps.local import Ended, outcome
from dnn_tui.sweeps.planning import PlannedRun, check_values, run_label
from dnn_tui.training.status import ENDED_ON_ITS_OWN, Status

BASES_FILE = "bases.json"
LOCK_FILE = "sweep.lock"
MAX_BASES_BYTES = 1 << 24
GOING = (Status.RUNNING, "queued")
"""What sweep.json says of a run that was going when the driver died."""


class ResumeError(ConfigError):
    """A folder that cannot be resumed; the message names it and says why."""


def write_bases(root: Path, bases: Sequence[tuple[str | None, RunConfig]]) -> None:
    data = [{"name": name, "config": dumps(config)} for name, config in bases]
    atomic_write_text(Path(root) / BASES_FILE, json.dumps({"bases": data}, indent=1) + "\n")


def read_bases(root: Path) -> list[tuple[str | None, RunConfig]]:
    path = Path(root) / BASES_FILE
    try:
        data = json.loads(read_small_file(path, MAX_BASES_BYTES))
        bases = [(b["name"], loads(b["config"], str(path))) for b in data["bases"]]
    except (OSError, FileRefused, ValueError, KeyError, TypeError) as error:
        raise ResumeError(
            f"{shorten_path(path)}: cannot read the sweep's base configs ({error}); "
            "a sweep made before resuming existed cannot be resumed"
        ) from None
    if not bases or not all(name is None or isinstance(name, str) for name, _ in bases):
        raise ResumeError(f"{shorten_path(path)}: bases: must be a list of named configs")
    return bases


def hold_lock(root: Path) -> int:
    """Take the sweep's driver lock for as long as this process lives; ResumeError when
    another driver holds it."""
    fd = os.open(Path(root) / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ResumeError(
            f"{shorten_path(root)}: another driver runs this sweep (it holds {LOCK_FILE})"
        ) from None
    return fd


@dataclass
class Resumed:
    """What a resumed sweep runs: runs to start, runs still going (followed), and counts."""

    pending: list[PlannedRun] = field(default_factory=list)
    adopted: list[tuple[PlannedRun, int | None]] = field(default_factory=list)
    """Runs still going, with their trial number (a search's)."""
    taken: int = 0
    """Runs that ended while no driver was there, taken as they ended."""
    interrupted: int = 0


def planned(entry: dict[str, Any], bases: Sequence[tuple[str | None, RunConfig]]) -> PlannedRun:
    """The run of a sweep.json entry: its base with its values, as the sweep planned it."""
    by_name = dict(bases)
    base = entry.get("base")
    config = by_name.get(base, bases[0][1])
    values = {str(k): str(v) for k, v in (entry.get("values") or {}).items()}
    resolved = check_values(config, values, ", ".join(f"{k}={v}" for k, v in values.items()))
    resolved = replace(resolved, preset=run_label(config.preset, values))
    return PlannedRun(entry["dir"], base, values, resolved)


def resume(
    root: Path,
    state: dict[str, Any],
    bases: Sequence[tuple[str | None, RunConfig]],
    search: Any,
    follow_going: bool,
) -> Resumed:
    """Sort the runs of a killed driver's sweep.json (see the module docstring); updates
    the entries and tells the search of the trials that ended or died meanwhile."""
    out = Resumed()
    for entry in state["runs"]:
        status = entry.get("status")
        if status in ENDED_ON_ITS_OWN or (status == Status.FAILED and search is not None):
            continue
        if status == Status.INTERRUPTED and search is not None:
            continue  # told the study already, a new trial took its place
        run = planned(entry, bases)
        run_dir = Path(root) / run.name
        if status in GOING and follow_going and is_alive(run_dir):
            entry["status"] = Status.RUNNING
            out.adopted.append((run, entry.get("trial")))
            continue
        if status in GOING and (run_dir / HISTORY_FILE).is_file():
            ended = outcome(root, Ended(run, None), stopping=False)
            if ended["status"] in ENDED_ON_ITS_OWN:
                entry.update(ended)
                out.taken += 1
                if search is not None:
                    search.adopt(run, entry["trial"])
                    search.tell(run.name, entry)
                continue
        if search is not None:
            if "trial" in entry:
                search.fail(entry["trial"])
            if status not in (Status.STOPPED, "skipped"):
                entry["status"] = Status.INTERRUPTED
                out.interrupted += 1
            continue
        if run_dir.exists():
            entry.setdefault("rerun_of", run.name)
            entry["dir"] = _free_name(root, entry["rerun_of"])
            run = replace(run, name=entry["dir"])
        entry["status"] = "pending"
        for key in ("exit_code", "error", "epochs", "best_epoch", "seconds", "pruned_at"):
            entry.pop(key, None)
        out.pending.append(run)
    return out


def _free_name(root: Path, name: str) -> str:
    number = 2
    while (Path(root) / f"{name}-r{number}").exists():
        number += 1
    return f"{name}-r{number}"
