"""The dataset registry: a DataConfig in, in-memory tensors with seeded splits out.

Runs without any UI: the engine, the headless CLI and the tests call ``load_dataset`` directly.
Every dataset ends up as plain tensors (images flattened and scaled to [0, 1], the 2-D toy sets
standardised), because batching by indexing tensors is much faster than a DataLoader. torchvision
and scikit-learn are imported only by the datasets that need them.
"""

from __future__ import annotations

import gzip
import math
import socket
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import platformdirs
import torch

from dnn_tui.config import DataConfig

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
        }


def default_data_dir() -> Path:
    """The per-user folder the torchvision datasets are downloaded into."""
    return Path(platformdirs.user_cache_dir("dnn-tui")) / "data"


def load_dataset(config: DataConfig, seed: int = 0) -> Dataset:
    """Load ``config.dataset`` and split it with ``seed``; raise DatasetError when impossible.

    The same seed gives identical tensors; ``config.limit`` > 0 keeps at most that many of the
    (already shuffled) training samples and leaves validation and test untouched.
    """
    loader = _LOADERS.get(config.dataset)
    if loader is None:
        raise DatasetError(
            f"unknown dataset {config.dataset!r}; choose one of {', '.join(_LOADERS)}"
        )
    data = loader(config, seed)
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
    """uint8 (N, ...) -> float32 (N, D) in [0, 1]."""
    return images.reshape(len(images), -1).float() / 255


# --- torchvision: mnist, fashion-mnist, kmnist ----------------------------------------------

_TORCHVISION = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "kmnist": "KMNIST"}
"""Dataset name -> torchvision class, which is also the folder its files live in."""

_TORCHVISION_ERRORS = (
    AssertionError,
    EOFError,
    KeyError,
    OSError,
    RuntimeError,
    TypeError,
    ValueError,
)
"""What torchvision raises for files it cannot download or parse (it checks IDX headers with
``assert`` and reports failed downloads as RuntimeError)."""


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
        return "not a valid IDX file"
    return lines[-1].removeprefix("<urlopen error ").removesuffix(">")


def _load_torchvision(config: DataConfig, seed: int) -> Dataset:
    """Official train split -> 90/10 train/validation (seeded); official test split -> test."""
    from torchvision import datasets

    cls = getattr(datasets, _TORCHVISION[config.dataset])
    root = Path(config.data_dir).expanduser() if config.data_dir else default_data_dir()
    raw = root / cls.__name__ / "raw"
    files = [Path(url).stem for url, _ in cls.resources]  # torchvision reads them unpacked
    present = all((raw / file).is_file() for file in files)
    try:
        with _socket_timeout(DOWNLOAD_TIMEOUT_S):
            # Downloads all four files unless present, verifying each archive's MD5.
            train = cls(root, train=True, download=True)
    except _TORCHVISION_ERRORS as error:
        if present:
            raise _unreadable(cls.__name__, _diagnose(raw, "train", error)) from None
        raise _Unavailable(
            f"{cls.__name__} not found in {raw} and could not be downloaded ({_reason(error)})",
            f"Put the official files {', '.join(f'{file}.gz' for file in files)} in that "
            "folder (they are checked and unpacked on the next run), choose another folder "
            "with --data-dir, or use --dataset digits (works offline)",
        ) from None
    try:
        test = cls(root, train=False)
    except _TORCHVISION_ERRORS as error:
        raise _unreadable(cls.__name__, _diagnose(raw, "t10k", error)) from None
    for split, part in (("train", train), ("t10k", test)):
        problem = _labels_problem(part.data, part.targets, len(cls.classes))
        if problem:
            raise _unreadable(cls.__name__, f"file {raw / f'{split}-labels-idx1-ubyte'}: {problem}")
    images, labels = train.data, train.targets
    n = len(labels)
    if n < MIN_SAMPLES:
        raise _unreadable(cls.__name__, f"file {raw / 'train-images-idx3-ubyte'}: only {n} images")
    order = _permutation(n, seed)
    val, fit = order[: _tenth(n)], order[_tenth(n) :]
    return Dataset(
        config.dataset,
        _images_to_features(images[fit]),  # select the bytes first: a quarter of the copying
        labels[fit],
        _images_to_features(images[val]),
        labels[val],
        _images_to_features(test.data),
        test.targets,
        len(cls.classes),
    )


def _unreadable(name: str, problem: str) -> _Unavailable:
    return _Unavailable(
        f"{name} {problem}",
        "Delete the damaged files to download fresh copies, or use --dataset digits "
        "(works offline)",
    )


def _diagnose(raw: Path, split: str, error: BaseException) -> str:
    """The file at fault and what is wrong with it: torchvision's parse errors name neither."""
    for kind in ("images-idx3", "labels-idx1"):
        try:
            _read_idx(raw / f"{split}-{kind}-ubyte")
        except DatasetError as problem:
            return f"file {problem}"
    return f"files in {raw} are unreadable ({_reason(error)})"


def _labels_problem(images: torch.Tensor, labels: torch.Tensor, classes: int) -> str | None:
    """What is inconsistent between images and labels (torchvision checks neither), or None."""
    if len(labels) != len(images):
        return f"{len(labels)} labels for {len(images)} images"
    if len(labels) and not 0 <= int(labels.min()) <= int(labels.max()) < classes:
        return f"labels outside 0..{classes - 1}"
    return None


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


def _read_idx(path: Path) -> np.ndarray:
    """Read an IDX file, gzip-compressed or not (told apart by magic bytes, not the name).

    Raises DatasetError naming the file for a bad magic number, a truncated file or extra bytes.
    """
    try:
        blob = path.read_bytes()
    except OSError as error:
        raise DatasetError(f"{path}: cannot read the file ({error.strerror or error})") from None
    if blob[:2] == b"\x1f\x8b":
        try:
            blob = gzip.decompress(blob)
        except (EOFError, OSError, zlib.error) as error:
            raise DatasetError(f"{path}: damaged or truncated gzip data ({error})") from None
    if len(blob) < 4 or blob[:2] != b"\0\0" or blob[2] not in _IDX_TYPES or blob[3] == 0:
        raise DatasetError(
            f"{path}: not an IDX file (magic number {blob[:4].hex() or 'missing'}; IDX files "
            "start with 0000, a type byte and the number of dimensions, like 00000803)"
        )
    dtype, ndim = _IDX_TYPES[blob[2]], blob[3]
    header = 4 + 4 * ndim
    if len(blob) < header:
        raise DatasetError(f"{path}: truncated inside the header ({len(blob)} bytes)")
    shape = tuple(int(size) for size in np.frombuffer(blob, ">u4", ndim, 4))
    count = math.prod(shape)
    expected, actual = count * dtype.itemsize, len(blob) - header
    shape_text = "x".join(map(str, shape))
    if actual < expected:
        raise DatasetError(
            f"{path}: truncated: the header declares {shape_text} values ({expected} bytes) "
            f"but only {actual} bytes follow"
        )
    if actual > expected:
        raise DatasetError(
            f"{path}: {actual - expected} bytes more than the header's {shape_text} values"
        )
    return np.frombuffer(blob, dtype, count, header).reshape(shape)


def _load_idx(config: DataConfig, seed: int) -> Dataset:
    """Images (uint8, N x ...) and labels (integers, N), split 80/10/10."""
    if not config.idx_images or not config.idx_labels:
        raise DatasetError("dataset 'idx' needs both --idx-images and --idx-labels")
    images_path = Path(config.idx_images).expanduser()
    labels_path = Path(config.idx_labels).expanduser()
    images, labels = _read_idx(images_path), _read_idx(labels_path)
    if images.ndim < 2 or images.dtype != np.uint8:
        raise DatasetError(
            f"{images_path}: expected uint8 images (count x rows x columns), got "
            f"{images.ndim}-D {images.dtype.name} data; is it the labels file?"
        )
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DatasetError(
            f"{labels_path}: expected a 1-D list of integer labels, got "
            f"{labels.ndim}-D {labels.dtype.name} data; is it the images file?"
        )
    if len(labels) != len(images):
        raise DatasetError(
            f"{labels_path}: {len(labels)} labels, but {images_path} holds {len(images)} images"
        )
    if len(labels) and not 0 <= labels.min() <= labels.max() < MAX_IDX_CLASSES:
        raise DatasetError(
            f"{labels_path}: labels must be class indices from 0 to {MAX_IDX_CLASSES - 1}, "
            f"found {labels.min()}..{labels.max()}"
        )
    x = _images_to_features(torch.from_numpy(images.copy()))
    y = torch.from_numpy(labels.astype(np.int64))
    classes = max(int(labels.max(initial=0)) + 1, 2)
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
