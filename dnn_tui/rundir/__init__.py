"""The run directory: its files and the one loader, the recorder, claiming, liveness, steering
(channel), watching (follow), background runs (launch) and the catalog of runs.

This layer may import ``training`` and the layers below it (data, model, graph, presets,
config, options, fileio); never ``analysis``, ``sweeps``, ``app``, ``commands`` or ``cli``.
"""
