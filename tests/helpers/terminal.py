"""The one pty driver: a dnn-tui process in a pseudo-terminal, as a shell over SSH runs it.

The signal tests look at the raw bytes the program wrote (escape sequences that give the
terminal back); the tests of what stays on screen read it through a terminal emulator (pyte),
as a user's terminal keeps it. Both come from the same kept output. A reader thread drains the
terminal all the time: a program blocks when nobody reads its terminal.
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
import threading
from collections.abc import Sequence
from pathlib import Path

import pyte

from tests.helpers.cli import cli_command, cli_env
from tests.helpers.waiting import WaitTimedOut, wait_for


class PtyProcess:
    """``python -m dnn_tui ARGS`` with a pty of cols x rows as its terminal; its output is kept."""

    def __init__(self, args: Sequence[object], cwd: Path, cols: int = 120, rows: int = 40) -> None:
        argv = cli_command(*args)
        env = dict(cli_env(), TERM="xterm-256color")
        pid, fd = pty.fork()
        if pid == 0:  # the child: size the terminal, then become the program
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                os.chdir(cwd)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.output = bytearray()
        self.returncode: int | None = None
        self.screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self.screen)
        self._fed = 0
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        """Drain the terminal until the program has gone (EIO) or the test closed it."""
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(self.fd, 65536)
            except (OSError, ValueError):
                return
            if not data:
                return
            with self._lock:
                self.output.extend(data)

    def text(self) -> bytes:
        """Every byte the program has written so far."""
        with self._lock:
            return bytes(self.output)

    def screen_text(self) -> str:
        """What the emulated terminal shows now, line by line (pyte has no alternate screen:
        what a program leaves on the normal screen is written over its last frame)."""
        with self._lock:
            self._stream.feed(bytes(self.output[self._fed :]))
            self._fed = len(self.output)
        return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_for_text(self, text: str, timeout: float = 60.0) -> None:
        """Wait until text is on the emulated screen; the failure shows the screen."""
        try:
            wait_for(lambda: text in self.screen_text(), f"{text!r} on the screen", timeout)
        except WaitTimedOut as error:
            raise WaitTimedOut(f"{error}; the screen:\n{self.screen_text()}") from None

    def send(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def hang_up(self) -> None:
        """What an SSH drop does: the terminal goes away and the process gets SIGHUP."""
        os.close(self.fd)
        self.fd = -1
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGHUP)

    def poll(self) -> int | None:
        if self.returncode is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float) -> int:
        """The exit code, once the program has ended and its last output has been read."""
        wait_for(lambda: self.poll() is not None, f"pid {self.pid} to end", timeout)
        # What it wrote just before ending may still be unread: the reader ends at EIO, once
        # every holder of the terminal is gone (or goes on, if a child of it still holds it).
        self._reader.join(timeout=1)
        assert self.returncode is not None
        return self.returncode

    def close(self) -> None:
        """End the process if it is still there (tests must not leave one behind)."""
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1
