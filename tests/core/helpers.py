"""Scaffolding shared by the tests in tests/core: the plain-or-recorded factory behind
the behaviour suites, polling, the chunking model of failures and a few small builders.

Imported like ``invariants`` (``from helpers import ...``): pytest puts this folder on
``sys.path``. Task functions that worker processes must unpickle live in
``proc_tasks.py`` instead, which spawned children import without this module.
"""

from __future__ import annotations

import time
from collections import Counter
from contextlib import contextmanager

import pytest
from invariants import check_invariants
from proc_tasks import slow_square

import poolscope
from poolscope import trace as T


@contextmanager
def plain_or_recorded(mode, construct, recorded_type, kind, close, every_pool=True):
    """A factory for the behaviour suites: ``make(*args, **kwargs)`` calls ``construct``
    and checks it is a ``recorded_type`` exactly when ``mode`` is ``"recorded"``.

    Recorded: everything runs inside ``poolscope.record()``; afterwards the trace must
    be consistent, hold only pools of ``kind`` and (with ``every_pool``, when the test
    makes every pool through ``make``) exactly the pools made. Either way, every pool
    made is closed with ``close`` at the end.
    """
    assert mode in ("plain", "recorded"), mode
    made = []

    def make(*args, **kwargs):
        pool = construct(*args, **kwargs)
        made.append(pool)
        assert isinstance(pool, recorded_type) == (mode == "recorded")
        return pool

    try:
        if mode == "plain":
            yield make
        else:
            with poolscope.record() as trace:
                yield make
            check_invariants(trace)
            assert {p.kind for p in trace.pools} <= {kind}
            if every_pool:
                assert len(trace.pools) == len(made)
    finally:
        for pool in made:
            close(pool)


def terminate(pool):
    """Stop a ``multiprocessing.pool`` pool (thread or process) and wait for it."""
    pool.terminate()
    pool.join()


def wait_until(predicate, timeout=10.0):
    """Poll until ``predicate()`` holds (never hangs: fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.002)


def kinds(trace, **match):
    """The kinds of the trace's events whose attributes equal ``match``, in order."""
    return [e.kind for e in trace.events
            if all(getattr(e, k) == v for k, v in match.items())]


def broken_input(*values):
    """An input iterable that yields ``values``, then raises RuntimeError."""
    yield from values
    raise RuntimeError("input broke")


def chunk_outcomes(n, chunksize):
    """Outcomes of ``proc_tasks.fail_every_hundredth`` over ``range(n)`` in chunks of
    ``chunksize``, worked out from the chunking rules alone: a failure skips the rest of
    its chunk."""
    counts = Counter()
    for start in range(0, n, chunksize):
        chunk = range(start, min(start + chunksize, n))
        bad = next((x for x in chunk if x % 100 == 0), None)
        if bad is None:
            counts[T.FINISHED] += len(chunk)
        else:
            counts[T.FINISHED] += bad - start
            counts[T.FAILED] += 1
            counts[T.NEVER_STARTED] += chunk.stop - bad - 1
    return counts


# The tasks call_every_method makes, by call: every submit method of a pool.
EVERY_METHOD_COUNTS = {"apply": 1, "apply_async": 1, "map": 7, "map_async": 5, "imap": 9,
                       "imap_unordered": 3, "starmap": 3, "starmap_async": 2}


def call_every_method(pool):
    """Use every submit method of ``pool`` once (twice for imap), waiting for each."""
    pool.apply(abs, (-1,))
    pool.apply_async(abs, (-1,)).get()
    pool.map(abs, range(7))
    pool.map_async(abs, range(5), chunksize=2).get()
    list(pool.imap(abs, range(4)))
    list(pool.imap(abs, range(5), chunksize=2))
    list(pool.imap_unordered(abs, range(3)))
    pool.starmap(pow, [(2, 1)] * 3)
    pool.starmap_async(pow, [(2, 1)] * 2).get()


def raising_task(raised):
    """A task that raises a new KeyError each time, noting it in ``raised`` first (to
    check that the very same exception object comes back)."""
    def task():
        exc = KeyError("k")
        raised.append(exc)
        raise exc

    return task


def patched_only_while_recording(cls):
    """``cls.__init__`` is replaced inside a recording and restored after it."""
    init = cls.__init__
    with poolscope.record():
        assert cls.__init__ is not init
    assert cls.__init__ is init


def check_close_stops_submissions(pool):
    """A running ``pool`` (thread or process Pool) refuses ``join()`` before ``close()``
    and every submission after it; ``join()`` then waits for what was submitted before."""
    with pytest.raises(ValueError, match="Pool is still running"):
        pool.join()
    result = pool.apply_async(slow_square, (2,))
    pool.close()
    with pytest.raises(ValueError, match="Pool not running"):
        pool.apply_async(abs, (1,))
    with pytest.raises(ValueError, match="Pool not running"):
        pool.map(abs, [1])
    pool.join()
    assert result.get(0) == 4
