"""Fixtures shared by every test: nothing may outlive a test.

Like pyinstrument's autouse check that no profiler is left running, and CPython's
``threading_cleanup``: a test that leaves a pool's threads or a recording behind fails.
"""

from __future__ import annotations

import threading
import time

import pytest

from poolscope.recording import active_recordings

# Threads a ThreadPool starts: workers and its three handler threads.
_POOL_THREAD_SUFFIXES = ("(worker)", "(_handle_workers)", "(_handle_tasks)", "(_handle_results)")


def pool_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.endswith(_POOL_THREAD_SUFFIXES)]


@pytest.fixture(autouse=True)
def no_leaks():
    before = set(pool_threads())
    yield
    assert active_recordings() == 0, "a recording was left running (use `with record()`)"
    # terminate() does not join worker threads (they cannot be killed, only told to
    # stop), so give the ones that got their sentinel a moment to finish.
    deadline = time.monotonic() + 5
    while (left := set(pool_threads()) - before) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not left, f"pool threads outlived the test: {sorted(t.name for t in left)}"
