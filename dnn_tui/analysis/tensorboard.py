"""A saved run as TensorBoard event files (``dnn-tui export --tensorboard``).

What is exported is computed here from the run as the one loader read it (``rundir.files``):
each epoch's scalars (losses, accuracies, learning rate, timing, clipping, per-layer gradient
norms, weight norms, update ratios and activation statistics), the test split's numbers at
the best epoch (whose weights were tested), and the activation and weight histograms of
schema 2 and 3 runs, at step 0 (before the first step) and at every epoch. Steps are epochs.

The files are written through tensorboardX (the optional extra ``tensorboard``): its
protocol buffers and its record writer (TFRecord framing, masked CRC32C). The record writer
is used synchronously, not through its queue and thread, so that a full disk is an error of
this export rather than a lost record; tensorboardX is imported only when a file is written.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnn_tui.rundir.files import CONFIG_FILE, HISTORY_FILE, run_error
from dnn_tui.rundir.liveness import read_liveness

if TYPE_CHECKING:
    from dnn_tui.rundir.files import SavedRun

INSTALL_HINT = 'pip install "dnn-tui[tensorboard]"'
"""How to get the writer (tensorboardX) when it is missing."""
EVENTS_PREFIX = "events.out.tfevents"
"""TensorBoard reads the files whose names hold ``tfevents``."""

EPOCH_TAGS = {
    "train_loss": "loss/train",
    "val_loss": "loss/val",
    "train_acc": "accuracy/train",
    "val_acc": "accuracy/val",
    "lr": "lr",
    "grad_norm_total": "grad_norm_total",
    "clipped_fraction": "clipped_fraction",
    "seconds": "time/epoch_seconds",
    "samples_per_s": "time/samples_per_s",
}
"""The epoch record's scalars and their tags."""
TEST_TAGS = {"loss": "loss/test", "acc": "accuracy/test"}
"""The test split's numbers (one point, at the best epoch) and their tags."""
LINEAR_LISTS = ("grad_norm", "weight_norm", "update_ratio")
"""Per-layer lists of the Linear layers (``layers``), tagged ``<key>/<layer>``."""
ACTIVATION_LISTS = ("act_mean", "act_std", "act_saturated", "act_dead")
"""Per-layer lists of the hidden layers (``activations.layers``), tagged ``<key>/<layer>``."""
MAX_TAG_NAME = 64
"""A layer's part of a tag, at most (a name from a file may be longer)."""
_NOT_IN_A_TAG = re.compile(r"[^\w.-]")


class WriterMissing(Exception):
    """tensorboardX is not installed."""

    def __init__(self) -> None:
        super().__init__(f"the TensorBoard export needs tensorboardX: {INSTALL_HINT}")


@dataclass(frozen=True)
class Histogram:
    """Shares of values in equal bins from ``low`` to ``high`` (values beyond the range
    counted in the edge bins, as the run measured them)."""

    low: float
    high: float
    shares: tuple[float, ...]

    def edges(self) -> list[float]:
        width = (self.high - self.low) / len(self.shares)
        return [self.low + width * i for i in range(len(self.shares) + 1)]


@dataclass(frozen=True)
class StepRecord:
    """What one step (an epoch; 0 before the first step) exports."""

    step: int
    wall_time: float
    scalars: dict[str, float]
    histograms: dict[str, Histogram]


def tag_names(names: Sequence[Any]) -> list[str]:
    """The tag part of each layer name: characters TensorBoard keeps, at most MAX_TAG_NAME,
    and distinct (a name from a damaged file may be empty, odd or repeated)."""
    tags: list[str] = []
    for i, name in enumerate(names):
        tag = _NOT_IN_A_TAG.sub("_", str(name))[:MAX_TAG_NAME] or f"layer{i + 1}"
        base, n = tag, 1
        while tag in tags:
            n += 1
            tag = f"{base}-{n}"
        tags.append(tag)
    return tags


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


class _Layout:
    """The run's layers and histogram ranges, checked where this export relies on them (the
    loader keeps ``activations`` unchecked)."""

    def __init__(self, run: SavedRun) -> None:
        history = run.history
        self.file = run.path / HISTORY_FILE
        self.linear = tag_names(history["layers"])
        initial = history.get("initial")
        self.half_ranges = initial.get("weight_hist_max") if isinstance(initial, dict) else None
        """The weight histograms' half ranges (fixed for the run; the loader checked them)."""
        activations = history.get("activations")
        self.hidden: list[str] = []
        self.act_range: tuple[float, float] | None = None
        if activations is None:
            return
        if not isinstance(activations, dict):
            raise run_error(self.file, "must be an object or null", "activations")
        layers = activations.get("layers")
        if not isinstance(layers, list) or not all(isinstance(n, str) for n in layers):
            raise run_error(self.file, "must be a list of layer names", "activations.layers")
        self.hidden = tag_names(layers)
        bounds = activations.get("hist_range")
        low, high = (
            (_number(bounds[0]), _number(bounds[1]))
            if isinstance(bounds, list) and len(bounds) == 2
            else (None, None)
        )
        if low is None or high is None or not low < high:
            rule = "must be two finite numbers, the first below the second"
            raise run_error(self.file, rule, "activations.hist_range")
        self.act_range = (low, high)

    def lists(self, record: Mapping[str, Any], where: str) -> dict[str, float]:
        """The per-layer scalars of a record, nulls left out."""
        scalars: dict[str, float] = {}
        for keys, names in ((LINEAR_LISTS, self.linear), (ACTIVATION_LISTS, self.hidden)):
            for key in keys:
                values = record.get(key)
                if values is None:
                    continue
                if not isinstance(values, list) or len(values) != len(names):
                    rule = f"must be a list of {len(names)} numbers or null"
                    raise run_error(self.file, rule, f"{where}{key}")
                for name, value in zip(names, values, strict=True):
                    number = _number(value)
                    if number is not None:
                        scalars[f"{key}/{name}"] = number
        return scalars

    def histograms(self, record: Mapping[str, Any], where: str) -> dict[str, Histogram]:
        """The activation and weight histograms of a record (``initial`` or an epoch's)."""
        found: dict[str, Histogram] = {}
        rows = record.get("act_hist")
        if rows is not None and self.act_range is not None:
            self._rows(rows, self.hidden, f"{where}act_hist")
            for name, row in zip(self.hidden, rows, strict=True):
                found[f"activations/{name}"] = Histogram(*self.act_range, tuple(row))
        rows, limits = record.get("weight_hist"), record.get("weight_hist_max", self.half_ranges)
        if rows is not None and isinstance(limits, list):
            self._rows(rows, self.linear, f"{where}weight_hist")
            for name, row, limit in zip(self.linear, rows, limits, strict=True):
                half = _number(limit)
                if half is not None and half > 0:  # null: a layer whose weights were not finite
                    found[f"weights/{name}"] = Histogram(-half, half, tuple(row))
        return found

    def _rows(self, rows: Any, names: Sequence[str], field: str) -> None:
        if not isinstance(rows, list) or len(rows) != len(names):
            raise run_error(self.file, f"must be a list of {len(names)} histograms", field)
        for i, row in enumerate(rows):
            if not row or not all(
                (share := _number(v)) is not None and 0 <= share <= 1 for v in row
            ):
                raise run_error(self.file, "must be a list of shares from 0 to 1", f"{field}[{i}]")


def start_time(run: SavedRun) -> float:
    """When the run started: its liveness record's start, else its config.toml's time (the
    first file a run writes)."""
    record = read_liveness(run.path)
    if record is not None:
        return record.started
    return os.lstat(run.path / CONFIG_FILE).st_mtime


def step_records(run: SavedRun, started: float) -> Iterator[StepRecord]:
    """What the run exports, step by step: step 0 (the figures before the first step, where
    measured), then each epoch; wall times are ``started`` plus the epochs' ``seconds`` (a
    paused run's pauses are left out of them)."""
    layout = _Layout(run)
    history = run.history
    clock = started
    initial = history.get("initial")
    if isinstance(initial, dict):
        scalars = layout.lists(initial, "initial.")
        figures = layout.histograms(initial, "initial.")
        if scalars or figures:
            yield StepRecord(0, clock, scalars, figures)
    epochs = history["epochs"]
    best = history.get("best_epoch")
    test = history.get("test") if isinstance(history.get("test"), dict) else None
    test_step = best if best is not None else (epochs[-1]["epoch"] if epochs else None)
    for index, record in enumerate(epochs):
        clock += _number(record.get("seconds")) or 0.0
        where = f"epochs[{index}]."
        scalars = {
            tag: number
            for key, tag in EPOCH_TAGS.items()
            if (number := _number(record.get(key))) is not None
        }
        scalars.update(layout.lists(record, where))
        if test is not None and record["epoch"] == test_step:
            for key, tag in TEST_TAGS.items():
                if (number := _number(test.get(key))) is not None:
                    scalars[tag] = number
        yield StepRecord(record["epoch"], clock, scalars, layout.histograms(record, where))


def _summary(record: StepRecord, summary_pb2: Any) -> Any:
    """The step's values as one Summary: every scalar, then every histogram."""
    values = [
        summary_pb2.Summary.Value(tag=tag, simple_value=value)
        for tag, value in record.scalars.items()
    ]
    for tag, histogram in record.histograms.items():
        edges = histogram.edges()
        shares = histogram.shares
        filled = [i for i, share in enumerate(shares) if share > 0]
        centres = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
        proto = summary_pb2.HistogramProto(
            min=edges[filled[0]] if filled else histogram.low,
            max=edges[filled[-1] + 1] if filled else histogram.high,
            num=math.fsum(shares),
            sum=math.fsum(s * c for s, c in zip(shares, centres, strict=True)),
            sum_squares=math.fsum(s * c * c for s, c in zip(shares, centres, strict=True)),
            bucket_limit=edges[1:],
            bucket=shares,
        )
        values.append(summary_pb2.Summary.Value(tag=tag, histo=proto))
    return summary_pb2.Summary(value=values)


def _writer_modules() -> tuple[Any, Any, Any]:
    try:
        from tensorboardX.proto import event_pb2, summary_pb2
        from tensorboardX.record_writer import RecordWriter
    except ImportError:
        raise WriterMissing() from None
    return event_pb2, summary_pb2, RecordWriter


def check_writer() -> None:
    """Raise WriterMissing unless tensorboardX can be imported."""
    _writer_modules()


def write_events(run: SavedRun, folder: Path) -> int:
    """Write the run's event file into folder (an existing, empty folder of this export);
    returns the number of steps written. The file is written under a hidden name, synced,
    then renamed, so a reader never sees half a file."""
    event_pb2, summary_pb2, record_writer = _writer_modules()
    started = start_time(run)
    records = list(step_records(run, started))  # a damaged record is found before any write
    name = f"{EVENTS_PREFIX}.{int(started)}.dnn-tui"
    partial = folder / f".{name}.partial"
    writer = record_writer(str(partial.absolute()))
    try:
        header = event_pb2.Event(wall_time=started, file_version="brain.Event:2")
        writer.write(header.SerializeToString())
        for record in records:
            event = event_pb2.Event(
                wall_time=record.wall_time,
                step=record.step,
                summary=_summary(record, summary_pb2),
            )
            writer.write(event.SerializeToString())
        writer.flush()  # and fsync
    finally:
        writer.close()
    os.replace(partial, folder / name)
    return sum(1 for record in records if record.step > 0)
