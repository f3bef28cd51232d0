"""The lab screen's widgets, one a module."""
