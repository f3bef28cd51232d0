"""The dataset registry: torchvision's real code path on files written here, IDX files, digits,
the toy sets, splits, limits and seeds. Never touches the network."""

from __future__ import annotations

import gzip
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from dnn_tui import data
from dnn_tui.config import DATASETS, DataConfig
from dnn_tui.data import Dataset, DatasetError, load_dataset
from tests.helpers.idx_files import (
    MNIST_T10K,
    idx_bytes,
    images_and_labels,
    write_idx,
    write_torchvision_layout,
)

TORCHVISION_FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "kmnist": "KMNIST"}


def as_bytes(x: torch.Tensor) -> np.ndarray:
    """Scaled pixels back to the uint8 values they came from."""
    return (x * 255).round().to(torch.uint8).numpy()


# --- torchvision: mnist, fashion-mnist, kmnist ----------------------------------------------


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "kmnist"])
def test_torchvision_files_on_disk_are_split_90_10_and_round_trip(
    name: str, tmp_path: Path, offline: list[float | None]
) -> None:
    _, train_images, train_labels, test_images, test_labels = write_torchvision_layout(
        tmp_path, TORCHVISION_FOLDERS[name]
    )

    ds = load_dataset(DataConfig(dataset=name, data_dir=str(tmp_path), split_seed=3))

    assert offline == []  # present files are used as they are: no download, no MD5 check
    assert (ds.name, ds.classes, ds.input_dim, ds.note) == (name, 10, 784, None)
    assert ds.info() == {
        "name": name,
        "train": 54,
        "val": 6,
        "test": 20,
        "input_dim": 784,
        "classes": 10,
        "split_seed": 3,
    }
    for x, y in ((ds.x_train, ds.y_train), (ds.x_val, ds.y_val), (ds.x_test, ds.y_test)):
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert x.min() >= 0.0 and x.max() <= 1.0
    # The official test split is the test set, in its order.
    np.testing.assert_array_equal(as_bytes(ds.x_test), test_images.reshape(20, -1))
    np.testing.assert_array_equal(ds.y_test.numpy(), test_labels)
    # Train and validation together are the official train split, each image with its label.
    row_of = {image.tobytes(): i for i, image in enumerate(train_images.reshape(60, -1))}
    rows = [row_of[r.tobytes()] for r in as_bytes(torch.cat([ds.x_train, ds.x_val]))]
    assert sorted(rows) == list(range(60))
    np.testing.assert_array_equal(torch.cat([ds.y_train, ds.y_val]).numpy(), train_labels[rows])


def test_missing_torchvision_files_try_a_bounded_download_then_say_what_to_do(
    tmp_path: Path, offline: list[float | None]
) -> None:
    with pytest.raises(DatasetError) as caught:
        load_dataset(DataConfig(dataset="fashion-mnist", data_dir=str(tmp_path)))

    message = str(caught.value)
    assert str(tmp_path / "FashionMNIST" / "raw") in message
    assert "could not be downloaded ([Errno -2] Name or service not known)" in message
    assert "train-images-idx3-ubyte.gz" in message and "--dataset digits" in message
    assert offline and set(offline) == {data.DOWNLOAD_TIMEOUT_S}
    assert socket.getdefaulttimeout() is None  # restored after the attempt


def test_a_silent_server_cannot_make_the_download_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A network that swallows packets: the connection opens but no answer ever comes."""
    from torchvision.datasets import KMNIST

    with socket.create_server(("127.0.0.1", 0)) as server:  # listens, never answers
        monkeypatch.setattr(KMNIST, "mirrors", [f"http://127.0.0.1:{server.getsockname()[1]}/"])
        monkeypatch.setattr(data, "DOWNLOAD_TIMEOUT_S", 0.2)
        started = time.perf_counter()
        with pytest.raises(DatasetError, match=r"could not be downloaded \(timed out\)"):
            load_dataset(DataConfig(dataset="kmnist", data_dir=str(tmp_path)))
    assert time.perf_counter() - started < 5


def test_default_data_dir_is_a_per_user_cache_folder() -> None:
    folder = data.default_data_dir()
    assert folder.name == "data" and "dnn-tui" in folder.parent.parts[-1]


def test_torchvision_reads_from_the_default_folder_without_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offline: list[float | None]
) -> None:
    monkeypatch.setattr(data, "default_data_dir", lambda: tmp_path)
    write_torchvision_layout(tmp_path, "KMNIST")
    assert load_dataset(DataConfig(dataset="kmnist")).info()["train"] == 54


def test_truncated_torchvision_file_is_a_dataset_error(
    tmp_path: Path, offline: list[float | None]
) -> None:
    raw, *_ = write_torchvision_layout(tmp_path, "MNIST")
    path = raw / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:5000])

    with pytest.raises(DatasetError, match="header declares 60x28x28") as caught:
        load_dataset(DataConfig(dataset="mnist", data_dir=str(tmp_path)))
    assert str(caught.value).startswith(f"MNIST file {path}: truncated")
    assert "Delete the damaged files" in str(caught.value)


def test_torchvision_label_count_mismatch_is_a_dataset_error(
    tmp_path: Path, offline: list[float | None]
) -> None:
    raw, *_ = write_torchvision_layout(tmp_path, "MNIST")
    write_idx(raw / "t10k-labels-idx1-ubyte", np.zeros(19, np.uint8))

    with pytest.raises(DatasetError, match="19 labels for 20 images") as caught:
        load_dataset(DataConfig(dataset="mnist", data_dir=str(tmp_path)))
    assert str(raw / "t10k-labels-idx1-ubyte") in str(caught.value)


def test_torchvision_labels_out_of_range_are_a_dataset_error(
    tmp_path: Path, offline: list[float | None]
) -> None:
    raw, *_ = write_torchvision_layout(tmp_path, "KMNIST")
    write_idx(raw / "train-labels-idx1-ubyte", np.full(60, 12, np.uint8))

    with pytest.raises(DatasetError, match=r"labels outside 0\.\.9") as caught:
        load_dataset(DataConfig(dataset="kmnist", data_dir=str(tmp_path)))
    assert str(raw / "train-labels-idx1-ubyte") in str(caught.value)


# --- auto -----------------------------------------------------------------------------------


def test_auto_falls_back_to_digits_with_a_note_when_mnist_is_missing(
    tmp_path: Path, offline: list[float | None]
) -> None:
    ds = load_dataset(DataConfig(dataset="auto", data_dir=str(tmp_path)))

    assert ds.name == "digits" and ds.info()["train"] == 1437
    assert ds.note is not None
    assert ds.note.startswith(f"MNIST not found in {tmp_path / 'MNIST' / 'raw'}")
    assert "Name or service not known" in ds.note
    assert ds.note.endswith("using scikit-learn's bundled digits instead")


def test_auto_falls_back_when_the_mnist_files_are_corrupt(
    tmp_path: Path, offline: list[float | None]
) -> None:
    raw, *_ = write_torchvision_layout(tmp_path, "MNIST")
    (raw / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03garbage")

    ds = load_dataset(DataConfig(dataset="auto", data_dir=str(tmp_path)))

    assert ds.name == "digits" and ds.note is not None
    assert ds.note.startswith(f"MNIST file {raw / 't10k-images-idx3-ubyte'}: truncated")


def test_auto_uses_mnist_when_present(tmp_path: Path, offline: list[float | None]) -> None:
    write_torchvision_layout(tmp_path, "MNIST")
    ds = load_dataset(DataConfig(dataset="auto", data_dir=str(tmp_path)))
    assert (ds.name, ds.note, ds.input_dim) == ("mnist", None, 784)


# --- idx ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("images_gz", "labels_gz"), [(False, False), (True, True), (True, False)])
def test_idx_files_raw_or_gzip_split_80_10_10(
    tmp_path: Path, images_gz: bool, labels_gz: bool
) -> None:
    images, labels = images_and_labels(100, seed=4, shape=(5, 7))
    labels[labels == 9] = 8  # classes = largest label + 1
    # Misleading names: compression is told by the magic bytes, not the extension.
    images_path = write_idx(tmp_path / "images.idx", images, gzip=images_gz)
    labels_path = write_idx(tmp_path / "labels.gz", labels, gzip=labels_gz)

    ds = load_dataset(DataConfig("idx", idx_images=str(images_path), idx_labels=str(labels_path)))

    assert ds.info() == {
        "name": "idx",
        "train": 80,
        "val": 10,
        "test": 10,
        "input_dim": 35,
        "classes": int(labels.max()) + 1,
        "split_seed": 0,
    }
    x = torch.cat([ds.x_train, ds.x_val, ds.x_test])
    y = torch.cat([ds.y_train, ds.y_val, ds.y_test])
    row_of = {image.tobytes(): i for i, image in enumerate(images.reshape(100, -1))}
    rows = [row_of[r.tobytes()] for r in as_bytes(x)]
    assert sorted(rows) == list(range(100))
    np.testing.assert_array_equal(y.numpy(), labels[rows])


def test_idx_with_a_single_label_still_has_two_classes(tmp_path: Path) -> None:
    images, _ = images_and_labels(20, seed=5)
    ds = load_dataset(
        DataConfig(
            "idx",
            idx_images=str(write_idx(tmp_path / "i", images)),
            idx_labels=str(write_idx(tmp_path / "l", np.zeros(20, np.uint8))),
        )
    )
    assert ds.classes == 2


def write_pair(tmp_path: Path, n_images: int = 30, n_labels: int = 30) -> tuple[Path, Path]:
    images, labels = images_and_labels(max(n_images, n_labels), seed=6)
    return (
        write_idx(tmp_path / "train-images.gz", images[:n_images], gzip=True),
        write_idx(tmp_path / "train-labels", labels[:n_labels]),
    )


def load_idx(images: Path, labels: Path) -> Dataset:
    return load_dataset(DataConfig("idx", idx_images=str(images), idx_labels=str(labels)))


@pytest.mark.parametrize("compressed", [False, True])
def test_truncated_idx_file_names_the_file(tmp_path: Path, compressed: bool) -> None:
    images, labels = write_pair(tmp_path)
    blob = idx_bytes(images_and_labels(30, seed=6)[0])[:-100]
    images.write_bytes(gzip.compress(blob) if compressed else blob)

    with pytest.raises(DatasetError, match=r"truncated: the header declares 30x28x28") as caught:
        load_idx(images, labels)
    assert str(images) in str(caught.value)


def test_truncated_gzip_stream_names_the_file(tmp_path: Path) -> None:
    images, labels = write_pair(tmp_path)
    images.write_bytes(images.read_bytes()[:-50])
    with pytest.raises(DatasetError, match="damaged or truncated gzip") as caught:
        load_idx(images, labels)
    assert str(images) in str(caught.value)


def test_bad_magic_names_the_file(tmp_path: Path) -> None:
    images, labels = write_pair(tmp_path)
    labels.write_bytes(b"PK\x03\x04 this is a zip file")
    with pytest.raises(DatasetError, match="not an IDX file") as caught:
        load_idx(images, labels)
    assert str(labels) in str(caught.value)


def test_label_count_mismatch_names_both_files(tmp_path: Path) -> None:
    images, labels = write_pair(tmp_path, n_labels=29)
    with pytest.raises(DatasetError, match="29 labels") as caught:
        load_idx(images, labels)
    assert str(labels) in str(caught.value) and str(images) in str(caught.value)


def test_labels_out_of_range_name_the_file(tmp_path: Path) -> None:
    images, labels = write_pair(tmp_path)
    big = np.full(30, 5000, ">i4")  # int32 labels: IDX type 0x0C
    labels.write_bytes(bytes([0, 0, 0x0C, 1]) + np.array([30], ">u4").tobytes() + big.tobytes())
    with pytest.raises(DatasetError, match=r"found 5000\.\.5000") as caught:
        load_idx(images, labels)
    assert str(labels) in str(caught.value)


def test_swapped_idx_files_are_named(tmp_path: Path) -> None:
    images, labels = write_pair(tmp_path)
    with pytest.raises(DatasetError, match="is it the labels file") as caught:
        load_idx(labels, images)
    assert str(labels) in str(caught.value)


def test_missing_idx_file_names_it(tmp_path: Path) -> None:
    images, _ = write_pair(tmp_path)
    with pytest.raises(DatasetError, match="cannot read") as caught:
        load_idx(images, tmp_path / "absent")
    assert str(tmp_path / "absent") in str(caught.value)


def test_too_few_idx_samples(tmp_path: Path) -> None:
    images, labels = write_pair(tmp_path, n_images=9, n_labels=9)
    with pytest.raises(DatasetError, match="9 samples are too few"):
        load_idx(images, labels)


@pytest.mark.skipif(not MNIST_T10K.is_dir(), reason=f"real MNIST t10k not found in {MNIST_T10K}")
def test_real_mnist_t10k_as_idx() -> None:
    ds = load_idx(
        MNIST_T10K / "t10k-images-idx3-ubyte.gz", MNIST_T10K / "t10k-labels-idx1-ubyte.gz"
    )
    assert ds.info() == {
        "name": "idx",
        "train": 8000,
        "val": 1000,
        "test": 1000,
        "input_dim": 784,
        "classes": 10,
        "split_seed": 0,
    }
    assert ds.x_train.max() == 1.0 and ds.x_train.min() == 0.0


@pytest.mark.skipif(not MNIST_T10K.is_dir(), reason=f"real MNIST t10k not found in {MNIST_T10K}")
def test_official_gz_files_put_in_the_folder_are_verified_and_used_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offline: list[float | None]
) -> None:
    """What the error message tells an offline user to do, with the two real files we have:
    torchvision checks their MD5 and unpacks them, and the test set holds their pixels."""
    from torchvision.datasets import MNIST

    t10k = [r for r in MNIST.resources if r[0].startswith("t10k")]
    monkeypatch.setattr(MNIST, "resources", t10k)  # the train files are written unpacked below
    raw, *_ = write_torchvision_layout(tmp_path, "MNIST")
    for name, _ in t10k:
        (raw / name.removesuffix(".gz")).unlink()
        (raw / name).write_bytes((MNIST_T10K / name).read_bytes())

    ds = load_dataset(DataConfig("mnist", data_dir=str(tmp_path)))

    assert offline == []
    images = gzip.decompress((MNIST_T10K / t10k[0][0]).read_bytes())[16:]  # past the header
    labels = gzip.decompress((MNIST_T10K / t10k[1][0]).read_bytes())[8:]
    np.testing.assert_array_equal(
        as_bytes(ds.x_test), np.frombuffer(images, np.uint8).reshape(-1, 784)
    )
    np.testing.assert_array_equal(ds.y_test.numpy(), np.frombuffer(labels, np.uint8))


# --- digits and the toy sets ----------------------------------------------------------------


def test_digits_splits_1797_into_1437_180_180_scaled_to_unit_range() -> None:
    ds = load_dataset(DataConfig("digits"))
    assert ds.info() == {
        "name": "digits",
        "train": 1437,
        "val": 180,
        "test": 180,
        "input_dim": 64,
        "classes": 10,
        "split_seed": 0,
    }
    x = torch.cat([ds.x_train, ds.x_val, ds.x_test])
    assert x.dtype == torch.float32 and x.min() == 0.0 and x.max() == 1.0
    assert set(ds.y_train.tolist()) == set(range(10))


@pytest.mark.parametrize(("name", "classes"), [("moons", 2), ("circles", 2), ("spiral", 3)])
def test_toy_sets_are_2d_standardised_and_split(name: str, classes: int) -> None:
    ds = load_dataset(DataConfig(name, split_seed=1))
    assert ds.info() == {
        "name": name,
        "train": 2400,
        "val": 300,
        "test": 300,
        "input_dim": 2,
        "classes": classes,
        "split_seed": 1,
    }
    assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    torch.testing.assert_close(ds.x_train.mean(0), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(ds.x_train.std(0), torch.ones(2), atol=1e-5, rtol=0)
    assert set(ds.y_test.tolist()) == set(range(classes))


def test_every_configurable_dataset_has_a_loader() -> None:
    assert set(data._LOADERS) == set(DATASETS)


def test_unknown_dataset_is_a_dataset_error() -> None:
    with pytest.raises(DatasetError, match="unknown dataset 'cifar'"):
        load_dataset(DataConfig("cifar"))


# --- limit and seeds ------------------------------------------------------------------------


def test_limit_keeps_the_first_training_samples_only() -> None:
    full = load_dataset(DataConfig("digits", split_seed=2))
    limited = load_dataset(DataConfig("digits", limit=100, split_seed=2))
    assert torch.equal(limited.x_train, full.x_train[:100])
    assert torch.equal(limited.y_train, full.y_train[:100])
    assert torch.equal(limited.x_val, full.x_val) and torch.equal(limited.x_test, full.x_test)
    assert load_dataset(DataConfig("digits", limit=10_000)).info()["train"] == 1437


@pytest.mark.parametrize("name", ["digits", "moons", "circles", "spiral"])
def test_same_seed_same_tensors_other_seed_other_split(name: str) -> None:
    def tensors(seed: int) -> list[torch.Tensor]:
        ds = load_dataset(DataConfig(name, split_seed=seed))
        return [ds.x_train, ds.y_train, ds.x_val, ds.y_val, ds.x_test, ds.y_test]

    first, again, other = tensors(7), tensors(7), tensors(8)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[0], other[0])


def test_seeds_beyond_32_bits_work() -> None:
    assert load_dataset(DataConfig("moons", split_seed=2**63 - 1)).info()["train"] == 2400
