"""A search space: run options with typed ranges that a sampler draws values from.

Runs without any UI; Optuna is imported only where a trial is sampled. A dimension is one run
option and its range, written ``KEY=KIND:BODY``:

- ``log:LO..HI``: a number drawn on a log scale (LO > 0), for learning rates and penalties;
- ``float:LO..HI``: a number drawn uniformly;
- ``int:LO..HI``: an integer drawn uniformly (both bounds integers);
- ``choice:V1,V2``: one of the values (``/`` between the values of ``hidden`` and
  ``dropout``, which hold commas: ``hidden=choice:100,50/200/none``).

Every dimension is checked with the option's own rules before anything starts: both bounds
(and a value between them) of a range, every value of a choice, on the sweep's base config;
a ``SpaceError`` names the key and the rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from dnn_tui.config import OPTION_SECTION, OPTIONS_BY_NAME, RunConfig, key_text, shorten
from dnn_tui.fileio import did_you_mean
from dnn_tui.sweeps.planning import LIST_OPTIONS, GridError, check_values

Kind = Literal["log", "float", "int", "choice"]
KINDS: tuple[Kind, ...] = ("log", "float", "int", "choice")
_INT = re.compile(r"[+-]?[0-9]{1,18}", re.ASCII)
_SIGNIFICANT = 6
"""Digits a sampled number keeps in its text (run names, sweep.json, the run's config)."""


class SpaceError(GridError):
    """A --space spec that breaks its syntax or the option's rules; the message names the key."""


@dataclass(frozen=True)
class Dimension:
    """One searched run option: its name, the kind of its range and the range."""

    name: str
    kind: Kind
    low: float = 0.0
    high: float = 0.0
    choices: tuple[str, ...] = ()
    """The values of a ``choice``, as text that ``parse_option`` reads."""

    def spec(self) -> str:
        """The spec as ``parse_dimension`` reads it back (``lr=log:0.0001..0.1``)."""
        if self.kind == "choice":
            sep = "/" if self.name in LIST_OPTIONS else ","
            return f"{self.name}=choice:{sep.join(self.choices)}"
        low, high = (int(self.low), int(self.high)) if self.kind == "int" else (self.low, self.high)
        return f"{self.name}={self.kind}:{low!r}..{high!r}"

    def value_text(self, value: Any) -> str:
        """The option text of a sampled value: a number with at most ``_SIGNIFICANT`` digits
        when that stays inside the range (its exact repr otherwise)."""
        if self.kind == "choice":
            return str(value)
        if self.kind == "int":
            return str(int(value))
        text = format(float(value), f".{_SIGNIFICANT}g")
        return text if self.low <= float(text) <= self.high else repr(float(value))

    def contains(self, text: str) -> bool:
        """Whether an option text is a value of this dimension."""
        if self.kind == "choice":
            return text in self.choices
        try:
            number = float(text)
        except ValueError:
            return False
        whole = self.kind != "int" or number == int(number)
        return whole and self.low <= number <= self.high

    def distribution(self) -> Any:
        """The Optuna distribution this dimension samples from."""
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        if self.kind == "choice":
            return CategoricalDistribution(self.choices)
        if self.kind == "int":
            return IntDistribution(int(self.low), int(self.high))
        return FloatDistribution(self.low, self.high, log=self.kind == "log")

    def param(self, text: str) -> Any:
        """The value Optuna records for an option text of this dimension."""
        if self.kind == "choice":
            return text
        return int(float(text)) if self.kind == "int" else float(text)


def _shown(text: str) -> str:
    return shorten(text) or "''"


def parse_dimension(text: str) -> Dimension:
    """``KEY=KIND:BODY`` -> Dimension (syntax only: ``check_space`` applies the option's rules);
    SpaceError names the key and the rule."""
    key, sep, spec = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep or not key:
        raise SpaceError(
            f"{key_text(text)}: must be KEY=KIND:RANGE (for example lr=log:1e-4..1e-1)"
        )
    if key not in OPTION_SECTION:
        hint = did_you_mean(key, OPTION_SECTION)
        raise SpaceError(f"{key_text(key)}: not a run option{hint}")
    return dimension(key, spec)


def dimension(key: str, spec: str) -> Dimension:
    """The dimension of option key written as ``KIND:BODY``."""
    kind, colon, body = spec.strip().partition(":")
    if not colon or kind not in KINDS:
        raise SpaceError(
            f"{key}: {_shown(spec)} must be KIND:RANGE with KIND one of "
            f"{', '.join(KINDS)} (log:1e-4..1e-1, float:0..0.5, int:16..256, choice:relu,tanh)"
        )
    if kind == "choice":
        parts = [p.strip() for p in body.split("/" if key in LIST_OPTIONS else ",")]
        if any(not p for p in parts):
            sep = "/" if key in LIST_OPTIONS else ","
            raise SpaceError(f"{key}: choice: an empty value in {shorten(body)}; separate by {sep}")
        if len(set(parts)) != len(parts):
            raise SpaceError(f"{key}: choice: a value given twice in {shorten(body)}")
        return Dimension(key, "choice", choices=tuple(parts))
    low_text, dots, high_text = body.partition("..")
    if not dots:
        raise SpaceError(f"{key}: {kind}: must be {kind}:LO..HI, got {_shown(body)}")
    low, high = _bound(key, kind, low_text), _bound(key, kind, high_text)
    if low > high:
        raise SpaceError(f"{key}: {kind}: LO must not be above HI, got {low:g}..{high:g}")
    if kind == "log" and low <= 0:
        raise SpaceError(f"{key}: log: LO must be above 0 (a log scale), got {low:g}")
    return Dimension(key, kind, low, high)


def _bound(key: str, kind: str, text: str) -> float:
    text = text.strip()
    if kind == "int":
        if not _INT.fullmatch(text):
            raise SpaceError(f"{key}: int: bounds must be integers, got {_shown(text)}")
        return float(int(text))
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or len(text) > 64:
        raise SpaceError(f"{key}: {kind}: bounds must be finite numbers, got {shorten(text)}")
    return value


def from_table(table: Mapping[str, Any], where: str) -> list[Dimension]:
    """A sweep file's ``[space]``: ``KEY = "KIND:RANGE"`` or an array of choices
    (``activation = ["relu", "tanh"]``, ``hidden = [[100, 50], [200], []]``)."""
    from dnn_tui.sweeps.planning import value_text

    out = []
    for key, spec in table.items():
        if key not in OPTION_SECTION:
            hint = did_you_mean(key, OPTION_SECTION)
            raise SpaceError(f"{where}.{key_text(key)}: not a run option{hint}")
        try:
            if isinstance(spec, str):
                out.append(dimension(key, spec))
            elif isinstance(spec, list) and spec:
                texts = [value_text(v) for v in spec]
                sep = "/" if key in LIST_OPTIONS else ","
                out.append(dimension(key, "choice:" + sep.join(texts)))
            else:
                raise SpaceError(f'{key}: must be "KIND:RANGE" or an array of choices')
        except SpaceError as error:
            raise SpaceError(f"{where}.{error}") from None
    return out


def check_space(base: RunConfig, dims: Sequence[Dimension]) -> None:
    """Every dimension against the option's rules on base: a choice's every value, a range's
    bounds and middle; SpaceError names the key and the rule."""
    names = [d.name for d in dims]
    if not dims:
        raise SpaceError("give at least one KEY=KIND:RANGE (for example lr=log:1e-4..1e-1)")
    if len(set(names)) != len(names):
        twice = next(name for name in names if names.count(name) > 1)
        raise SpaceError(f"{twice}: in the space twice; give it once")
    for dim in dims:
        _check_kind(dim)
        if dim.kind == "choice":
            values = list(dim.choices)
        else:
            middle = (dim.low + dim.high) / 2
            if dim.kind == "log":
                middle = math.sqrt(dim.low * dim.high)
            values = [dim.value_text(v) for v in (dim.low, middle, dim.high)]
        for value in values:
            try:
                check_values(base, {dim.name: value}, dim.name)
            except GridError as error:
                raise SpaceError(str(error)) from None


FRACTIONS = frozenset({"number", "norm", "dropout"})
"""Option syntaxes that read a number with a fraction: what ``log`` and ``float`` draw."""
WHOLE = FRACTIONS | {"integer", "size", "threads", "widths"}
"""Option syntaxes that read a whole number: what ``int`` draws."""


def _check_kind(dim: Dimension) -> None:
    syntax = OPTIONS_BY_NAME[dim.name].syntax
    if dim.kind in ("log", "float") and syntax not in FRACTIONS:
        use = "int:LO..HI" if syntax in WHOLE else "choice:V1,V2"
        raise SpaceError(f"{dim.name}: {dim.kind}: the option takes no fractions; use {use}")
    if dim.kind == "int" and syntax not in WHOLE:
        raise SpaceError(f"{dim.name}: int: the option takes no numbers; use choice:V1,V2")


def sample(dims: Sequence[Dimension], trial: Any) -> dict[str, str]:
    """The option texts of a trial asked with ``distributions(dims)``."""
    return {dim.name: dim.value_text(trial.params[dim.name]) for dim in dims}


def distributions(dims: Sequence[Dimension]) -> dict[str, Any]:
    return {dim.name: dim.distribution() for dim in dims}
