"""TensorBoard event files read without TensorBoard: the TFRecord framing (length, masked CRC32C
of the length, data, masked CRC32C of the data) checked with tensorboardX's own CRC, each
record parsed with tensorboardX's Event protocol buffer."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any


def event_file(folder: Path) -> Path:
    """The one event file of an export's subfolder."""
    files = sorted(folder.glob("events.out.tfevents.*"))
    assert len(files) == 1, files
    return files[0]


def read_events(path: Path) -> list[Any]:
    """Every Event of an event file, its framing and checksums checked."""
    from tensorboardX.proto import event_pb2
    from tensorboardX.record_writer import masked_crc32c

    data = path.read_bytes()
    events, at = [], 0
    while at < len(data):
        header = data[at : at + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[at + 8 : at + 12])
        assert header_crc == masked_crc32c(header), f"{path}: length checksum at byte {at}"
        body = data[at + 12 : at + 12 + length]
        (body_crc,) = struct.unpack("<I", data[at + 12 + length : at + 16 + length])
        assert len(body) == length and body_crc == masked_crc32c(body), f"{path}: record at {at}"
        events.append(event_pb2.Event.FromString(body))
        at += 16 + length
    return events


def scalar_points(events: list[Any]) -> dict[str, list[tuple[int, float, float]]]:
    """(step, wall time, value) of every scalar, by tag, in file order."""
    points: dict[str, list[tuple[int, float, float]]] = {}
    for event in events:
        for value in event.summary.value:
            if value.HasField("simple_value"):
                points.setdefault(value.tag, []).append(
                    (event.step, event.wall_time, value.simple_value)
                )
    return points


def histogram_points(events: list[Any]) -> dict[str, list[tuple[int, Any]]]:
    """(step, HistogramProto) of every histogram, by tag, in file order."""
    points: dict[str, list[tuple[int, Any]]] = {}
    for event in events:
        for value in event.summary.value:
            if value.HasField("histo"):
                points.setdefault(value.tag, []).append((event.step, value.histo))
    return points
