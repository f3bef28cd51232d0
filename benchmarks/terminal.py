"""A program in a pseudo-terminal, its screen kept by a terminal emulator (pyte).

What a person over SSH sees, measured from outside the process: the benchmarks
use it to time the first painted frame and key-press-to-screen latency.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
from collections.abc import Callable, Sequence

import pyte


class Terminal:
    """Runs argv in a pty of cols x rows and keeps an emulated screen of its output."""

    def __init__(
        self, argv: Sequence[str], cols: int = 120, rows: int = 40, cwd: str | None = None
    ) -> None:
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # the child: size the terminal, then become the program
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            if cwd is not None:
                os.chdir(cwd)
            env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
            os.execvpe(argv[0], list(argv), env)
        self.pid, self.fd = pid, fd

    def pump(self, timeout: float) -> None:
        """Feed whatever the program wrote within timeout seconds to the emulator."""
        deadline = time.perf_counter() + timeout
        while True:
            left = deadline - time.perf_counter()
            ready, _, _ = select.select([self.fd], [], [], max(left, 0))
            if not ready:
                return
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            self.stream.feed(data)
            if left <= 0:
                return

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 30.0) -> float:
        """Seconds until predicate(screen text) holds; raises TimeoutError after timeout."""
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            self.pump(0.005)
            if predicate(self.text()):
                return time.perf_counter() - start
        raise TimeoutError(f"screen never matched; last screen:\n{self.text()}")

    def send(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def close(self) -> None:
        """Ask politely (ctrl+q), then end the process."""
        with contextlib.suppress(OSError):
            self.send(b"\x11")
        deadline = time.perf_counter() + 5
        while time.perf_counter() < deadline:
            self.pump(0.05)
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)
