"""What ``16-Beyond-Threads.ipynb`` runs: the same waits on threads and on one event loop.

Each call below is a wait, in two forms: blocking (for threads: :func:`wait`,
:func:`lookup`, :func:`fetch`) and as a coroutine (for asyncio: :func:`wait_async`,
:func:`fetch_async`). Every call is logged while a :func:`watch` block is open, with the
thread that made it, so a cell can count how many were in progress at once and where
they ran: counts that a busy machine cannot change, unlike seconds.

    >>> import asyncio
    >>> async def three():
    ...     return await asyncio.gather(*(wait_async(0.05) for _ in range(3)))
    >>> with watch() as calls:
    ...     outcome = run_in_new_loop(three)
    >>> outcome.result, len(calls), calls.most_at_once(), calls.threads()
    ([0.05, 0.05, 0.05], 3, 3, 1)

:func:`run_in_new_loop` runs a coroutine in an event loop of its own, in a thread of its
own: in Jupyter the kernel's loop is already running in the main thread, and
``asyncio.run()`` refuses to start a second loop there.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..summary import most_at_once

__all__ = ["Call", "Calls", "Outcome", "fetch", "fetch_async", "lookup", "run_in_new_loop",
           "wait", "wait_async", "watch"]

LOOKUP_SECONDS = 0.2  # how long lookup() blocks, like a slow library call
TIMEOUT = 10.0  # seconds a fetch may take before it gives up: nothing waits forever


@dataclass(frozen=True)
class Call:
    """One logged call: what was called (``name``, ``arg``), in which thread, and when
    (``time.monotonic()`` seconds); ``ok`` is False if it raised."""

    name: str
    arg: Any
    thread: int
    thread_name: str
    start: float
    end: float
    ok: bool


class Calls(list):
    """The calls a :func:`watch` block logged, in the order they ended."""

    def named(self, name: str | None) -> list[Call]:
        return [c for c in self if name is None or c.name == name]

    def most_at_once(self, name: str | None = None) -> int:
        """The most calls (named ``name``, or all) in progress at the same moment.

        >>> Calls([Call("w", 0, 1, "t", 0.0, 2.0, True), Call("w", 1, 1, "t", 1.0, 3.0, True),
        ...        Call("w", 2, 1, "t", 3.0, 4.0, True)]).most_at_once()
        2
        """
        return most_at_once((c.start, c.end) for c in self.named(name))

    def overlapped(self, name: str | None = None) -> bool:
        """Whether every call started before the first one ended: all of them waited at
        the same time (False when there are none)."""
        calls = self.named(name)
        return bool(calls) and max(c.start for c in calls) < min(c.end for c in calls)

    def threads(self, name: str | None = None) -> int:
        """How many different threads made the calls."""
        return len({c.thread for c in self.named(name)})


# The open watch() blocks: each gets every call logged while it is open, from any thread.
# The lock guards the list; a call appends to each block's Calls (list.append is atomic).
_watchers: list[Calls] = []
_lock = threading.Lock()


@contextlib.contextmanager
def watch() -> Iterator[Calls]:
    """Log the calls of this module made while the block is open, from any thread.

    >>> with watch() as calls:
    ...     _ = wait(0)
    >>> [(c.name, c.arg, c.ok) for c in calls]
    [('wait', 0, True)]
    """
    calls = Calls()
    with _lock:
        _watchers.append(calls)
    try:
        yield calls
    finally:
        with _lock:  # by identity: two Calls with the same calls are equal lists
            _watchers[:] = [w for w in _watchers if w is not calls]


@contextlib.contextmanager
def _logged(name: str, arg: Any) -> Iterator[None]:
    """Log the call around the block (in a coroutine: the time until it returned)."""
    thread = threading.current_thread()
    start, ok = time.monotonic(), False
    try:
        yield
        ok = True
    finally:
        call = Call(name, arg, thread.ident or 0, thread.name, start, time.monotonic(), ok)
        with _lock:
            for calls in _watchers:
                calls.append(call)


# -- waits ---------------------------------------------------------------------------

def wait(seconds: float) -> float:
    """Block for ``seconds`` (``time.sleep``), like a call that waits; return ``seconds``."""
    with _logged("wait", seconds):
        time.sleep(seconds)
    return seconds


async def wait_async(seconds: float) -> float:
    """Wait ``seconds`` without blocking the event loop (``asyncio.sleep``): while it
    waits, the loop runs other coroutines. Returns ``seconds``."""
    with _logged("wait_async", seconds):
        await asyncio.sleep(seconds)
    return seconds


def lookup(name: str) -> str:
    """A blocking library call: it waits 0.2 s, then returns ``name`` in capitals.

    >>> lookup("ada")
    'ADA'
    """
    if not isinstance(name, str):
        raise TypeError(f"lookup() takes a name (a str), not {type(name).__name__}")
    with _logged("lookup", name):
        time.sleep(LOOKUP_SECONDS)
    return name.upper()


# -- pages of the tutorial's server (poolscope.tutorial.server) ------------------------

def _address(url: str) -> tuple[str, int, str]:
    """``(host, port, path)`` of an ``http://HOST:PORT/PATH`` address."""
    if not isinstance(url, str):
        raise TypeError(f"url should be a str like 'http://127.0.0.1:8000/page/1', "
                        f"not {type(url).__name__}")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or parts.port is None:
        raise ValueError(f"url should look like 'http://127.0.0.1:8000/page/1'; got {url!r}")
    return parts.hostname, parts.port, parts.path or "/"


def fetch(url: str, timeout: float = TIMEOUT) -> bytes:
    """Download ``url`` with ``urllib`` (blocking) and return the page's bytes; an error
    status raises ``urllib.error.HTTPError``."""
    _address(url)
    with _logged("fetch", url):
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read()


async def fetch_async(url: str, timeout: float = TIMEOUT) -> bytes:
    """Download ``url`` on the running event loop (asyncio streams, plain HTTP/1.0) and
    return the page's bytes; an error status raises ``urllib.error.HTTPError``, as
    :func:`fetch` does.

    While it waits for the server, the loop runs other coroutines. (With a numeric host,
    such as the tutorial server's 127.0.0.1, asyncio connects without a lookup; a name
    such as ``localhost`` is resolved by ``getaddrinfo`` in the loop's default executor,
    a thread pool.)
    """
    host, port, path = _address(url)
    with _logged("fetch_async", url):
        return await asyncio.wait_for(_get(url, host, port, path), timeout)


async def _get(url: str, host: str, port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode("ascii"))
        await writer.drain()
        reply = await reader.read()  # HTTP/1.0: the server closes after its reply
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    head, _, body = reply.partition(b"\r\n\r\n")
    words = head.split(None, 2)  # b"HTTP/1.0", b"200", b"OK"
    status = int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
    if status != 200:
        raise urllib.error.HTTPError(url, status, "the server answered with an error",
                                     None, None)  # type: ignore[arg-type]
    return body


# -- running a coroutine apart ---------------------------------------------------------

@dataclass
class Outcome:
    """What :func:`run_in_new_loop` saw: the ``result`` or the ``error`` raised;
    ``finished`` is False if the code was still running at the timeout; ``loop_thread``
    is the ident of the thread that ran the loop."""

    result: Any = None
    error: BaseException | None = None
    finished: bool = False
    loop_thread: int | None = None
    # What the loop would have logged ("Task exception was never retrieved", ...): kept
    # here rather than printed, since the caller reports on the run itself.
    unhandled: list[dict[str, Any]] = field(default_factory=list)


def run_in_new_loop(make: Callable[[], Any], timeout: float = 30.0) -> Outcome:
    """Call ``make()`` in a new event loop, in a thread of its own, and await what it
    returns if that is awaitable; wait at most ``timeout`` seconds. Never raises.

    A check uses it to run a learner's coroutine for real, while the kernel's own loop
    is running in the main thread. ``asyncio.run`` shuts the loop's default executor down
    at the end, so no thread of it outlives the run.

    >>> run_in_new_loop(lambda: wait_async(0)).result
    0
    >>> run_in_new_loop(lambda: lookup(42)).error
    TypeError('lookup() takes a name (a str), not int')
    """
    outcome = Outcome()

    async def main() -> Any:
        outcome.loop_thread = threading.get_ident()
        asyncio.get_running_loop().set_exception_handler(
            lambda loop, context: outcome.unhandled.append(context))
        value = make()
        return await value if inspect.isawaitable(value) else value

    def target() -> None:
        try:
            outcome.result = asyncio.run(main())
        except BaseException as exc:  # the learner's code may raise anything
            outcome.error = exc

    thread = threading.Thread(target=target, name="poolscope-new-loop", daemon=True)
    thread.start()
    thread.join(timeout)
    outcome.finished = not thread.is_alive()
    return outcome
