"""The one way a test waits for something: poll a condition until it holds or time runs out.

Tests of threads, processes and the dashboard cannot know when a result arrives, only check
for it. Every such wait goes through here, so each has a deadline (no test hangs the suite)
and, when it runs out, a message that names what never happened instead of a bare
``assert False``. ``wait_for`` sleeps between looks; ``wait_for_async`` awaits a pause
(``pilot.pause`` lets a Textual app process its messages while the test waits).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

Condition = Callable[[], object]
"""A check without arguments; the wait ends when it returns something true."""


class WaitTimedOut(AssertionError):
    """A condition never held within its timeout (an AssertionError: the test fails, not errs)."""


def describe(condition: Condition, what: str | None) -> str:
    """What the wait was for: the caller's words, else the condition's source line."""
    if what:
        return what
    try:
        return inspect.getsource(condition).strip()  # type: ignore[arg-type]
    except (OSError, TypeError):
        return repr(condition)


def _timed_out(condition: Condition, what: str | None, timeout: float) -> WaitTimedOut:
    return WaitTimedOut(f"timed out after {timeout:g} s waiting for {describe(condition, what)}")


def wait_for(
    condition: Condition, what: str | None = None, timeout: float = 120.0, interval: float = 0.05
) -> None:
    """Sleep in steps of interval until condition() is true; fail after timeout seconds.

    The default deadline is long: it only keeps a broken test from hanging the suite, and a
    busy 2-core machine may take a minute to start a process that trains.

    The condition may itself raise (an ``assert`` that a process is still alive): that ends
    the wait at once with its own message.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise _timed_out(condition, what, timeout)
        time.sleep(interval)


async def wait_for_async(
    condition: Condition,
    what: str | None = None,
    timeout: float = 20.0,
    interval: float = 0.05,
    pause: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """``wait_for`` inside an event loop: await pause(interval) between looks, so the loop
    (a Textual app under a Pilot) goes on while the test waits."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise _timed_out(condition, what, timeout)
        await pause(interval)
