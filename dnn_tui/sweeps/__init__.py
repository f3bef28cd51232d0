"""Sweeps: planning grids (``planning``), searches over a typed space (``space``, ``search``:
an Optuna study in the sweep folder), running them as local processes (``local``) or as Ray
tasks (``ray_tasks``), going on after a killed driver (``resumption``), and what mattered
(``importance``).

This layer may import ``analysis``, ``rundir``, ``training`` and the layers below them; never
``app``, ``commands`` or ``cli``.
"""
