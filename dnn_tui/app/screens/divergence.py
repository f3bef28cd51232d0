"""DivergenceScreen: the run diverged; say where, and offer one-key remedies.

A non-finite loss or gradient ends the run within the step that produced it
(before the optimizer step), so the model keeps its last good weights. The usual
causes are exploding gradients or a learning rate too large for the landscape;
the two remedies re-run the same config with clipping on (or a halved threshold
when it was on already) or with the learning rate halved.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from dnn_tui.config import RunConfig
from dnn_tui.training.controls import DEFAULT_CLIP_NORM


def state_at_failure(config: RunConfig, diverged: dict[str, Any]) -> tuple[float | None, float]:
    """The clipping threshold (None = off) and learning rate in force at the failing step: the
    run's keys may have changed them since it started (older runs did not record them)."""
    clip = diverged.get("clip_norm", config.train.clip_norm)
    lr = diverged.get("lr")
    return clip, lr if isinstance(lr, int | float) else config.train.lr


def with_clipping(config: RunConfig, diverged: dict[str, Any]) -> RunConfig:
    """Clipping on at the default threshold, or the threshold halved when it was on."""
    clip, lr = state_at_failure(config, diverged)
    new = DEFAULT_CLIP_NORM if clip is None else clip / 2
    return replace(config, train=replace(config.train, clip_norm=new, lr=lr))


def with_half_lr(config: RunConfig, diverged: dict[str, Any]) -> RunConfig:
    """The learning rate halved, clipping as it was at the failing step."""
    clip, lr = state_at_failure(config, diverged)
    return replace(config, train=replace(config.train, lr=lr / 2, clip_norm=clip))


class DivergenceScreen(ModalScreen[RunConfig | None]):
    """Names the epoch, step and layer; returns the config to re-run, or None to dismiss."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "remedy('clip')", "re-run with clipping"),
        Binding("l", "remedy('lr')", "re-run with lr ÷2"),
        Binding("escape,d", "dismiss(None)", "dismiss"),
    ]

    def __init__(
        self, config: RunConfig, diverged: dict[str, Any], best_epoch: int | None = None
    ) -> None:
        super().__init__(id="divergence")
        self._config = config
        self._diverged = diverged
        self._best_epoch = best_epoch

    def compose(self) -> ComposeResult:
        where = self._diverged
        layer = where.get("layer")
        culprit = "the loss" if layer == "loss" else f"the gradient of {layer}"
        clip, lr = state_at_failure(self._config, where)
        clipping = (
            f"clipping on at max norm {DEFAULT_CLIP_NORM:g}"
            if clip is None
            else f"clipping at max norm {clip / 2:g} (half of {clip:g})"
        )
        kept = (
            f"the weights of the best epoch ({self._best_epoch}) were kept"
            if self._best_epoch is not None
            else "no epoch had finished, so no weights were kept"
        )
        with Vertical(id="divergence-panel"):
            yield Label("✗ The run diverged", id="divergence-title")
            yield Static(
                f"In epoch {where.get('epoch')}, step {where.get('step')}, {culprit} became "
                "infinite or NaN. The run stopped before that step changed the weights; "
                f"{kept}.\n\n"
                "Exploding gradients or a learning rate too large for the loss surface "
                "make each step overshoot until the numbers overflow.",
                id="divergence-text",
            )
            yield Static(
                f"[b]c[/b]  re-run with {clipping}\n"
                f"[b]l[/b]  re-run with the learning rate halved ({lr:g} → {lr / 2:g})\n"
                "[b]d[/b]  dismiss (escape)",
                id="divergence-remedies",
            )

    def action_remedy(self, kind: str) -> None:
        fix = with_clipping if kind == "clip" else with_half_lr
        self.dismiss(fix(self._config, self._diverged))
