"""Write IDX files (the MNIST format) from numpy arrays, for tests that need dataset files."""

from __future__ import annotations

import gzip as gzip_module
from pathlib import Path

import numpy as np


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
