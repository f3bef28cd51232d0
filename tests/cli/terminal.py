"""A dnn-tui process in a pseudo-terminal, as a shell over SSH runs it, for the signal tests."""

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
import time
from collections.abc import Sequence
from pathlib import Path

from .support import cli_command, cli_env


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
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        """Drain the terminal (a program blocks when nobody reads its terminal)."""
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
        with self._lock:
            return bytes(self.output)

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
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"pid {self.pid} still running after {timeout} s")
            time.sleep(0.05)
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
