"""dnn-tui: a keyboard-driven deep-learning lab in the terminal."""

__version__ = "0.1.0"
