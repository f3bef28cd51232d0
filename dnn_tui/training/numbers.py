"""How numbers, durations and shapes are written, the same in every panel and every headless table.

Numbers that sit in columns have a fixed width whatever their size (a column that
widens as a loss grows would shift every column after it): ``fmt_fixed`` writes a
number in at most ``width`` characters, with as many decimals as fit (four, as the
Keras log prints losses) and in short scientific notation (``2.49e7``) when even the
integer part does not fit or too few digits would be left.
"""

from __future__ import annotations

import math

NUMBER_W = 6
"""Width of a loss (``2.3071``, ``1376.2``, ``2.49e7``) wherever one is written."""


def _special(value: float | None) -> str | None:
    """The text of a missing or non-finite value, or None for an ordinary number."""
    if value is None:
        return "-"
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return None


def fmt_sci(value: float, width: int = NUMBER_W) -> str:
    """Short scientific notation in at most ``width`` characters: ``2.49e7``, ``1.5e-9``.

    The exponent loses its ``+`` and leading zeros; the mantissa keeps the digits that fit
    (none below one digit, so a very narrow width may still be exceeded).
    """
    special = _special(value)
    if special is not None:
        return special
    text = ""
    for digits in range(3, -1, -1):
        mantissa, exponent = f"{value:.{digits}e}".split("e")
        text = f"{mantissa}e{int(exponent)}"
        if len(text) <= width:
            return text
    return text


def fmt_fixed(value: float | None, width: int = NUMBER_W, decimals: int = 4) -> str:
    """A number in at most ``width`` characters: fixed-point with up to ``decimals`` decimals
    when that fits and keeps at least two significant digits, else ``fmt_sci``."""
    special = _special(value)
    if special is not None:
        return special
    assert value is not None
    if value == 0:
        return f"{0:.{min(decimals, max(width - 2, 0))}f}"
    for places in range(decimals, -1, -1):
        text = f"{value:.{places}f}"
        if len(text) > width:
            continue
        if abs(value) >= 10 ** (1 - places):  # two significant digits survive the rounding
            return text
        break
    return fmt_sci(value, width)


def fmt_loss(value: float | None) -> str:
    """A loss in ``NUMBER_W`` characters at most: ``2.3071``, ``1376.2``, ``2.49e7``."""
    return fmt_fixed(value, NUMBER_W)


def fmt_acc(value: float | None) -> str:
    """An accuracy in [0, 1] as a percentage with one decimal (``100.0%`` at the widest)."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{100 * value:.1f}%"


def fmt_norm(value: float | None) -> str:
    """A gradient norm in short scientific notation, since norms span many decades: ``1.5e-9``,
    ``3.1e-1``, ``1.5e2`` (one decimal; 6 characters, 7 below 1e-9)."""
    special = _special(value)
    if special is not None:
        return special
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def fmt_weight_norm(value: float | None) -> str:
    """A weight norm in at most 6 characters: ``8.81``, ``12.4``, ``1.2e5`` (norms of healthy
    layers sit between about 1 and 100, so three digits read better than scientific)."""
    special = _special(value)
    if special is not None:
        return special
    return f"{value:.3g}" if value < 1e4 else fmt_norm(value)


LR_W = 7
"""Width of a learning rate (``0.00025``, ``3.13e-5``)."""


def fmt_lr(value: float | None) -> str:
    """A learning rate in at most LR_W characters, three significant digits when they fit:
    ``0.001``, ``0.0005``, ``1e-5``."""
    special = _special(value)
    if special is not None:
        return special
    text = f"{value:.3g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text if len(text) <= LR_W else fmt_sci(value, LR_W)


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
    """A short duration in seconds in at most 5 characters: ``0.004``, ``0.04``, ``12.3``,
    ``1234`` (at least one significant digit however fast the epoch)."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 0.1:
        return f"{seconds:.3f}"
    if seconds < 1:
        return f"{seconds:.2f}"
    if seconds < 100:
        return f"{seconds:.1f}"
    return f"{seconds:.0f}"


def fmt_rate(samples_per_s: float | None) -> str:
    """Samples per second, rounded for reading at a glance."""
    if samples_per_s is None or not math.isfinite(samples_per_s):
        return "-"
    if samples_per_s >= 10_000:
        return f"{samples_per_s / 1000:,.0f}k"
    return f"{samples_per_s:,.0f}"


def fmt_step_time(seconds: float | None) -> str:
    """Time a step takes, as the Keras log writes it: ``12 ms/step``, ``1.3 s/step``."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "- ms/step"
    if seconds >= 1:
        return f"{seconds:.1f} s/step"
    ms = 1000 * seconds
    return f"{ms:.1f} ms/step" if ms < 10 else f"{ms:.0f} ms/step"


def fmt_gap(value: float | None) -> str:
    """A training-minus-validation accuracy gap: ``0.034``, ``-0.012`` (three decimals)."""
    special = _special(value)
    if special is not None:
        return special
    return f"{value:.3f}"


def fmt_acc_spread(mean: float | None, spread: float | None) -> str:
    """A mean accuracy and its spread over seeds in points: ``97.3% ± 0.4`` (the mean alone
    when there is no spread)."""
    if spread is None or not math.isfinite(spread):
        return fmt_acc(mean)
    return f"{fmt_acc(mean)} ± {100 * spread:.1f}"
