"""How numbers, durations and shapes are written on screen, the same in every panel."""

from __future__ import annotations

import math


def fmt_loss(value: float | None) -> str:
    """A loss with four significant digits; ``-`` when unknown, ``nan``/``inf`` as such."""
    if value is None:
        return "-"
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def fmt_acc(value: float | None) -> str:
    """An accuracy in [0, 1] as a percentage with one decimal."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{100 * value:.1f}%"


def fmt_norm(value: float | None) -> str:
    """A gradient norm: scientific notation, since they span many decades."""
    if value is None:
        return "-"
    return f"{value:.1e}" if math.isfinite(value) else str(value)


def fmt_count(value: int) -> str:
    """An integer with thousands separators."""
    return f"{value:,}"


def fmt_duration(seconds: float | None) -> str:
    """``m:ss`` below an hour, ``h:mm:ss`` above; ``-`` when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "-"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def fmt_seconds(seconds: float | None) -> str:
    """A short duration in seconds: two decimals below one second, one above."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    return f"{seconds:.2f}" if seconds < 1 else f"{seconds:.1f}"


def fmt_rate(samples_per_s: float) -> str:
    """Samples per second, rounded for reading at a glance."""
    if not math.isfinite(samples_per_s):
        return "-"
    if samples_per_s >= 10_000:
        return f"{samples_per_s / 1000:,.0f}k"
    return f"{samples_per_s:,.0f}"
