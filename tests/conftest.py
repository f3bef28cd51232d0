"""Shared test setup.

torch runs single-threaded in the tests: on a 2-core machine that is busy with
anything else, OpenMP's second thread makes small ops wait for a time slice and
training runs many times slower; one thread keeps the suite's time steady.
"""

import torch

torch.set_num_threads(1)
