"""Sweeps: planning grids (``planning``), running them as local processes (``local``) or as
Ray tasks (``ray_tasks``).

This layer may import ``analysis``, ``rundir``, ``training`` and the layers below them; never
``app``, ``commands`` or ``cli``.
"""
