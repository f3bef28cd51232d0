"""``dnn-tui tui`` in a real pseudo-terminal: what the terminal keeps after the dashboard quits.

The program runs in a pty whose screen is kept by a terminal emulator (pyte), as a user's
terminal keeps it: the dashboard draws on the alternate screen and, once it quits, the
summary of the session's runs must be left on the normal screen (the scrollback). pyte
has no alternate screen, so there the summary is written over the dashboard's last frame:
the tests look for its lines, not for a clean screen.
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
from pathlib import Path

import pyte

from .support import cli_command, cli_env, read_history


class Pty:
    """argv in a pseudo-terminal of cols x rows, its output fed to an emulated screen."""

    def __init__(self, argv: list[str], cwd: Path, cols: int = 120, rows: int = 40) -> None:
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        env = dict(cli_env(), TERM="xterm-256color")
        pid, fd = pty.fork()
        if pid == 0:  # the child: size its terminal, then become the program
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.chdir(cwd)
            os.execvpe(argv[0], argv, env)
        self.pid, self.fd = pid, fd
        self.status: int | None = None

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def pump(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                return
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # the program has ended
                return
            if not data:
                return
            self.stream.feed(data)

    def wait_for(self, text: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.text():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never showed; the screen:\n{self.text()}")
            self.pump(0.1)

    def wait_exit(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump(0.1)
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.pump(0.2)
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
        raise AssertionError(f"the program did not end; the screen:\n{self.text()}")

    def close(self) -> None:
        if self.status is None:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        os.close(self.fd)


def only_run(root: Path) -> Path:
    (run_dir,) = root.glob("*/history.json")
    return run_dir.parent


def test_quitting_leaves_the_runs_summary_in_the_terminal(tmp_path: Path) -> None:
    argv = cli_command(
        "tui", "--dataset", "digits", "--limit", 300, "--hidden", "16", "--epochs", 2, "--start"
    )
    term = Pty(argv, tmp_path)
    try:
        term.wait_for("finished")
        os.write(term.fd, b"\x11")  # ctrl+q
        assert term.wait_exit() == 0
    finally:
        term.close()
    run_dir = only_run(tmp_path / "runs")
    history = read_history(run_dir)
    best = history["epochs"][history["best_epoch"] - 1]
    screen = term.text()
    assert f"run custom: runs/{run_dir.name}" in screen  # no preset holds a 16-unit layer
    assert "status: completed after 2 epochs" in screen
    assert (
        f"best epoch: {history['best_epoch']} (val loss {best['val_loss']:.4f}, "
        f"val acc {best['val_acc']:.4f})" in screen
    )
    assert f"test accuracy: {history['test']['acc']:.4f}" in screen


def test_quitting_during_a_run_stops_it_and_says_so(tmp_path: Path) -> None:
    argv = cli_command("tui", "--dataset", "digits", "--hidden", "16", "--epochs", 100000)
    term = Pty([*argv, "--start"], tmp_path, cols=80, rows=24)
    try:
        term.wait_for("step ")
        term.wait_for("best epoch")  # the line under the table: an epoch has ended
        os.write(term.fd, b"\x11")
        term.wait_for("Quit?")  # during a run it asks first; ctrl+q again quits
        os.write(term.fd, b"\x11")
        assert term.wait_exit() == 0
    finally:
        term.close()
    run_dir = only_run(tmp_path / "runs")
    history = read_history(run_dir)
    assert history["status"] == "stopped"
    screen = term.text()
    assert f"runs/{run_dir.name}" in screen
    assert f"status: stopped after {len(history['epochs'])} epoch" in screen
    assert "test accuracy:" in screen
