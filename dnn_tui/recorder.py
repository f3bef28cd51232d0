"""The writing side of a run directory: ``RunRecorder`` keeps it up to date as a run goes on.

Runs without any UI; torch and safetensors are imported only when weights are written.
``dnn_tui.runs`` describes the files and reads them back.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnn_tui.config import config_hash, dumps, to_dict
from dnn_tui.fileio import atomic_write_bytes, atomic_write_text
from dnn_tui.runs import (
    CONFIG_FILE,
    HISTORY_CSV,
    HISTORY_FILE,
    RUNNING,
    SCHEMA,
    WEIGHTS_FILE,
    dumps_history,
    history_csv,
)
from dnn_tui.training.events import EpochEnded, Event, RunFinished, RunStarted

if TYPE_CHECKING:
    from torch import Tensor


class RunRecorder:
    """An event sink that keeps a run directory up to date as the run goes on.

    ``RunStarted`` creates the directory and writes config.toml, history.json (status
    ``running``) and history.csv (header only); each ``EpochEnded`` rewrites both
    histories; ``RunFinished`` writes the final status and model.safetensors.
    """

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.history: dict[str, Any] | None = None
        """history.json's content as last written; None before RunStarted."""
        self._hash = ""

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._started(event)
        elif isinstance(event, EpochEnded):
            history = self._require(event)
            history["epochs"].append(event.record)
            history["best_epoch"] = event.best_epoch
            self._write_history(history)
        elif isinstance(event, RunFinished):
            history = self._require(event)
            history.update(
                status=event.status,
                best_epoch=event.best_epoch,
                test=event.test,
                diverged=event.diverged,
            )
            if event.weights:
                self._write_weights(event.weights, event.best_epoch)
            self._write_history(history)

    def _require(self, event: Event) -> dict[str, Any]:
        if self.history is None:
            raise RuntimeError(f"RunRecorder got {type(event).__name__} before RunStarted")
        return self.history

    def _started(self, event: RunStarted) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # Weights left by an earlier run in the same folder would not match this config.
        (self.run_dir / WEIGHTS_FILE).unlink(missing_ok=True)
        self._hash = config_hash(event.config)
        atomic_write_text(self.run_dir / CONFIG_FILE, dumps(event.config))
        self.history = history = {
            "schema": SCHEMA,
            "status": RUNNING,
            "config": to_dict(event.config),
            "dataset": event.dataset,
            "layers": list(event.layers),
            "epochs": [],
            "best_epoch": None,
            "test": None,
            "diverged": None,
        }
        self._write_history(history)

    def _write_history(self, history: dict[str, Any]) -> None:
        atomic_write_text(self.run_dir / HISTORY_FILE, dumps_history(history))
        atomic_write_text(self.run_dir / HISTORY_CSV, history_csv(history["epochs"]))

    def _write_weights(self, weights: dict[str, Tensor], epoch: int | None) -> None:
        from safetensors.torch import save

        tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in weights.items()}
        metadata = {"config_hash": self._hash, "epoch": str(epoch or 0)}
        atomic_write_bytes(self.run_dir / WEIGHTS_FILE, save(tensors, metadata=metadata))
