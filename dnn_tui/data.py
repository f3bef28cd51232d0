"""The dataset registry: a DataConfig in, in-memory tensors with seeded splits out.

Runs without any UI: the engine, the headless CLI and the tests call ``load_dataset`` directly.
Every dataset ends up as plain tensors (images flattened and scaled to [0, 1], the 2-D toy sets
standardised), because batching by indexing tensors is much faster than a DataLoader. torchvision
and scikit-learn are imported only by the datasets that need them.

Data files are untrusted input. IDX files (``idx`` and the unpacked files of the torchvision
sets) go through one reader that checks each header against its file's size and the other
file's count before anything large is read, unpacks gzip in chunks that grow with the data
found, and names the file in every error. Nothing here unpickles.
"""

from __future__ import annotations

import gzip
import math
import os
import socket
import stat
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
import platformdirs
import torch

from dnn_tui.config import DataConfig, RunConfig
from dnn_tui.fileio import file_kind, shorten, shorten_path

DOWNLOAD_TIMEOUT_S = 5.0
"""Seconds any one socket operation of a download may block. urllib waits forever by default, so
on a network that drops packets (rather than refusing them) an offline attempt would hang."""
TOY_SAMPLES = 3000
"""Samples in each 2-D toy set: enough for smooth decision boundaries, small enough for
full-batch gradient descent to take milliseconds per epoch."""
MIN_SAMPLES = 10
"""Fewest samples a dataset may have: each tenth that is split off needs at least one."""
MAX_IDX_CLASSES = 1000
"""Largest label + 1 an ``idx`` dataset may have; more is almost surely not a class label."""
MAX_IDX_DIMS = 4
"""Most dimensions an IDX header may declare: count, rows, columns and channels."""
MAX_IDX_VALUES = 2**30
"""Most values (pixels or labels) one IDX file may declare. Its float32 copy takes 4 GiB;
EMNIST, the largest MNIST-style set, has 0.55 G values."""
MAX_GZIP_RATIO = 1032
"""Deflate's largest expansion: a gzip file of n bytes unpacks to at most about 1032 n. A
header that declares more cannot be true, whatever the data after it."""
FIRST_CHUNK = 1 << 16
READ_CHUNK = 1 << 20
"""Bytes read (or unpacked) at a time, from FIRST_CHUNK doubling up to READ_CHUNK: memory
grows with the data found, never with what a header merely declares."""


class DatasetError(Exception):
    """A dataset that cannot be loaded; the message names the file or dataset and what to do."""


class _Unavailable(DatasetError):
    """A torchvision dataset that is neither readable on disk nor downloadable (``auto`` falls
    back to digits then)."""

    def __init__(self, problem: str, advice: str) -> None:
        super().__init__(f"{problem}. {advice}")
        self.problem = problem
        """What went wrong, without the advice: the reason ``auto`` gives for falling back."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """The tensors of one dataset, already split; everything on the CPU.

    ``eq=False``: comparing tensors field by field has no single truth value.
    """

    name: str
    """The dataset actually used (``digits`` when ``auto`` fell back)."""
    x_train: torch.Tensor
    """float32 (N, D): images flattened and scaled to [0, 1]; toy 2-D sets standardised."""
    y_train: torch.Tensor
    """int64 (N,) class indices."""
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: int
    """Number of classes: the width of the output layer."""
    note: str | None = None
    """Why ``auto`` fell back to digits; None when it did not."""
    split_seed: int = 0
    """The seed that chose the split (``DataConfig.split_seed``)."""

    @property
    def input_dim(self) -> int:
        """Features per sample: the width of the input layer."""
        return self.x_train.shape[1]

    def info(self) -> dict[str, str | int]:
        """The summary stored in history.json under ``dataset``."""
        return {
            "name": self.name,
            "train": len(self.y_train),
            "val": len(self.y_val),
            "test": len(self.y_test),
            "input_dim": self.input_dim,
            "classes": self.classes,
            "split_seed": self.split_seed,
        }


def default_data_dir() -> Path:
    """The per-user folder the torchvision datasets are downloaded into."""
    return Path(platformdirs.user_cache_dir("dnn-tui")) / "data"


def load_data(config: RunConfig) -> Dataset:
    """The dataset a run's config names, split with its split seed (never the training seed)."""
    return load_dataset(config.data)


def load_dataset(config: DataConfig) -> Dataset:
    """Load ``config.dataset`` and split it with ``config.split_seed``; raise DatasetError when
    impossible.

    The same split seed gives identical tensors; ``config.limit`` > 0 keeps at most that many of
    the (already shuffled) training samples and leaves validation and test untouched.
    """
    loader = _LOADERS.get(config.dataset)
    if loader is None:
        raise DatasetError(
            f"unknown dataset {shorten(config.dataset)}; choose one of {', '.join(_LOADERS)}"
        )
    data = replace(loader(config, config.split_seed), split_seed=config.split_seed)
    if config.limit > 0:
        data = replace(
            data, x_train=data.x_train[: config.limit], y_train=data.y_train[: config.limit]
        )
    return data


# --- splits ---------------------------------------------------------------------------------


def _tenth(n: int) -> int:
    """A tenth of n rounded half up: 1797 -> 180, so 80/10/10 of digits is 1437/180/180."""
    return (n + 5) // 10


def _permutation(n: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=generator)


def _split_80_10_10(
    name: str, x: torch.Tensor, y: torch.Tensor, classes: int, seed: int
) -> Dataset:
    """Shuffle with seed, then a tenth for validation, a tenth for test, the rest for training."""
    n = len(y)
    if n < MIN_SAMPLES:
        raise DatasetError(
            f"{name}: {n} samples are too few to split 80/10/10 (at least {MIN_SAMPLES})"
        )
    tenth = _tenth(n)
    order = _permutation(n, seed)
    val, test, train = order[:tenth], order[tenth : 2 * tenth], order[2 * tenth :]
    return Dataset(name, x[train], y[train], x[val], y[val], x[test], y[test], classes)


def _images_to_features(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, ...) -> float32 (N, D) in [0, 1] (divided in place: one float copy, not two)."""
    return images.reshape(len(images), -1).float().div_(255)


# --- torchvision: mnist, fashion-mnist, kmnist ----------------------------------------------

_TORCHVISION = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "kmnist": "KMNIST"}
"""Dataset name -> torchvision class, which is also the folder its files live in."""

_TORCHVISION_ERRORS = (EOFError, OSError, RuntimeError, ValueError, zlib.error)
"""What a download can raise: URLError and timeouts are OSErrors, a failed MD5 check is a
RuntimeError, a bad archive fails while it is unpacked."""


@contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    """Bound blocking socket calls for the duration of a download attempt.

    The default timeout is process-wide, so it is set only around the attempt and restored.
    """
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _reason(error: BaseException) -> str:
    """The root cause in one line: torchvision's message lists every mirror it tried and ends
    with the last error, e.g. ``<urlopen error [Errno -2] Name or service not known>``."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    return lines[-1].removeprefix("<urlopen error ").removesuffix(">")


IMAGES, LABELS = "images-idx3-ubyte", "labels-idx1-ubyte"
"""The unpacked file names of every torchvision MNIST-style set: ``{split}-{kind}``."""


def _load_torchvision(config: DataConfig, seed: int) -> Dataset:
    """Official train split -> 90/10 train/validation (seeded); official test split -> test.

    torchvision only downloads (MD5-checked) and unpacks; the unpacked IDX files are read
    here with the same checks as ``--dataset idx``. torchvision's own reader would prefer
    legacy ``processed/*.pt`` files, which are pickles, and reads whole files before checking
    them; neither happens here.
    """
    from torchvision import datasets

    cls = getattr(datasets, _TORCHVISION[config.dataset])
    name = cls.__name__
    root = Path(config.data_dir).expanduser() if config.data_dir else default_data_dir()
    raw = root / name / "raw"
    missing = [
        (archive, md5)
        for archive, md5 in cls.resources
        if not os.path.lexists(raw / Path(archive).stem)
    ]
    if missing:
        _download(cls, root / name, missing)
    parts = {}
    for split in ("train", "t10k"):
        try:
            images, labels = _read_idx_pair(
                raw / f"{split}-{IMAGES}", raw / f"{split}-{LABELS}", image_dims=(3, 3)
            )
        except DatasetError as problem:
            raise _unreadable(name, f"file {problem}") from None
        if not 0 <= labels.min() <= labels.max() < len(cls.classes):
            path = shorten_path(raw / f"{split}-{LABELS}")
            raise _unreadable(name, f"file {path}: labels outside 0..{len(cls.classes) - 1}")
        parts[split] = torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))
    (images, labels), (test_images, test_labels) = parts["train"], parts["t10k"]
    if test_images.shape[1:] != images.shape[1:]:
        shapes = ["x".join(map(str, t.shape[1:])) for t in (test_images, images)]
        path = shorten_path(raw / f"t10k-{IMAGES}")
        raise _unreadable(
            name, f"file {path}: images of {shapes[0]}, but the training images are {shapes[1]}"
        )
    n = len(labels)
    if n < MIN_SAMPLES:
        raise _unreadable(name, f"file {shorten_path(raw / f'train-{IMAGES}')}: only {n} images")
    order = _permutation(n, seed)
    val, fit = order[: _tenth(n)], order[_tenth(n) :]
    return Dataset(
        config.dataset,
        _images_to_features(images[fit]),  # select the bytes first: a quarter of the copying
        labels[fit],
        _images_to_features(images[val]),
        labels[val],
        _images_to_features(test_images),
        test_labels,
        len(cls.classes),
    )


def _download(cls: type, folder: Path, missing: list[tuple[str, str]]) -> None:
    """Download and unpack the missing archives (each MD5-checked; an archive already in the
    folder with the right checksum is unpacked without a download); _Unavailable if any
    cannot be had."""
    from torchvision.datasets.utils import check_integrity, download_and_extract_archive

    raw = folder / "raw"
    for archive, md5 in missing:
        failure: BaseException | None = None
        for mirror in cls.mirrors:
            try:
                with _socket_timeout(DOWNLOAD_TIMEOUT_S):
                    download_and_extract_archive(
                        f"{mirror}{archive}", download_root=str(raw), filename=archive, md5=md5
                    )
            except _TORCHVISION_ERRORS as error:
                failure = error
            else:
                failure = None
                break
        if failure is None:
            continue
        reason = _reason(failure)
        if os.path.isfile(raw / archive) and not check_integrity(str(raw / archive), md5):
            problem = (
                f"{cls.__name__} file {shorten_path(raw / archive)} fails its MD5 check and "
                f"no fresh copy could be downloaded ({reason})"
            )
        else:
            problem = (
                f"{cls.__name__} not found in {shorten_path(raw)} and could not be "
                f"downloaded ({reason})"
            )
        legacy = sorted(p.name for p in (folder / "processed").glob("*.pt"))
        if legacy:
            problem += (
                f"; the legacy files {', '.join(legacy)} in {shorten_path(folder / 'processed')} "
                "are never read (they are pickles)"
            )
        raise _Unavailable(
            problem,
            f"Put the official files {', '.join(a for a, _ in cls.resources)} in "
            f"{shorten_path(raw)} (they are checked and unpacked on the next run), choose "
            "another folder with --data-dir, or use --dataset digits (works offline)",
        )


def _unreadable(name: str, problem: str) -> _Unavailable:
    return _Unavailable(
        f"{name} {problem}",
        "Delete the damaged files to download fresh copies, or use --dataset digits "
        "(works offline)",
    )


def _load_auto(config: DataConfig, seed: int) -> Dataset:
    """MNIST when present or downloadable, else the bundled digits with a note saying why."""
    mnist = DataConfig(dataset="mnist", data_dir=config.data_dir)
    try:
        return _load_torchvision(mnist, seed)
    except _Unavailable as error:
        digits = _load_digits(config, seed)
        note = f"{error.problem}; using scikit-learn's bundled digits instead"
        return replace(digits, note=note)


# --- scikit-learn's digits -------------------------------------------------------------------


def _load_digits(config: DataConfig, seed: int) -> Dataset:
    """1797 8x8 images with pixel values 0..16, shipped with scikit-learn: always offline."""
    from sklearn.datasets import load_digits

    pixels, labels = load_digits(return_X_y=True)
    x = torch.from_numpy((pixels / 16).astype(np.float32))
    y = torch.from_numpy(labels.astype(np.int64))
    return _split_80_10_10("digits", x, y, 10, seed)


# --- idx: any pair of IDX files --------------------------------------------------------------

_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type byte -> element type (multi-byte values are big-endian)."""


@dataclass(frozen=True)
class _IdxHeader:
    """What an IDX file's header declares, checked against the file's size."""

    path: Path
    dtype: np.dtype
    shape: tuple[int, ...]
    compressed: bool
    """gzip data (told by its magic bytes, not the file name)."""

    @property
    def name(self) -> str:
        """The path as messages show it."""
        return shorten_path(self.path)

    @property
    def values(self) -> int:
        return math.prod(self.shape)

    @property
    def payload(self) -> int:
        """Bytes after the header."""
        return self.values * self.dtype.itemsize

    @property
    def shape_text(self) -> str:
        return "x".join(map(str, self.shape))


def _open_idx(path: Path, stack: ExitStack) -> tuple[BinaryIO, _IdxHeader]:
    """Open an IDX file (gzip or raw), read and check its header; nothing large is read.

    The header must fit the file: at most MAX_IDX_DIMS dimensions, none of them 0, at most
    MAX_IDX_VALUES values, and exactly as many bytes as they need (a raw file), or no more
    than deflate can pack into the file's size (gzip). Returns the stream, positioned at the
    payload, and the header. DatasetError names the file and the rule.
    """
    name = shorten_path(path)
    handle, size, compressed = _open_regular(path, name, stack)
    if size == 0:
        raise DatasetError(f"{name}: an empty file, not an IDX file")
    stream: BinaryIO = handle
    if compressed:
        stream = stack.enter_context(gzip.GzipFile(fileobj=handle, mode="rb"))
    header = _read_idx_header(stream, path, name, compressed)
    _check_idx_sizes(header, size)
    return stream, header


def _open_regular(path: Path, name: str, stack: ExitStack) -> tuple[BinaryIO, int, bool]:
    """The opened file (closed with stack), its size, and whether it holds gzip data.

    DatasetError when it cannot be opened or is not a regular file.
    """
    try:
        # Without blocking: opening a FIFO would wait for a writer. The opened file itself is
        # checked, so a link to /dev/zero is a device, not an endless read.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                kind = file_kind(info.st_mode)
                raise DatasetError(f"{name}: not a regular file ({kind}); give an IDX file")
        except BaseException:
            os.close(fd)
            raise
        handle = stack.enter_context(os.fdopen(fd, "rb"))
        compressed = handle.read(2) == b"\x1f\x8b"
        handle.seek(0)
    except OSError as error:
        raise DatasetError(f"{name}: cannot read the file ({error.strerror or error})") from None
    return handle, info.st_size, compressed


def _read_idx_header(stream: BinaryIO, path: Path, name: str, compressed: bool) -> _IdxHeader:
    """The magic number and the dimensions, read from the start of the (unpacked) data."""
    magic = _read_up_to(stream, 4, name)
    if len(magic) < 4 or magic[:2] != b"\0\0" or magic[2] not in _IDX_TYPES or magic[3] == 0:
        raise DatasetError(
            f"{name}: not an IDX file (magic number {magic.hex() or 'missing'}; IDX files "
            "start with 0000, a type byte and the number of dimensions, like 00000803)"
        )
    ndim = magic[3]
    if ndim > MAX_IDX_DIMS:
        raise DatasetError(
            f"{name}: the IDX header declares {ndim} dimensions; at most {MAX_IDX_DIMS} "
            "(count, rows, columns, channels)"
        )
    sizes = _read_up_to(stream, 4 * ndim, name)
    if len(sizes) < 4 * ndim:
        raise DatasetError(f"{name}: truncated inside the header ({4 + len(sizes)} bytes)")
    shape = tuple(int.from_bytes(sizes[i : i + 4], "big") for i in range(0, 4 * ndim, 4))
    return _IdxHeader(path, _IDX_TYPES[magic[2]], shape, compressed)


def _check_idx_sizes(header: _IdxHeader, size: int) -> None:
    """The declared shape against the limits and against the file's size (``size`` bytes)."""
    name = header.name
    if 0 in header.shape:
        raise DatasetError(
            f"{name}: the header declares {header.shape_text} values; every dimension needs at "
            "least 1"
        )
    if header.values > MAX_IDX_VALUES:
        raise DatasetError(
            f"{name}: the header declares {header.shape_text} = {header.values:,} values; at "
            f"most {MAX_IDX_VALUES:,} are read (in float32 they alone would take "
            f"{4 * header.values / 2**30:,.1f} GiB)"
        )
    follows = size - 4 - 4 * len(header.shape)
    if header.compressed and header.payload > MAX_GZIP_RATIO * size:
        raise DatasetError(
            f"{name}: the header declares {header.shape_text} values ({header.payload:,} bytes), "
            f"more than {size:,} bytes of gzip data can hold ({MAX_GZIP_RATIO * size:,} at most)"
        )
    if not header.compressed and follows < header.payload:
        raise DatasetError(_truncated(header, follows))
    if not header.compressed and follows > header.payload:
        raise DatasetError(_extra(header, follows - header.payload))


def _truncated(header: _IdxHeader, follows: int) -> str:
    return (
        f"{header.name}: truncated: the header declares {header.shape_text} values "
        f"({header.payload} bytes) but only {follows} bytes follow"
    )


def _extra(header: _IdxHeader, extra: int, more: bool = False) -> str:
    count = f"more than {extra}" if more else f"{extra}"
    return f"{header.name}: {count} bytes more than the header's {header.shape_text} values"


def _read_up_to(stream: BinaryIO, size: int, name: str) -> bytes:
    """Up to size bytes (fewer at the end of the data); gzip damage is a DatasetError."""
    try:
        return stream.read(size)
    except (EOFError, OSError, zlib.error) as error:
        raise DatasetError(f"{name}: damaged or truncated gzip data ({error})") from None


def _read_payload(stream: BinaryIO, header: _IdxHeader) -> np.ndarray:
    """The values after the header, read in chunks into a buffer that grows with what is found.

    A raw file's size was checked against the header already; gzip data is unpacked only up
    to the declared size, then one chunk past it to tell extra data from the end (where
    gzip checks its CRC).
    """
    data = bytearray()
    step = FIRST_CHUNK  # doubles up to READ_CHUNK: a read allocates its size before it fills
    while len(data) < header.payload:
        chunk = _read_up_to(stream, min(step, header.payload - len(data)), header.name)
        if not chunk:
            raise DatasetError(_truncated(header, len(data)))
        data += chunk
        step = min(2 * step, READ_CHUNK)
    if _read_up_to(stream, 1, header.name):
        extra = 1 + len(_read_up_to(stream, FIRST_CHUNK - 1, header.name))
        raise DatasetError(_extra(header, extra, more=extra == FIRST_CHUNK))
    return np.frombuffer(data, header.dtype).reshape(header.shape)


def _check_images(header: _IdxHeader, dims: tuple[int, int]) -> None:
    low, high = dims
    if header.dtype != np.uint8 or not low <= len(header.shape) <= high:
        layout = "count x rows x columns" + (", channels" if high > 3 else "")
        raise DatasetError(
            f"{header.name}: expected uint8 images ({layout}), got {len(header.shape)}-D "
            f"{header.dtype.name} data of {header.shape_text}; is it the labels file?"
        )


def _check_labels(header: _IdxHeader) -> None:
    if len(header.shape) != 1 or header.dtype.kind not in "iu":
        raise DatasetError(
            f"{header.name}: expected a 1-D list of integer labels, got {len(header.shape)}-D "
            f"{header.dtype.name} data of {header.shape_text}; is it the images file?"
        )


def _read_idx_pair(
    images_path: Path, labels_path: Path, *, image_dims: tuple[int, int], min_count: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Images (uint8, N x ...) and labels (integers, N) from two IDX files.

    Both headers are checked, each against its file's size and against the other file's
    count, before either payload is read.
    """
    with ExitStack() as stack:
        image_stream, images = _open_idx(images_path, stack)
        _check_images(images, image_dims)
        label_stream, labels = _open_idx(labels_path, stack)
        _check_labels(labels)
        if labels.shape[0] != images.shape[0]:
            raise DatasetError(
                f"{labels.name}: {labels.shape[0]} labels for {images.shape[0]} images in "
                f"{images.name}"
            )
        if images.shape[0] < min_count:
            raise DatasetError(
                f"{images.name}: {images.shape[0]} samples are too few to split 80/10/10 "
                f"(at least {min_count})"
            )
        return _read_payload(image_stream, images), _read_payload(label_stream, labels)


def _load_idx(config: DataConfig, seed: int) -> Dataset:
    """Images (uint8, N x ...) and labels (integers, N), split 80/10/10."""
    if not config.idx_images or not config.idx_labels:
        raise DatasetError("dataset 'idx' needs both --idx-images and --idx-labels")
    images_path = Path(config.idx_images).expanduser()
    labels_path = Path(config.idx_labels).expanduser()
    images, labels = _read_idx_pair(
        images_path, labels_path, image_dims=(2, MAX_IDX_DIMS), min_count=MIN_SAMPLES
    )
    if not 0 <= labels.min() <= labels.max() < MAX_IDX_CLASSES:
        raise DatasetError(
            f"{shorten_path(labels_path)}: labels must be class indices from 0 to "
            f"{MAX_IDX_CLASSES - 1}, found {labels.min()}..{labels.max()}"
        )
    x = _images_to_features(torch.from_numpy(images))
    y = torch.from_numpy(labels.astype(np.int64))
    classes = max(int(labels.max()) + 1, 2)
    return _split_80_10_10("idx", x, y, classes, seed)


# --- 2-D toy problems ------------------------------------------------------------------------


def _sklearn_random_state(seed: int) -> np.random.RandomState:
    """scikit-learn wants seeds below 2**32; a seeded bit generator takes any seed."""
    return np.random.RandomState(np.random.MT19937(seed))


def _moons(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_moons

    return make_moons(TOY_SAMPLES, noise=0.2, random_state=_sklearn_random_state(seed))


def _circles(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_circles

    return make_circles(
        TOY_SAMPLES, noise=0.1, factor=0.5, random_state=_sklearn_random_state(seed)
    )


def _spiral(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The classic three-arm spiral (CS231n): radius grows along each arm, angle is noisy."""
    rng = np.random.default_rng(seed)
    arms, per_arm = 3, TOY_SAMPLES // 3
    radius = np.tile(np.linspace(0.0, 1.0, per_arm), arms)
    angle = np.concatenate(
        [np.linspace(4.0 * arm, 4.0 * (arm + 1), per_arm) for arm in range(arms)]
    ) + rng.normal(0.0, 0.2, arms * per_arm)
    points = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    return points, np.repeat(np.arange(arms), per_arm)


_TOYS: dict[str, Callable[[int], tuple[np.ndarray, np.ndarray]]] = {
    "moons": _moons,
    "circles": _circles,
    "spiral": _spiral,
}


def _load_toy(config: DataConfig, seed: int) -> Dataset:
    """Generate with seed, split 80/10/10, standardise with the training split's statistics."""
    points, labels = _TOYS[config.dataset](seed)
    x = torch.from_numpy(points.astype(np.float32))
    y = torch.from_numpy(labels.astype(np.int64))
    data = _split_80_10_10(config.dataset, x, y, int(labels.max()) + 1, seed)
    mean, std = data.x_train.mean(dim=0), data.x_train.std(dim=0)
    return replace(
        data,
        x_train=(data.x_train - mean) / std,
        x_val=(data.x_val - mean) / std,
        x_test=(data.x_test - mean) / std,
    )


_LOADERS: dict[str, Callable[[DataConfig, int], Dataset]] = {
    "auto": _load_auto,
    **dict.fromkeys(_TORCHVISION, _load_torchvision),
    "digits": _load_digits,
    "idx": _load_idx,
    **dict.fromkeys(_TOYS, _load_toy),
}
"""Every name in config.DATASETS -> the function that loads it."""
