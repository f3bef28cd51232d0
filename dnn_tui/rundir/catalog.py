"""Finding runs: every run directory under a folder, summed up for a list.

Runs without any UI and without torch; ``dnn-tui runs`` and the dashboard's compare screen
list runs with it. A folder is a run directory when it holds any of a run's files
(``runs.RUN_FILES``: ``config.toml``, ``history.json``, ``liveness.json`` ...); any other
folder is searched in turn (a suite's
``runs/<time>-suite-NAME/<preset>/``, a sweep's deeper folders) down to ``MAX_DEPTH``
levels, never through a symlink and never into hidden folders.

A list reads only what it shows: each run's history.json (checked by the one loader,
``runs.read_history``) and, for a run that says it is running, its liveness record, so a
run whose process is gone is listed as ``interrupted``, as is a run directory that holds
only its claim (``liveness.json``) or ``config.toml``, without history.json (nor what comes
with it), and whose process is gone: it ended before its first write. A ``RunCatalog``
remembers what it read by the file's modification time and size: listing again costs a
``stat`` per run.
A run whose history.json cannot be read or breaks its layout is listed as ``damaged``,
with the file and the reason; it never stops the others from being listed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dnn_tui.rundir.files import (
    CONFIG_FILE,
    EPOCHS_FILE,
    HISTORY_CSV,
    HISTORY_FILE,
    RUN_FILES,
    WEIGHTS_FILE,
    RunError,
    load_config,
    read_history,
)
from dnn_tui.rundir.liveness import LIVENESS_FILE, shown_status
from dnn_tui.rundir.readings import acc_on_test, best_val_acc, gaps, max_val_acc
from dnn_tui.training.status import Status

MAX_DEPTH = 6
"""Folder levels searched below the root: suites use 2, sweeps a few more."""
DAMAGED = "damaged"
"""The status of a run whose files cannot be read or break their layout."""


@dataclass(frozen=True)
class RunEntry:
    """One run as a list shows it."""

    path: Path
    name: str
    """The run directory relative to the listed folder (``<time>-suite-NAME/<preset>``)."""
    status: str
    """history.json's status, ``interrupted`` for a running one whose process is gone, or
    ``damaged``."""
    preset: str | None = None
    dataset: str | None = None
    epochs: int = 0
    """Epochs finished."""
    planned: int | None = None
    """Epochs the config asked for."""
    best_epoch: int | None = None
    """The ★ best epoch: the lowest validation loss, whose weights the run keeps."""
    best_val_acc: float | None = None
    """The best epoch's validation accuracy."""
    max_val_acc: float | None = None
    """The top validation accuracy of any epoch (its weights may be gone)."""
    test_acc: float | None = None
    """The best epoch's weights on the test split."""
    gap: float | None = None
    """Training minus validation accuracy at the last epoch."""
    modified: float | None = None
    """Unix time of the last write of history.json or of the epoch log (None when unknown)."""
    problem: str | None = None
    """For a damaged run: the file, the field and the rule (RunError's message)."""

    @property
    def damaged(self) -> bool:
        return self.status == DAMAGED

    def to_json(self, now: float) -> dict[str, Any]:
        """The entry for ``dnn-tui runs --json``."""
        return {
            "path": str(self.path),
            "name": self.name,
            "status": self.status,
            "preset": self.preset,
            "dataset": self.dataset,
            "epochs": self.epochs,
            "planned_epochs": self.planned,
            "best_epoch": self.best_epoch,
            "best_val_acc": self.best_val_acc,
            "max_val_acc": self.max_val_acc,
            "test_acc": self.test_acc,
            "gap": self.gap,
            "modified": self.modified,
            "age_s": None if self.modified is None else max(now - self.modified, 0.0),
            "problem": self.problem,
        }


def find_run_dirs(root: Path, max_depth: int = MAX_DEPTH) -> Iterator[Path]:
    """The run directories under root (root itself when it is one), depth first, in name order."""
    pending = [(Path(root), 0)]
    while pending:
        folder, depth = pending.pop()
        try:
            with os.scandir(folder) as scan:
                entries = list(scan)
        except OSError:
            continue  # unreadable or gone: nothing to list there
        if any(entry.name in RUN_FILES for entry in entries):
            yield folder
            continue
        if depth >= max_depth:
            continue
        subfolders = sorted(
            (
                entry.name
                for entry in entries
                if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False)
            ),
            reverse=True,
        )
        pending.extend((folder / name, depth + 1) for name in subfolders)


def summarize(path: Path, name: str) -> RunEntry:
    """A run directory as a list shows it, from its history.json (and liveness record)."""
    history_path = path / HISTORY_FILE
    try:
        modified = os.stat(history_path).st_mtime
    except OSError:
        modified = None
    with contextlib.suppress(OSError):  # a running run's epochs reach its log first
        logged = os.stat(path / EPOCHS_FILE).st_mtime
        modified = logged if modified is None else max(modified, logged)
    try:
        history = read_history(history_path)
    except RunError as error:
        if error.rule is not None and error.rule.startswith("missing") and _claimed(path):
            return _before_history(path, name)
        return RunEntry(path, name, DAMAGED, modified=modified, problem=str(error))
    config = history["config"]
    train = config.get("train")
    planned = train.get("epochs") if isinstance(train, dict) else None
    return RunEntry(
        path=path,
        name=name,
        status=shown_status(history["status"], path),
        preset=config.get("preset"),
        dataset=_dataset_name(history),
        epochs=len(history["epochs"]),
        planned=planned if isinstance(planned, int) and not isinstance(planned, bool) else None,
        best_epoch=history.get("best_epoch"),
        best_val_acc=best_val_acc(history),
        max_val_acc=max_val_acc(history),
        test_acc=acc_on_test(history),
        gap=gaps(history).last,
        modified=modified,
    )


def _claimed(path: Path) -> bool:
    """Whether a run claimed the directory (its liveness record or its config is there) and
    wrote nothing that comes with or after history.json (history.csv, the weights): without
    history.json such a directory is a run that has not got that far, not a damaged one."""
    return any(os.path.lexists(path / file) for file in (LIVENESS_FILE, CONFIG_FILE)) and not any(
        os.path.lexists(path / file) for file in (HISTORY_CSV, WEIGHTS_FILE)
    )


def _before_history(path: Path, name: str) -> RunEntry:
    """A run that has not written history.json: running while its process lives (it is
    loading its data), else ``interrupted`` (it went before its first write). Its preset,
    dataset and planned epochs come from config.toml when that reads well."""
    status = shown_status(Status.RUNNING, path)
    try:
        config = load_config(path / CONFIG_FILE)
    except RunError:
        return RunEntry(path, name, status, modified=_modified(path))
    return RunEntry(
        path,
        name,
        status,
        preset=config.preset,
        dataset=config.data.dataset,
        planned=config.train.epochs,
        modified=_modified(path),
    )


def _modified(path: Path) -> float | None:
    """When the run last wrote its claim or config (it has no history.json)."""
    times = []
    for file in (LIVENESS_FILE, CONFIG_FILE):
        with contextlib.suppress(OSError):
            times.append(os.stat(path / file).st_mtime)
    return max(times, default=None)


def _relative(path: Path, root: Path) -> str:
    try:
        name = str(path.relative_to(root))
    except ValueError:
        name = str(path)
    return path.name if name == "." else name


def list_runs(root: Path) -> list[RunEntry]:
    """Every run under root, summed up, in list order (see ``RunCatalog.scan``)."""
    return RunCatalog(root).scan()


class RunCatalog:
    """The runs under a folder, listed again cheaply: a run is read again only when its
    history.json changed (or, while it says running, to ask whether its process lives)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._read: dict[Path, tuple[tuple[int, ...], RunEntry]] = {}

    def forget(self, path: Path) -> None:
        """Read this run again at the next scan (its directory was deleted or changed)."""
        self._read.pop(path, None)

    def scan(self) -> list[RunEntry]:
        """Every run under the root: the most recent folder first, and within a folder (a
        suite) in the order the runs were made."""
        entries = []
        seen = {}
        for path in find_run_dirs(self.root):
            entry = self._entry(path)
            seen[path] = self._read[path]
            entries.append(entry)
        self._read = seen
        return sorted(entries, key=self._order(entries))

    def _entry(self, path: Path) -> RunEntry:
        try:
            info = os.stat(path / HISTORY_FILE)
            key = (info.st_mtime_ns, info.st_size, info.st_ino)
            if not stat.S_ISREG(info.st_mode):
                key = (0, 0, -1)
        except OSError:
            key = (0, 0, 0)
        try:  # a running run's epochs reach its epoch log before its history.json
            logged = os.stat(path / EPOCHS_FILE)
            key = (*key, logged.st_mtime_ns, logged.st_size)
        except OSError:
            pass
        cached = self._read.get(path)
        if cached is not None and cached[0] == key and key[2] > 0:
            entry = cached[1]
            if entry.status in (Status.RUNNING, Status.INTERRUPTED):
                status = shown_status(Status.RUNNING, path)
                if status != entry.status:
                    entry = replace(entry, status=status)
        else:
            entry = summarize(path, _relative(path, self.root))
        self._read[path] = (key, entry)
        return entry

    def _order(self, entries: list[RunEntry]) -> Any:
        """Sort key: top folders newest first (their names start with the time, their runs
        are compared by when they were written), the runs in a folder oldest first."""
        newest: dict[str, float] = {}
        for entry in entries:
            top = entry.name.split(os.sep, 1)[0]
            newest[top] = max(newest.get(top, 0.0), entry.modified or 0.0)

        def key(entry: RunEntry) -> tuple[float, str, float, str]:
            top = entry.name.split(os.sep, 1)[0]
            return (-newest[top], top, entry.modified or 0.0, entry.name)

        return key


# --- deleting a run from a list ---------------------------------------------------------------


class DeleteRefused(OSError):
    """A run that is not deleted: it runs, or its path leaves the runs folder or holds a link."""


def delete_run(root: Path, name: str) -> None:
    """Delete the run directory ``root / name`` and the folders it leaves empty (a suite's),
    never ``root`` itself.

    A list asks before it deletes, and anything may change meanwhile, so everything is
    checked again now: each folder of ``name`` is opened relative to the one before without
    following a symlink (a folder swapped for a link to elsewhere is refused, never deleted
    through), the run is read back through the descriptor it is deleted by and refused while
    it runs, and the tree is removed relative to its parent's descriptor (``shutil.rmtree``
    with ``dir_fd``, which never follows a link)."""
    import shutil

    parts = Path(name).parts
    if not parts or any(part in ("", ".", "..") for part in parts) or Path(name).is_absolute():
        raise DeleteRefused(errno.EINVAL, "not a run folder inside the runs folder", name)
    fds = [os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)]
    try:
        for part in parts:
            try:
                fds.append(os.open(part, _NO_LINK_DIR, dir_fd=fds[-1]))
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise DeleteRefused(
                        errno.ELOOP, f"{part} is a symbolic link or no folder: never followed", name
                    ) from None
                raise type(error)(error.errno, error.strerror, name) from None
        status = summarize(_by_descriptor(fds[-1], root / name), name).status
        if status == Status.RUNNING:
            raise DeleteRefused(errno.EBUSY, "the run is running: stop it first", name)
        held = os.fstat(fds[-1])
        os.close(fds.pop())
        there = os.stat(parts[-1], dir_fd=fds[-1], follow_symlinks=False)
        if (there.st_dev, there.st_ino) != (held.st_dev, held.st_ino):
            raise DeleteRefused(errno.EBUSY, "the folder changed while it was checked", name)
        shutil.rmtree(parts[-1], dir_fd=fds[-1])
        for part in reversed(parts[:-1]):  # an emptied suite folder goes too
            os.close(fds.pop())
            try:
                os.rmdir(part, dir_fd=fds[-1])
            except OSError:
                break  # not empty, or changed: kept
    finally:
        for fd in fds:
            os.close(fd)


_NO_LINK_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _by_descriptor(fd: int, path: Path) -> Path:
    """A path that reaches the folder held by fd itself (``/proc/self/fd/N``) where the system
    has one, so that what is read is what will be deleted; else the path."""
    held = Path(f"/proc/self/fd/{fd}")
    return held if held.is_dir() else path


def _dataset_name(history: dict[str, Any]) -> str:
    """The dataset a run trained on; for a run that ended before its data loaded (no
    ``dataset`` record), the one its config names."""
    if history["dataset"] is not None:
        return history["dataset"]["name"]
    data = history["config"].get("data")
    name = data.get("dataset") if isinstance(data, dict) else None
    return name if isinstance(name, str) else "?"
