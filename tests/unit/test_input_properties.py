"""Properties of every input the lab reads from a user: option text, TOML config files and IDX
dataset files. Each is either taken (and then consistent) or refused with the lab's own error
naming the option, key or file; never another exception, never an unbounded echo or read."""

from __future__ import annotations

import gzip
import math
import tomllib
import tracemalloc
from dataclasses import fields
from pathlib import Path

import numpy as np
import tomli_w
import torch
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from dnn_tui.config import (
    ACTIVATIONS,
    DATASETS,
    DEVICES,
    INITS,
    OPTIMIZERS,
    OPTION_SECTION,
    SCHEDULES,
    SECTIONS,
    ConfigError,
    DataConfig,
    RunConfig,
    dumps,
    format_option,
    key_text,
    load,
    loads,
    option_value,
    parse_option,
    validate,
    with_options,
)
from dnn_tui.data import MAX_IDX_CLASSES, DatasetError, load_dataset

OPTION_EXAMPLES = 1000
TOML_EXAMPLES = 300
IDX_EXAMPLES = 300
MAX_MESSAGE = 600
"""Longest message any of these inputs may produce (values are echoed shortened)."""

# --- option text ------------------------------------------------------------------------------

BASE = validate(
    RunConfig(data=DataConfig(dataset="idx", idx_images="images.gz", idx_labels="labels.gz"))
)
"""The config options are applied to: dataset idx with its files, so that every dataset
name given as an option can be valid."""

long_texts = st.builds(
    lambda piece, times: piece * times,
    st.sampled_from(["9", "x", "²", "1,", "0.", "e9", " "]),
    st.integers(0, 100_000),
)
option_texts = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\A[+-]?[0-9]{1,80}\Z"),
    st.from_regex(r"\A[+-]?[0-9]{0,5}\.?[0-9]{0,5}([eE][+-]?[0-9]{1,4})?\Z"),
    st.floats().map(repr),
    st.integers(-(2**70), 2**70).map(str),
    st.lists(st.integers(-5, 5000), max_size=40).map(lambda xs: ",".join(map(str, xs))),
    st.sampled_from(
        [
            *("full", "FULL", "off", "none", "nan", "inf", "-inf", "true", "no", "²", "١٠٠", ""),
            *(ACTIVATIONS + INITS + OPTIMIZERS + DATASETS + DEVICES),
        ]
    ),
    long_texts,
)


def names_in(message: str) -> list[str]:
    """The options or keys a message starts with: ``lr: ...``, ``idx_images, idx_labels: ...``."""
    return [name.strip() for name in message.split(":", 1)[0].split(",")]


@settings(max_examples=OPTION_EXAMPLES, deadline=None)
@given(name=st.sampled_from(sorted(OPTION_SECTION)), text=option_texts)
@example(name="hidden", text="64,32").via("taken")
@example(name="batch_size", text="FULL").via("taken")
@example(name="hidden", text="²").via("the issue's example")
def test_any_option_text_is_taken_or_refused_naming_the_option(name: str, text: str) -> None:
    """Generates an option name and a text for it: any Unicode, ASCII and other-script
    numbers, reprs of any float, integers up to 2**70, lists of widths, the keywords, and
    values repeated up to 100,000 characters. 1000 examples a run."""
    try:
        config = validate(with_options(BASE, {name: parse_option(name, text)}))
    except ConfigError as error:
        message = str(error)
        assert name in names_in(message), message
        event("refused")
        assert len(message) <= MAX_MESSAGE
        return
    event("taken")
    # Taken: the value reads back from its text form to the same config.
    again = parse_option(name, format_option(option_value(config, name)))
    assert validate(with_options(BASE, {name: again})) == config


# --- TOML config files ------------------------------------------------------------------------

keys = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
    st.dates(),
    st.times(),
    st.datetimes(),
)
toml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=3)),
    max_leaves=8,
)
PLAUSIBLE = {
    "hidden": st.lists(st.integers(-1, 5000), max_size=40),
    "activation": st.sampled_from(ACTIVATIONS),
    "init": st.sampled_from(INITS),
    "init_std": st.floats(0.0, 1e40),
    "dropout": st.one_of(st.floats(-0.1, 1.0), st.lists(st.floats(0.0, 0.9), max_size=4)),
    "batchnorm": st.booleans(),
    "dataset": st.sampled_from(DATASETS),
    "data_dir": st.text(max_size=5),
    "idx_images": st.text(max_size=5),
    "idx_labels": st.text(max_size=5),
    "limit": st.integers(-1, 2**63 - 1),
    "split_seed": st.integers(-1, 2**63 - 1),
    "optimizer": st.sampled_from(OPTIMIZERS),
    "lr": st.one_of(st.floats(1e-45, 1e39), st.sampled_from([1e39, 1e-50, 0.0])),
    "batch_size": st.one_of(st.integers(0, 2**63 - 1), st.sampled_from(["full", "FULL", "x"])),
    "epochs": st.integers(0, 200_000),
    "l2": st.floats(-1.0, 1e39),
    "early_stopping": st.integers(-1, 200_000),
    "clip_norm": st.floats(-1.0, 1e39),
    "seed": st.integers(-1, 2**63 - 1),
    "device": st.sampled_from(DEVICES),
    "threads": st.one_of(st.integers(-1, 2000), st.sampled_from(["auto", "AUTO", "x"])),
    "schedule": st.one_of(st.sampled_from(SCHEDULES), st.sampled_from(["linear", ""])),
    "step_size": st.integers(-1, 200_000),
    "gamma": st.one_of(st.floats(-1.0, 2.0), st.sampled_from([1.0, 0.0, 1e-50])),
    "plateau_patience": st.integers(-1, 200_000),
}
"""Values of the right type, in range or near its edges."""


def section(name: str) -> st.SearchStrategy:
    known = {f.name: st.one_of(PLAUSIBLE[f.name], toml_values) for f in fields(SECTIONS[name])}
    return st.fixed_dictionaries({}, optional=known) | st.dictionaries(keys, toml_values)


documents = st.fixed_dictionaries(
    {},
    optional={
        "preset": st.one_of(st.text(max_size=10), toml_values),
        "description": st.one_of(st.text(max_size=10), toml_values),
        **{name: st.one_of(section(name), section(name), toml_values) for name in SECTIONS},
    },
) | st.dictionaries(keys, toml_values, max_size=3)


def all_keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in all_keys(v)}
    return set()


@settings(
    max_examples=TOML_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(document=documents, splice=st.none() | st.tuples(st.integers(0, 10**6), st.text()))
@example(document={"train": {"batch_size": "FULL", "lr": 0.5}}, splice=None).via("taken")
@example(document={"train": {"lr": 1e39}}, splice=None).via("past float32")
def test_any_toml_file_loads_or_names_the_file_and_the_key(
    tmp_path: Path, document: dict, splice: tuple[int, str] | None
) -> None:
    """Generates TOML documents: the known tables and keys with values of the right type (in
    range and past its edges) or any TOML value (nested arrays and tables, dates, floats
    with nan/inf, any Unicode), unknown keys, and sometimes random text spliced into the
    document so that it no longer parses. 300 examples a run."""
    text = tomli_w.dumps(document)
    if splice is not None:
        at = splice[0] % (len(text) + 1)
        text = text[:at] + splice[1] + text[at:]
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    try:
        config = load(path)
    except ConfigError as error:
        message = str(error)
        assert message.startswith(f"{path}: "), message
        event("refused")
        assert len(message) <= MAX_MESSAGE
        rest = message.removeprefix(f"{path}: ")
        if rest.startswith("not valid TOML: "):
            assert any(w in rest for w in ("line", "end of document", "nested")), rest
            return
        parsed = tomllib.loads(text)  # the document as written, splice included
        keys_named = {key_text(k) for k in all_keys(parsed)} | set(OPTION_SECTION)
        prefixes = {
            *keys_named,
            *(f"{table}.{key}" for table in SECTIONS for key in keys_named),
            *(f"[{table}]" for table in SECTIONS),
            "preset",
            "description",
            "idx_images, idx_labels",
        }
        assert any(rest.startswith(f"{prefix}: ") for prefix in prefixes), rest
        return
    event("taken")
    assert isinstance(config, RunConfig)
    assert loads(dumps(config)) == config


# --- IDX dataset files ------------------------------------------------------------------------

IDX_TYPE_BYTES = [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E]


@st.composite
def idx_files(draw: st.DrawFn, role: str) -> tuple[bytes, bytes, tuple[int, ...]]:
    """An IDX file as (bytes on disk, the data inside, the declared shape)."""
    type_byte = draw(
        st.sampled_from([0x08] * 6 + IDX_TYPE_BYTES + [0x00, 0x0A, 0xFF])
        if role == "images"
        else st.sampled_from([0x08] * 4 + IDX_TYPE_BYTES + [0x01])
    )
    ndim = draw(
        st.sampled_from([3, 3, 2, 4, 1, 5, 0, 100])
        if role == "images"
        else st.sampled_from([1, 1, 1, 2, 0, 3])
    )
    small = st.integers(0, 12)
    shape = tuple(draw(st.lists(small | st.integers(0, 2**32 - 1), min_size=ndim, max_size=ndim)))
    magic = draw(st.sampled_from([b"\0\0", b"\0\0", b"\0\0", b"\x01\0", b"\x80\x04"]))
    head = magic + bytes([type_byte, ndim]) + np.array(shape, ">u4").tobytes()
    head = head[: draw(st.sampled_from([len(head)] * 8 + [0, 3, 6]))]  # sometimes truncated
    itemsize = {0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}.get(type_byte, 1)
    declared = math.prod(shape) * itemsize if ndim else 0
    exact = declared if declared <= 20_000 else draw(st.integers(0, 4096))
    size = draw(st.sampled_from([exact] * 6 + [max(exact - 1, 0), exact + 3, 0]))
    payload = draw(st.binary(min_size=size, max_size=size))
    if role == "labels" and type_byte == 0x08:
        payload = bytes(b % 13 for b in payload)  # mostly class indices
    inside = head + payload
    packed = draw(st.booleans())
    on_disk = gzip.compress(inside, compresslevel=1) if packed else inside
    if packed and draw(st.integers(0, 9)) == 0:
        on_disk = on_disk[: draw(st.integers(0, len(on_disk)))]  # a cut gzip stream
    return on_disk, inside, shape


def _valid(inside: bytes, shape: tuple[int, ...]) -> tuple[bytes, bytes, tuple[int, ...]]:
    return gzip.compress(inside), inside, shape


VALID_IMAGES = _valid(
    b"\0\0\x08\x03" + bytes([0, 0, 0, 12, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(72), (12, 2, 3)
)
VALID_LABELS = _valid(b"\0\0\x08\x01" + bytes([0, 0, 0, 12]) + bytes(range(12)), (12,))


@st.composite
def valid_images(draw: st.DrawFn) -> tuple[bytes, bytes, tuple[int, ...]]:
    """A well-formed uint8 images file of 10 to 60 small images, raw or gzip."""
    shape = (draw(st.integers(10, 60)), *draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    pixels = draw(st.binary(min_size=math.prod(shape), max_size=math.prod(shape)))
    inside = bytes([0, 0, 0x08, len(shape)]) + np.array(shape, ">u4").tobytes() + pixels
    return (gzip.compress(inside) if draw(st.booleans()) else inside), inside, shape


@st.composite
def idx_pairs(draw: st.DrawFn):
    images = draw(valid_images() | idx_files("images"))
    labels = draw(idx_files("labels"))
    if draw(st.integers(0, 2)) and images[2] and images[2][0] <= 5000:
        # Mostly a matching pair: labels for the images' declared count.
        count = images[2][0]
        values = bytes(b % 11 for b in draw(st.binary(min_size=count, max_size=count)))
        inside = b"\0\0\x08\x01" + np.array([count], ">u4").tobytes() + values
        labels = (gzip.compress(inside) if draw(st.booleans()) else inside, inside, (count,))
    return images, labels


@settings(
    max_examples=IDX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(files=idx_pairs())
@example(files=(VALID_IMAGES, VALID_LABELS)).via("taken")
def test_any_idx_pair_loads_consistently_or_names_the_file(tmp_path: Path, files) -> None:
    """Generates image and label files: valid and invalid magic and type bytes, 0 to 100
    dimensions, sizes from 0 to 2**32 - 1 (so declared sizes up to exabytes), payloads
    exact, one byte short, three bytes long or empty, raw or gzip (sometimes cut), and
    label files mostly matching the images' count. 300 examples a run.

    Memory while loading (numpy and Python buffers, as tracemalloc sees them) stays within
    a small multiple of the bytes the files really hold, whatever the headers declare."""
    (images_disk, images_inside, _), (labels_disk, labels_inside, _) = files
    images_path, labels_path = tmp_path / "images", tmp_path / "labels"
    images_path.write_bytes(images_disk)
    labels_path.write_bytes(labels_disk)
    held = len(images_inside) + len(labels_inside)

    tracemalloc.start()
    try:
        try:
            ds = load_dataset(
                DataConfig("idx", idx_images=str(images_path), idx_labels=str(labels_path))
            )
        except DatasetError as error:
            message = str(error)
            assert str(images_path) in message or str(labels_path) in message, message
            event("refused")
            assert len(message) <= MAX_MESSAGE
            ds = None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 16 * held + (512 << 10), (peak, held)
    if ds is None:
        return
    event("taken")
    # Loaded: the tensors agree with each other and with the files.
    n = len(ds.y_train) + len(ds.y_val) + len(ds.y_test)
    header_dims = images_inside[3]
    shape = np.frombuffer(images_inside, ">u4", header_dims, 4)
    assert n == shape[0] and ds.input_dim == math.prod(shape[1:])
    x = torch.cat([ds.x_train, ds.x_val, ds.x_test])
    y = torch.cat([ds.y_train, ds.y_val, ds.y_test])
    assert x.dtype == torch.float32 and x.shape == (n, ds.input_dim)
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert int(y.min()) >= 0 and int(y.max()) < ds.classes <= MAX_IDX_CLASSES
