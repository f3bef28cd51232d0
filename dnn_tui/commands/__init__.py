"""The commands of ``dnn-tui``, one module each; ``dnn_tui.cli`` builds the parser from their
``register`` functions. Everything here runs without any UI (``tui`` and ``watch`` import the
dashboard lazily) and imports torch only inside the commands that train or evaluate.

This layer may import every layer but ``cli``."""
