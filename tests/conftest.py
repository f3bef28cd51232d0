"""Shared test setup.

torch runs single-threaded in the tests: on a 2-core machine that is busy with
anything else, OpenMP's second thread makes small ops wait for a time slice and
training runs many times slower; one thread keeps the suite's time steady. A run's
``threads = "auto"`` takes at most ``OMP_NUM_THREADS``, so runs in the tests keep to one
thread too (and repeat bit for bit, whatever the load).
"""

import os

import torch

os.environ["OMP_NUM_THREADS"] = "1"
torch.set_num_threads(1)
