"""The IDX writers' old address, kept for ``benchmarks/data_refusal.py`` (outside tests/):
the writers live in ``tests/helpers/idx_files.py``; once the benchmark imports them from
there, this module goes."""

from tests.helpers.idx_files import gzip_of_zeros, idx_bytes, write_idx

__all__ = ["gzip_of_zeros", "idx_bytes", "write_idx"]
