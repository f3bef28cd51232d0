"""Continuing a run in its own directory from its checkpoint (``dnn-tui train --resume``).

Runs without any UI. ``prepare_resumption`` checks everything before it changes anything: the
run's config, history and checkpoint read through the loader (``rundir.files``: a damaged
checkpoint, or one of another config, is refused naming the file and the reason), the
options that may change (``training.checkpoint.RESUMABLE``; any other is refused by name),
and the epochs (a run that completed its epochs needs more). It then claims the directory as
any run does (``claim_again``: never while its run goes on, never by two at once) and cuts the
run's files back to the checkpoint's epoch: history.json (saying ``running``) first, so that
an interruption from here on leaves a run that reads as interrupted and is continued again,
then the epoch log, history.csv, events.jsonl (after the checkpoint epoch's ``EpochEnded``
line; the continued run appends ``RunResumed`` there) and the best weights (the checkpoint's).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnn_tui.config import RunConfig, config_hash, validate, with_options
from dnn_tui.fileio import Folder
from dnn_tui.rundir import liveness
from dnn_tui.rundir.files import (
    CHECKPOINT_FILE,
    CONFIG_FILE,
    CONTROL_FILE,
    EPOCHS_FILE,
    EVALUATION_FILE,
    EVENTS_FILE,
    HISTORY_CSV,
    HISTORY_FILE,
    LIVENESS_FILE,
    WEIGHTS_FILE,
    RunError,
    dumps_history,
    epoch_line,
    has_ended,
    history_csv,
    load_checkpoint,
    load_config,
    read_history,
    run_error,
)
from dnn_tui.rundir.recorder import ClaimError
from dnn_tui.training.checkpoint import RESUMABLE, identity
from dnn_tui.training.status import Status

if TYPE_CHECKING:
    from dnn_tui.training.checkpoint import Checkpoint


class ResumeRefused(Exception):
    """The run cannot be continued as asked; the message names the file or option and why."""


@dataclass(frozen=True)
class Resumption:
    """A run about to go on from its checkpoint, its directory claimed and cut."""

    folder: Folder
    config: RunConfig
    """The continued run's config: the run's own with the changes asked for."""
    checkpoint: Checkpoint
    history: dict[str, Any]
    """history.json cut at the checkpoint."""
    status: str
    """How the run had ended (``interrupted`` when its process was killed)."""


def resumed_config(old: RunConfig, changes: dict[str, Any], checkpoint: Checkpoint) -> RunConfig:
    """The run's config going on: the learning rate and clipping in force at the checkpoint
    (a run may have changed them as it went), then the options given; others are refused."""
    refused = sorted(name for name in changes if name not in RESUMABLE)
    if refused:
        allowed = ", ".join("--" + name.replace("_", "-") for name in sorted(RESUMABLE))
        raise ResumeRefused(
            f"--{refused[0].replace('_', '-')}: cannot change when a run continues (its "
            f"checkpoint holds the model and data it trained); what may change: {allowed}"
        )
    config = with_options(old, {"lr": checkpoint.lr, "clip_norm": checkpoint.clip_norm})
    return validate(with_options(config, changes))


def prepare_resumption(run_dir: str | Path, changes: dict[str, Any]) -> Resumption:
    """Check, claim and cut the run directory (the module docstring); ResumeRefused or
    RunError say why not, and leave the directory as it was."""
    path = Path(run_dir)
    try:
        old = load_config(path / CONFIG_FILE)
        history = read_history(path / HISTORY_FILE)
        _refuse_if_live(path, history)
        checkpoint = load_checkpoint(path, identity(old))
    except RunError as error:
        raise ResumeRefused(str(error)) from None
    config = resumed_config(old, changes, checkpoint)
    status = liveness.shown_status(history["status"], path)
    epochs = config.train.epochs
    if checkpoint.epoch >= epochs:
        if "epochs" in changes:
            raise ResumeRefused(
                f"--epochs: {epochs} is not more than the checkpoint's epoch "
                f"({checkpoint.epoch}); give more to continue"
            )
        raise ResumeRefused(
            f"{path}: the run {status} at epoch {checkpoint.epoch} of {epochs}; "
            f"--epochs N (more than {checkpoint.epoch}) continues it"
        )
    kept = history["epochs"][: checkpoint.epoch]
    if [record["epoch"] for record in kept] != list(range(1, checkpoint.epoch + 1)):
        rule = f"does not hold epochs 1 to {checkpoint.epoch}, the checkpoint's: not continued"
        raise ResumeRefused(str(run_error(path / HISTORY_FILE, rule)))
    _check_fits(checkpoint, config, history, path)
    folder = claim_again(path)
    try:
        earlier = history.get("resumed")
        resumed = [
            *(earlier if isinstance(earlier, list) else []),
            {
                "epoch": checkpoint.epoch,
                "epochs": epochs,
                "status": status,
            },
        ]
        base = {
            **history,
            "epochs": kept,
            "best_epoch": checkpoint.best_epoch,
            "resumed": resumed,
        }
        _cut(folder, config, checkpoint, base, kept)
    except BaseException:
        folder.remove(LIVENESS_FILE)
        folder.close()
        raise
    return Resumption(folder, config, checkpoint, base, status)


def _refuse_if_live(path: Path, history: dict[str, Any]) -> None:
    record = liveness.read_liveness(path)
    if history["status"] == Status.RUNNING and record is not None and record.alive():
        raise ResumeRefused(
            f"{path / LIVENESS_FILE}: its run is still going (pid {record.pid} on "
            f"{record.host}); stop it first (dnn-tui watch, then s)"
        )


def _check_fits(
    checkpoint: Checkpoint, config: RunConfig, history: dict[str, Any], path: Path
) -> None:
    """The checkpoint's model tensors have the names and shapes of the config's model."""
    from dnn_tui.model import build_mlp
    from dnn_tui.training.checkpoint import MODEL

    dataset = history.get("dataset") or {}
    try:
        model = build_mlp(config.model, int(dataset["input_dim"]), int(dataset["classes"]))
    except (KeyError, TypeError, ValueError):
        rule = "the dataset's sizes are missing: not continued"
        raise ResumeRefused(str(run_error(path / HISTORY_FILE, rule, "dataset"))) from None
    shapes = {MODEL + name: tuple(t.shape) for name, t in model.state_dict().items()}
    saved = {
        name: tuple(t.shape) for name, t in checkpoint.tensors.items() if name.startswith(MODEL)
    }
    if shapes != saved:
        rule = "its model tensors do not fit the config's model: not continued"
        raise ResumeRefused(str(run_error(path / CHECKPOINT_FILE, rule)))


def claim_again(path: Path) -> Folder:
    """Claim a run's own directory for its continuation: its liveness record is taken away
    by an atomic rename (one claimant wins) and replaced by ours; refused while it says its
    run goes on."""
    folder = Folder(path)
    aside = f".{LIVENESS_FILE}.{os.getpid()}.old"
    try:
        try:
            folder.rename(LIVENESS_FILE, aside)
        except FileNotFoundError:
            aside = ""
        record = None
        if aside:
            with contextlib.suppress(OSError):
                record = liveness.parse_liveness(folder.read(aside, liveness.MAX_BYTES))
        if record is not None and record.alive() and not has_ended(path):
            with contextlib.suppress(OSError):
                folder.rename(aside, LIVENESS_FILE)
            raise ClaimError(f"{path}: its run is still going (pid {record.pid}); not continued")
        folder.create_exclusive(LIVENESS_FILE, liveness.current().to_json().encode())
    except FileExistsError:
        folder.close()
        raise ResumeRefused(f"{path}: another run claimed this directory first") from None
    except ClaimError as error:
        folder.close()
        raise ResumeRefused(str(error)) from None
    except BaseException:
        folder.close()
        raise
    if aside:
        folder.remove(aside)
    return folder


def _cut(
    folder: Folder,
    config: RunConfig,
    checkpoint: Checkpoint,
    base: dict[str, Any],
    kept: list[dict[str, Any]],
) -> None:
    """The run's files cut back to the checkpoint's epoch (the module docstring says in which
    order, and why)."""
    from safetensors.torch import save

    from dnn_tui.training.checkpoint import BEST

    events_end = _events_end(folder, checkpoint.epoch)
    lines = [epoch_line(record) for record in kept]
    text = dumps_history({**base, "status": Status.RUNNING}, lines)
    folder.write_atomic(HISTORY_FILE, text.encode("utf-8"))
    folder.write_atomic(EPOCHS_FILE, "".join(line + "\n" for line in lines).encode("utf-8"))
    folder.write_atomic(HISTORY_CSV, history_csv(kept).encode("utf-8"))
    if events_end is not None:
        fd = folder.open_append(EVENTS_FILE)
        try:
            os.ftruncate(fd, events_end)
        finally:
            os.close(fd)
    folder.remove(CONTROL_FILE)  # the first run's requests were taken (or were for it)
    folder.remove(EVALUATION_FILE)
    best = {
        name.removeprefix(BEST): tensor
        for name, tensor in checkpoint.tensors.items()
        if name.startswith(BEST)
    }
    if best:
        metadata = {"config_hash": config_hash(config), "epoch": str(checkpoint.best_epoch or 0)}
        folder.write_atomic(WEIGHTS_FILE, save(best, metadata=metadata))
    else:
        folder.remove(WEIGHTS_FILE)


def _events_end(folder: Folder, epoch: int) -> int | None:
    """Where events.jsonl is cut: after the checkpoint epoch's EpochEnded line; None when the
    run has no events.jsonl (one older than the log, or a copy without it)."""
    from dnn_tui.fileio import open_regular
    from dnn_tui.rundir.follow import after_epoch

    path = folder.path / EVENTS_FILE
    try:
        fd = open_regular(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ResumeRefused(f"{path}: not read: {error.strerror or error}") from None
    try:
        end = after_epoch(fd, os.fstat(fd).st_size, epoch)
    finally:
        os.close(fd)
    if end is None:
        raise ResumeRefused(f"{path}: no EpochEnded line of epoch {epoch} near its end: not cut")
    return end


def record_unresumed(resumption: Resumption, status: str, error: str | None) -> None:
    """The files of a continuation that ended before its first step (stopped or failed while
    its data loaded): the run as cut, saying so, and nothing claims it is alive."""
    history = {**resumption.history, "status": status, "error": error}
    resumption.folder.write_atomic(HISTORY_FILE, dumps_history(history).encode("utf-8"))
    resumption.folder.remove(LIVENESS_FILE)


def adopt_resumption(run_dir: str | Path) -> Resumption:
    """The resumption another process prepared in run_dir (``continue_in_background``): the
    directory claimed and cut, config.toml saying how the run goes on."""
    path = Path(run_dir)
    try:
        config = load_config(path / CONFIG_FILE)
        history = read_history(path / HISTORY_FILE)
        checkpoint = load_checkpoint(path, identity(config))
    except RunError as error:
        raise ResumeRefused(str(error)) from None
    return Resumption(Folder(path), config, checkpoint, history, history["status"])
