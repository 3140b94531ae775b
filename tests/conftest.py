"""Fixtures shared by every test: nothing may outlive a test.

Like pyinstrument's autouse check that no profiler is left running, and CPython's
``threading_cleanup`` and ``reap_children``: a test that leaves a pool's threads, a
ThreadPoolExecutor's threads, a worker process or a recording behind fails.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import thread as _executor_threads

import pytest

from poolscope.recording import active_recordings

# Threads a ThreadPool (or a process Pool) starts: workers and its three handler threads.
_POOL_THREAD_SUFFIXES = ("(worker)", "(_handle_workers)", "(_handle_tasks)", "(_handle_results)")


def pool_threads() -> list[threading.Thread]:
    """Pool threads, and the live threads of every ThreadPoolExecutor (the stdlib keeps
    them in ``_threads_queues`` until they are collected, whatever their name)."""
    # asyncio's default executor (threads "asyncio_N") belongs to an event loop that
    # outlives tests by design (Playwright's, in the browser tests): not a leak.
    executors = [t for t in list(_executor_threads._threads_queues)
                 if t.is_alive() and not t.name.startswith("asyncio_")]
    return [t for t in threading.enumerate() if t.name.endswith(_POOL_THREAD_SUFFIXES)] + executors


@pytest.fixture(autouse=True)
def no_leaks():
    before = set(pool_threads())
    children = set(multiprocessing.active_children())
    yield
    assert active_recordings() == 0, "a recording was left running (use `with record()`)"
    # terminate() does not join worker threads (they cannot be killed, only told to
    # stop), so give the ones that got their sentinel a moment to finish; the same for
    # worker processes that are exiting.
    deadline = time.monotonic() + 5
    while True:
        left = set(pool_threads()) - before
        alive = set(multiprocessing.active_children()) - children
        if not (left or alive) or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert not left, f"pool threads outlived the test: {sorted(t.name for t in left)}"
    assert not alive, f"child processes outlived the test: {sorted(p.name for p in alive)}"
