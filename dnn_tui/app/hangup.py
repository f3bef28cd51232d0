"""What the dashboard does when its process is told to end or its terminal goes away.

- SIGTERM (``kill``, a session manager): like ctrl+q without asking: the dashboard's own
  run stops after its current step and saves its files, the terminal is restored (the
  alternate screen left, the cursor and mouse given back) and the process exits.
- SIGHUP (an SSH connection dropped, ``tmux kill-session``): the terminal is gone, so the
  screen goes, and nothing is written to the dead terminal any more (its descriptors are
  pointed at /dev/null), but the run goes on in this process to its end, saving everything
  as usual; then the process exits. Watchers (``dnn-tui watch``) still see it live.
- SIGSTOP then SIGCONT (``kill -STOP``, a batch scheduler suspending a job, a debugger):
  the process simply goes on where it stopped. Textual restarts its terminal mode on every
  SIGCONT, which is right only after ctrl+z (SIGTSTP), when it gave the terminal up; after
  a plain SIGSTOP each SIGCONT started another input thread and output thread (four more
  threads a time, two of them reading the keyboard), so it is passed on only then.

The handlers run in the event loop (``loop.add_signal_handler``), so they may touch the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dnn_tui.app.app import DnnApp


def install(app: DnnApp) -> None:
    """Handle SIGTERM, SIGHUP and SIGCONT as the module docstring says (main thread only)."""
    try:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, app.exit)
        loop.add_signal_handler(signal.SIGHUP, lambda: hang_up(app))
        resume_only_after_suspend()
    except (RuntimeError, ValueError, NotImplementedError, AttributeError):
        pass  # not the main thread (tests run the app elsewhere), or no POSIX signals


def resume_only_after_suspend() -> None:
    """Pass SIGCONT on to the terminal driver's handler only when a SIGTSTP came before it."""
    on_suspend = signal.getsignal(signal.SIGTSTP)
    on_resume = signal.getsignal(signal.SIGCONT)
    if not callable(on_suspend) or not callable(on_resume):
        return  # no driver handlers (a headless test driver)
    suspended = False

    def suspend(signum, frame) -> None:
        nonlocal suspended
        suspended = True
        on_suspend(signum, frame)

    def resume(signum, frame) -> None:
        nonlocal suspended
        if suspended:
            suspended = False
            on_resume(signum, frame)

    signal.signal(signal.SIGTSTP, suspend)
    signal.signal(signal.SIGCONT, resume)


EXIT_GRACE_S = 5.0
"""Seconds the app's own shutdown gets, once no run of this process goes on, after a hang-up."""


def hang_up(app: DnnApp) -> None:
    """The terminal is gone: go quiet and let the run finish unseen, then end the process."""
    app.detached = True
    silence_terminal()
    threading.Thread(target=exit_when_done, args=(app,), name="hangup-exit", daemon=True).start()
    app.exit()


def exit_when_done(app: DnnApp, grace_s: float = EXIT_GRACE_S) -> None:
    """End the process once the dashboard's own run (if any) has finished and saved, and the
    app's shutdown had ``grace_s`` to end it first. Textual's shutdown can wait forever on
    its output thread when that thread died writing to the terminal that went away (EIO),
    which would leave a watching dashboard behind every dropped SSH session."""
    while app.running and app.local:  # its files are complete when its worker ends
        time.sleep(0.2)
    time.sleep(grace_s)
    os._exit(0)


def silence_terminal() -> None:
    """Point stdin, stdout and stderr at /dev/null: writes to a hung-up terminal fail."""
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        for stream in (sys.stdin, sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                os.dup2(devnull, stream.fileno())
    finally:
        os.close(devnull)
