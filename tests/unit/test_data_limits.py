"""Dataset files that cost too much or mean nothing: every one refused with a message naming the
file and the rule, before anything large is read or allocated. Never touches the network."""

from __future__ import annotations

import gzip
import os
import pickle
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dnn_tui import data
from dnn_tui.config import DataConfig
from dnn_tui.data import DatasetError, load_dataset
from tests.helpers.idx_files import (
    MNIST_T10K,
    gzip_of_zeros,
    images_and_labels,
    write_idx,
    write_torchvision_layout,
)


def header(type_byte: int, *sizes: int) -> bytes:
    """An IDX header: 0000, the type byte, the number of dimensions, big-endian sizes."""
    return bytes([0, 0, type_byte, len(sizes)]) + np.array(sizes, ">u4").tobytes()


def pair(tmp_path: Path, n: int = 30) -> tuple[Path, Path]:
    """A valid images/labels pair of n 28x28 images."""
    images, labels = images_and_labels(n, seed=11)
    return write_idx(tmp_path / "images", images), write_idx(tmp_path / "labels", labels)


def load_idx(images: Path, labels: Path):
    return load_dataset(DataConfig("idx", idx_images=str(images), idx_labels=str(labels)))


def refused(load: Callable[[], object]) -> tuple[str, int]:
    """The DatasetError's message and the peak of Python-tracked memory while refusing."""
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError) as caught:
            load()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(caught.value), peak


# --- headers that declare more than the file holds ------------------------------------------


def test_a_gzip_declaring_7_6_million_images_is_refused_from_its_header(tmp_path: Path) -> None:
    """The issue's example: a valid 5.9 MB gzip of 7.6 M blank 28x28 images (6 GB unpacked;
    the old reader unpacked it whole, 12 GB at peak). Only the header is unpacked now: the
    refusal allocates well under a megabyte."""
    images = tmp_path / "images.gz"
    images.write_bytes(gzip_of_zeros(header(0x08, 7_600_000, 28, 28), 7_600_000 * 784))
    _, labels = pair(tmp_path)
    assert 5_000_000 < images.stat().st_size < 7_000_000

    message, peak = refused(lambda: load_idx(images, labels))

    assert message.startswith(f"{images}: the header declares 7600000x28x28 = 5,958,400,000")
    assert "at most 1,073,741,824" in message
    assert peak < 1 << 20


def test_a_gzip_whose_header_lies_about_its_size_is_refused(tmp_path: Path) -> None:
    """5.8 MB of incompressible data under a header declaring 7.6 M images."""
    noise = np.random.default_rng(0).integers(0, 256, 5_800_000, dtype=np.uint8).tobytes()
    images = tmp_path / "images.gz"
    images.write_bytes(gzip.compress(header(0x08, 7_600_000, 28, 28) + noise, compresslevel=1))
    _, labels = pair(tmp_path)
    message, peak = refused(lambda: load_idx(images, labels))
    assert message.startswith(f"{images}: the header declares 7600000x28x28")
    assert peak < 1 << 20


def test_a_header_beyond_what_deflate_can_pack_into_the_file_is_refused(tmp_path: Path) -> None:
    images = tmp_path / "images.gz"
    images.write_bytes(gzip.compress(header(0x08, 1_000_000, 28, 28) + bytes(50_000)))
    _, labels = pair(tmp_path)
    message, peak = refused(lambda: load_idx(images, labels))
    assert message.startswith(f"{images}: the header declares 1000000x28x28 values")
    assert "more than" in message and "bytes of gzip data can hold" in message
    assert peak < 1 << 20


def test_counts_are_compared_before_either_payload_is_read(tmp_path: Path) -> None:
    """8 MB of real images, 30 labels: refused on the headers alone."""
    images, _ = images_and_labels(10_000, seed=1)
    images_path = write_idx(tmp_path / "images.gz", images, gzip=True)
    _, labels = pair(tmp_path)
    message, peak = refused(lambda: load_idx(images_path, labels))
    assert message == f"{labels}: 30 labels for 10000 images in {images_path}"
    assert peak < 1 << 20


def test_a_huge_sparse_raw_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    """3 GiB on paper (a sparse file), with a header that matches its size exactly."""
    images = tmp_path / "big"
    count = (3 << 30) // 784
    with images.open("wb") as handle:
        handle.write(header(0x08, count, 28, 28))
        handle.truncate(16 + count * 784)
    _, labels = pair(tmp_path)
    message, peak = refused(lambda: load_idx(images, labels))
    assert message.startswith(f"{images}: the header declares {count}x28x28 =")
    assert peak < 1 << 20


@pytest.mark.parametrize("compressed", [False, True])
def test_data_past_the_declared_values_is_refused(tmp_path: Path, compressed: bool) -> None:
    images, labels = pair(tmp_path)
    blob = images.read_bytes() + b"\0" * 100
    images.write_bytes(gzip.compress(blob) if compressed else blob)
    message, _ = refused(lambda: load_idx(images, labels))
    assert message == f"{images}: 100 bytes more than the header's 30x28x28 values"


def test_a_gzip_with_a_bad_checksum_or_trailing_garbage_is_refused(tmp_path: Path) -> None:
    images, labels = pair(tmp_path)
    packed = bytearray(gzip.compress(images.read_bytes()))
    packed[-6] ^= 1  # the CRC-32 in the trailer
    images.with_name("crc.gz").write_bytes(bytes(packed))
    message, _ = refused(lambda: load_idx(images.with_name("crc.gz"), labels))
    assert message.startswith(f"{images.with_name('crc.gz')}: damaged or truncated gzip data")
    assert "CRC check failed" in message

    images.with_name("tail.gz").write_bytes(gzip.compress(images.read_bytes()) + b"garbage")
    message, _ = refused(lambda: load_idx(images.with_name("tail.gz"), labels))
    assert message.startswith(f"{images.with_name('tail.gz')}: damaged or truncated gzip data")


# --- headers that mean nothing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sizes", "shown"),
    [((30, 0, 0), "30x0x0"), ((0, 28, 28), "0x28x28"), ((30, 28, 0), "30x28x0")],
)
def test_a_zero_dimension_is_refused(tmp_path: Path, sizes: tuple[int, ...], shown: str) -> None:
    """N x 0 x 0 images (the issue's example) would train a model with no inputs."""
    images, labels = pair(tmp_path)
    images.write_bytes(header(0x08, *sizes))
    message, _ = refused(lambda: load_idx(images, labels))
    assert message == (
        f"{images}: the header declares {shown} values; every dimension needs at least 1"
    )


def test_labels_with_zero_entries_are_refused(tmp_path: Path) -> None:
    images, labels = pair(tmp_path)
    labels.write_bytes(header(0x08, 0))
    message, _ = refused(lambda: load_idx(images, labels))
    assert message.startswith(f"{labels}: the header declares 0 values")


@pytest.mark.parametrize("ndim", [100, 5, 255])
def test_too_many_dimensions_are_refused(tmp_path: Path, ndim: int) -> None:
    """The issue's 100-dimension header gave numpy's message, which names no file."""
    images, labels = pair(tmp_path)
    images.write_bytes(header(0x08, *([2] * ndim)) + bytes(64))
    message, _ = refused(lambda: load_idx(images, labels))
    assert message == (
        f"{images}: the IDX header declares {ndim} dimensions; at most 4 "
        "(count, rows, columns, channels)"
    )


@pytest.mark.parametrize(
    "first",
    [
        b"\x00\x00\x0a\x03",  # a type byte IDX does not define
        b"\x00\x01\x08\x03",  # magic not starting with 0000
        b"\x00\x00\x08\x00",  # zero dimensions
        b"\x80\x04\x95\x00",  # a pickle
    ],
)
def test_a_bad_magic_number_or_type_byte_is_refused(tmp_path: Path, first: bytes) -> None:
    images, labels = pair(tmp_path)
    images.write_bytes(first + bytes(100))
    message, _ = refused(lambda: load_idx(images, labels))
    assert message.startswith(f"{images}: not an IDX file (magic number {first.hex()};")


@pytest.mark.parametrize(
    ("blob", "got"),
    [
        (header(0x08, 30, 1) + bytes(30), "2-D uint8 data of 30x1"),
        (header(0x0D, 30) + bytes(120), "1-D float32 data of 30"),
        (header(0x08, 30, 2, 2, 2) + bytes(240), "4-D uint8 data of 30x2x2x2"),
    ],
)
def test_labels_must_be_a_1d_list_of_integers(tmp_path: Path, blob: bytes, got: str) -> None:
    images, labels = pair(tmp_path)
    labels.write_bytes(blob)
    message, _ = refused(lambda: load_idx(images, labels))
    assert message == (
        f"{labels}: expected a 1-D list of integer labels, got {got}; is it the images file?"
    )


def test_images_must_be_uint8(tmp_path: Path) -> None:
    images, labels = pair(tmp_path)
    images.write_bytes(header(0x0B, 30, 2, 2) + bytes(240))  # int16
    message, _ = refused(lambda: load_idx(images, labels))
    assert message.startswith(f"{images}: expected uint8 images")
    assert "got 3-D int16 data of 30x2x2" in message


# --- what is there instead of a file --------------------------------------------------------


def make_fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def make_dir(path: Path) -> Path:
    path.mkdir()
    return path


def make_zero_link(path: Path) -> Path:
    path.symlink_to("/dev/zero")
    return path


@pytest.mark.parametrize(
    ("make", "kind"),
    [(make_fifo, "a FIFO"), (make_dir, "a directory"), (make_zero_link, "a character device")],
)
def test_something_other_than_a_regular_file_is_refused_without_reading(
    tmp_path: Path, make: Callable[[Path], Path], kind: str
) -> None:
    """A FIFO would block the read and /dev/zero would never end it."""
    images, _ = pair(tmp_path)
    labels = make(tmp_path / "odd")
    message, _ = refused(lambda: load_idx(images, labels))
    assert message == f"{labels}: not a regular file ({kind}); give an IDX file"


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    images, labels = pair(tmp_path)
    images.write_bytes(b"")
    message, _ = refused(lambda: load_idx(images, labels))
    assert message == f"{images}: an empty file, not an IDX file"


def test_an_empty_gzip_and_a_gzip_truncated_in_the_header_are_refused(tmp_path: Path) -> None:
    images, labels = pair(tmp_path)
    images.write_bytes(gzip.compress(b""))
    message, _ = refused(lambda: load_idx(images, labels))
    assert message.startswith(f"{images}: not an IDX file (magic number missing;")
    images.write_bytes(gzip.compress(header(0x08, 30, 28, 28)[:9]))
    message, _ = refused(lambda: load_idx(images, labels))
    assert message == f"{images}: truncated inside the header (9 bytes)"


def test_a_path_of_100000_characters_is_not_echoed_whole(tmp_path: Path) -> None:
    _, labels = pair(tmp_path)
    message, _ = refused(lambda: load_idx(tmp_path / ("x" * 100_000), labels))
    assert "cannot read the file (File name too long)" in message
    assert len(message) < 300 and "…" in message


# --- the torchvision cache folder -------------------------------------------------------------


class Marker:
    """Unpickling this creates a folder: proof that a pickle ran."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __reduce__(self):
        return (os.mkdir, (str(self.folder),))


def test_pickles_in_the_processed_folder_are_never_read(
    tmp_path: Path,
    offline: list[float | None],
) -> None:
    """torchvision's MNIST prefers legacy processed/*.pt files (pickles) over the raw ones:
    here they are ignored, the message names them and never suggests weights_only=False, and
    auto falls back to digits saying why."""
    processed = tmp_path / "MNIST" / "processed"
    processed.mkdir(parents=True)
    ran = tmp_path / "pickle-ran"
    for name in ("training.pt", "test.pt"):
        (processed / name).write_bytes(pickle.dumps(Marker(ran)))

    with pytest.raises(DatasetError) as caught:
        load_dataset(DataConfig("mnist", data_dir=str(tmp_path)))
    message = str(caught.value)
    assert f"the legacy files test.pt, training.pt in {processed} are never read" in message
    assert "weights_only" not in message

    ds = load_dataset(DataConfig("auto", data_dir=str(tmp_path)))
    assert ds.name == "digits" and ds.note is not None
    assert "training.pt" in ds.note and "weights_only" not in ds.note
    assert not ran.exists()


def test_pickles_beside_valid_raw_files_change_nothing(
    tmp_path: Path,
    offline: list[float | None],
) -> None:
    write_torchvision_layout(tmp_path, "MNIST")
    processed = tmp_path / "MNIST" / "processed"
    processed.mkdir()
    ran = tmp_path / "pickle-ran"
    for name in ("training.pt", "test.pt"):
        (processed / name).write_bytes(pickle.dumps(Marker(ran)))
    ds = load_dataset(DataConfig("mnist", data_dir=str(tmp_path)))
    assert ds.info()["train"] == 54 and not ran.exists()


@pytest.mark.parametrize(
    ("spoil", "problem"),
    [
        (lambda p: p.write_bytes(pickle.dumps({"x": 1})), "not an IDX file (magic number 8004"),
        (lambda p: (p.unlink(), p.mkdir()), "not a regular file (a directory)"),
        (lambda p: (p.unlink(), os.mkfifo(p)), "not a regular file (a FIFO)"),
        (lambda p: p.write_bytes(b""), "an empty file"),
        (lambda p: p.write_bytes(header(0x08, 60, 0, 0)), "the header declares 60x0x0 values"),
    ],
)
def test_a_damaged_cache_file_is_named_and_auto_falls_back(
    tmp_path: Path,
    offline: list[float | None],
    spoil: Callable[[Path], object],
    problem: str,
) -> None:
    raw, *_ = write_torchvision_layout(tmp_path, "MNIST")
    path = raw / "train-images-idx3-ubyte"
    spoil(path)

    with pytest.raises(DatasetError) as caught:
        load_dataset(DataConfig("mnist", data_dir=str(tmp_path)))
    assert str(caught.value).startswith(f"MNIST file {path}: {problem}")
    assert "Delete the damaged files" in str(caught.value)

    ds = load_dataset(DataConfig("auto", data_dir=str(tmp_path)))
    assert ds.name == "digits" and ds.note is not None
    assert ds.note.startswith(f"MNIST file {path}: {problem}")
    assert offline == []  # the files were there: no download was tried


def test_an_archive_that_fails_its_checksum_is_named(
    tmp_path: Path,
    offline: list[float | None],
) -> None:
    raw, *_ = write_torchvision_layout(tmp_path, "KMNIST")
    (raw / "t10k-labels-idx1-ubyte").unlink()
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"not the official file"))
    with pytest.raises(DatasetError) as caught:
        load_dataset(DataConfig("kmnist", data_dir=str(tmp_path)))
    assert str(caught.value).startswith(
        f"KMNIST file {raw / 't10k-labels-idx1-ubyte.gz'} fails its MD5 check and no fresh "
        "copy could be downloaded ([Errno -2] Name or service not known)"
    )


def test_test_images_of_another_shape_than_the_training_images_are_refused(
    tmp_path: Path,
    offline: list[float | None],
) -> None:
    """Training would end in a shape error at the test evaluation, after every epoch."""
    raw, *_ = write_torchvision_layout(tmp_path, "FashionMNIST")
    write_idx(raw / "t10k-images-idx3-ubyte", images_and_labels(20, seed=3, shape=(14, 14))[0])
    with pytest.raises(DatasetError) as caught:
        load_dataset(DataConfig("fashion-mnist", data_dir=str(tmp_path)))
    assert str(caught.value).startswith(
        f"FashionMNIST file {raw / 't10k-images-idx3-ubyte'}: images of 14x14, but the "
        "training images are 28x28"
    )


@pytest.mark.skipif(not MNIST_T10K.is_dir(), reason=f"real MNIST t10k not found in {MNIST_T10K}")
def test_the_real_t10k_files_read_in_chunks_give_the_bytes_of_a_whole_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Chunked reading (here 1000 bytes at a time) changes nothing about what is read."""
    monkeypatch.setattr(data, "READ_CHUNK", 1000)
    images, labels = data._read_idx_pair(
        MNIST_T10K / "t10k-images-idx3-ubyte.gz",
        MNIST_T10K / "t10k-labels-idx1-ubyte.gz",
        image_dims=(3, 3),
    )
    whole = gzip.decompress((MNIST_T10K / "t10k-images-idx3-ubyte.gz").read_bytes())
    assert images.shape == (10_000, 28, 28)
    np.testing.assert_array_equal(images.reshape(-1), np.frombuffer(whole, np.uint8, offset=16))
    assert labels.shape == (10_000,) and set(labels.tolist()) == set(range(10))
