"""Fixtures of the unit tests shared by several modules (a test module never imports another)."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[float | None]:
    """Every download fails as on a machine without a network; records the socket timeout."""
    timeouts: list[float | None] = []

    def refuse(*args, **kwargs):
        timeouts.append(socket.getdefaulttimeout())
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return timeouts
