"""Write IDX files (the MNIST format) from numpy arrays, for tests that need dataset files."""

from __future__ import annotations

import gzip as gzip_module
import zlib
from pathlib import Path

import numpy as np

MNIST_T10K = Path(__file__).resolve().parents[2].parent / "shared/data/mnist-t10k"
"""Real MNIST test images, kept beside the repository (never copied into it)."""


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: magic 0x0000 08 <ndim>, big-endian sizes, the bytes."""
    if array.dtype != np.uint8:
        raise TypeError(f"write IDX from uint8 arrays, got {array.dtype}")
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + np.ascontiguousarray(array).tobytes()


def write_idx(path: Path, array: np.ndarray, gzip: bool = False) -> Path:
    """Write a uint8 array (1-D labels or 3-D images) as an IDX file, gzip-compressed if asked."""
    data = idx_bytes(array)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip_module.compress(data, mtime=0) if gzip else data)
    return path


def gzip_of_zeros(header: bytes, zeros: int) -> bytes:
    """A valid gzip file of header followed by `zeros` zero bytes, made without holding them.

    After a full flush deflate starts afresh, so every further MiB of zeros packs to the
    same bytes: they are packed once and repeated (about 1 kB per MiB). The CRC-32 in the
    trailer is computed over the real data, so a full unpacking checks out.
    """
    chunk = 1 << 20
    whole, rest = divmod(zeros, chunk)
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw deflate
    parts = [b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"]  # gzip header, no name, mtime 0
    parts.append(packer.compress(header) + packer.flush(zlib.Z_FULL_FLUSH))
    block = packer.compress(bytes(chunk)) + packer.flush(zlib.Z_FULL_FLUSH)
    parts.append(block * whole)
    parts.append(packer.compress(bytes(rest)) + packer.flush(zlib.Z_FINISH))
    crc = zlib.crc32(header)
    zero_chunk = bytes(chunk)
    for _ in range(whole):
        crc = zlib.crc32(zero_chunk, crc)
    crc = zlib.crc32(bytes(rest), crc)
    size = (len(header) + zeros) % 2**32
    parts.append(crc.to_bytes(4, "little") + size.to_bytes(4, "little"))
    return b"".join(parts)


def images_and_labels(n: int, seed: int, shape: tuple[int, ...] = (28, 28)):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    return images, labels


def write_torchvision_layout(root: Path, folder: str, train: int = 60, test: int = 20):
    """The four files, unpacked, where torchvision's MNIST-style classes look for them."""
    raw = root / folder / "raw"
    train_images, train_labels = images_and_labels(train, seed=1)
    test_images, test_labels = images_and_labels(test, seed=2)
    write_idx(raw / "train-images-idx3-ubyte", train_images)
    write_idx(raw / "train-labels-idx1-ubyte", train_labels)
    write_idx(raw / "t10k-images-idx3-ubyte", test_images)
    write_idx(raw / "t10k-labels-idx1-ubyte", test_labels)
    return raw, train_images, train_labels, test_images, test_labels
