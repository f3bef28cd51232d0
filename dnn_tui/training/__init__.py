"""Training: the engine, its controls and the events it emits, the statuses a run ends with
and the lesson rules (``lessons``: the bands a view calls a layer by). Runs without any UI.

This package's ``__init__`` imports no torch, so the dashboard can use the
controls and events while torch is still loading; the loop itself is in
``dnn_tui.training.engine``.

This layer may import data, model, graph, presets, config and fileio; never ``rundir``,
``analysis``, ``sweeps``, ``app``, ``commands`` or ``cli``.
"""
