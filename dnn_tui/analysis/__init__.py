"""Saved runs side by side: comparison, figures and evaluation, without any UI.

This layer may import ``rundir``, ``training`` and the layers below them; never ``sweeps``,
``app``, ``commands`` or ``cli``.
"""
