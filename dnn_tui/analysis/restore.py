"""A saved run's kept model and the data it was trained on, rebuilt for evaluation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from dnn_tui.config import RunConfig, validate, with_options
from dnn_tui.data import Dataset, load_dataset
from dnn_tui.model import build_mlp
from dnn_tui.rundir.files import WEIGHTS_FILE, RunError, SavedRun, load_run, load_weights
from dnn_tui.training.engine import resolve_device


@dataclass(frozen=True)
class RestoredRun:
    """A run's model with its kept weights, on its device, and the data to evaluate it on."""

    saved: SavedRun
    """The run's files, as the loader read them."""
    config: RunConfig
    """The run's config with the options given on top (another dataset, device...)."""
    model: nn.Module
    """The model with the kept (best) weights, on ``device``, in eval mode."""
    data: Dataset
    """The dataset the run trained on, or the one the options named."""
    device: str


def restore_run(
    path: str | Path,
    options: Mapping[str, Any] | None = None,
    check: Callable[[RunConfig], None] | None = None,
) -> RestoredRun:
    """Rebuild the run at path with its kept weights; RunError names the file that fails.

    options override the run's config (dataset, data_dir, idx_images, idx_labels, device),
    validated like the command line's; check sees the resulting config before any data
    loads (the command line refuses options the run would not read).
    """
    saved = load_run(path)
    if saved.weights is None:
        raise RunError(f"{saved.path / WEIGHTS_FILE}: missing; the run saved no weights")
    weights = load_weights(saved.weights)
    recorded = saved.history.get("dataset") or {}
    options = dict(options or {})
    if "dataset" not in options and saved.config.data.dataset == "auto":
        # The data the run trained on (digits when auto fell back), even if MNIST came since.
        options["dataset"] = recorded.get("name", "auto")
    config = validate(with_options(saved.config, options))
    if check is not None:
        check(config)
    device = resolve_device(config.train.device)

    data = load_dataset(config.data)
    expected = (recorded.get("input_dim"), recorded.get("classes"))
    if None not in expected and expected != (data.input_dim, data.classes):
        raise RunError(
            f"{data.name}: {data.input_dim} inputs and {data.classes} classes, but the model of "
            f"{saved.path} takes {expected[0]} inputs and gives {expected[1]} classes"
        )
    model = build_mlp(config.model, data.input_dim, data.classes)
    try:
        model.load_state_dict(weights)
    except RuntimeError as error:
        first = str(error).splitlines()[0]
        raise RunError(
            f"{saved.weights}: weights do not fit config.toml's model ({first})"
        ) from None
    model.to(device).eval()
    return RestoredRun(saved=saved, config=config, model=model, data=data, device=str(device))
