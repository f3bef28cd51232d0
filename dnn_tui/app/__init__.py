"""The dashboard: everything Textual lives in this package.

``app.py`` wires the screens, key bindings and the training worker together (``keys.py``
describes every key once: bindings, footer labels and the help's table);
``screens/`` holds one module per screen and ``widgets/`` one module per widget.
Nothing here imports torch at module level: the dashboard paints first, and the
training thread imports the engine when a run starts.

This layer may import ``sweeps``, ``analysis``, ``rundir``, ``training`` and the layers below
them; never ``commands`` or ``cli``. No other layer imports ``textual``.
"""
