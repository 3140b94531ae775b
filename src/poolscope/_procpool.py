"""A recorded process pool: ``multiprocessing.pool.Pool`` with timing added at its hooks.

    >>> import multiprocessing, poolscope
    >>> with poolscope.record() as trace:
    ...     with multiprocessing.get_context("fork").Pool(2) as pool:
    ...         squares = pool.map(abs, [-1, -2, 3])
    >>> squares, [t.outcome for t in trace.tasks], trace.workers[0].name.startswith("ForkPool")
    ([1, 2, 3], ['finished', 'finished', 'finished'], True)

The caller's side is the recorded ThreadPool's (``_pool.RecordedPool``: submissions,
waits, callbacks, close/terminate/join are CPython's code with a record added). The
workers are other processes, so they cannot write into the parent's logs:

- the task-handler thread sends each task through ``_quick_put``; the recorded pool
  wraps it to send ``_timed(job, i, func, args, kwds)`` instead, a module-level
  function that the worker process runs in place of ``func``;
- ``_timed`` runs ``func`` exactly as the stdlib worker would (a ``map`` chunk item by
  item, timed like a ThreadPool's chunks), reading ``time.monotonic_ns`` (one clock for the whole
  machine on Linux, macOS and Windows), and sends two small messages on the pool's
  result queue: START when the task starts, DONE with the item times (and the failure,
  if any) when it ends, *before* the stdlib's own result;
- ``_quick_get``, called by the result-handler thread, is wrapped to take those
  messages out (the stdlib's loop gets ``(-1, 0, None)`` instead: a job no cache holds,
  which it ignores) and append them to the worker's :class:`~poolscope._log.WorkerLog`.
  That thread is the only writer of a process pool's WorkerLogs; once ``join()`` has
  seen it end, the joining thread reads the messages left (the workers' EXITED).

Results, exceptions (with their ``RemoteTraceback`` cause), ``MaybeEncodingError`` and
pickling errors are the stdlib's own: nothing is wrapped around them. What differs from
a plain pool: ``type(pool)`` is a generated subclass (``repr`` is the stdlib's), each
task sends two more small messages, the worker's target is ``_recorded_worker`` (it
also sends READY once and EXITED when its loop ends) and the traceback text of a task's
exception (its ``__cause__``) shows poolscope frames (``_timed``, and ``_run_chunk``
instead of ``mapstar``).
``tests/core/test_faithful_procpool.py`` runs one behaviour suite against both.

Limits: a chunk's item times reach the parent when the whole chunk ends (until then
its first item shows as running); a task whose worker process is killed by
``terminate()`` is "killed"; one whose process dies by itself (``os._exit``, a crash)
stays "running". The recording must use the default clock (``time.monotonic_ns``).
"""

from __future__ import annotations

import multiprocessing
import time
from itertools import starmap as _starmap
from multiprocessing import pool as mp_pool
from typing import Any

from . import _log
from ._subclass import Hooks, Subclasses
from ._log import RAISED, PoolLog, describe
from ._pool import _REIMPLEMENTED as _POOL_REIMPLEMENTED
from ._pool import RecordedPool
from ._worker import _run_chunk  # the same timing of chunk items as a ThreadPool's

_mapstar = mp_pool.mapstar
_starmapstar = mp_pool.starmapstar
_reraise = mp_pool._helper_reraises_exception

# Messages a worker process puts on the result queue: ``(None, kind, payload)``. A
# stdlib result is ``(job, i, (ok, value))`` with an int job, or None (a sentinel).
READY, START, DONE, EXITED = range(4)
_IGNORED = (-1, 0, None)  # handed to the result handler instead of a message

# In a worker process of a recorded pool: (its lane, its result queue's put).
_child: tuple[int, Any] | None = None


# -- in the worker process ---------------------------------------------------------
def _send(put, message) -> None:
    try:
        put(message)
    except Exception:  # the parent has gone: the stdlib worker finds out on its own
        pass


def announce(lane: int, put, initializer):
    """In a new worker process: tell the parent which lane this process is (a READY
    message, or the timed initializer's, which says it), and return the initializer to
    run (timed), or None. Shared by the process Pool and the ProcessPoolExecutor."""
    ready = time.monotonic_ns()
    name = multiprocessing.current_process().name
    if initializer is not None:
        return _timed_initializer(lane, name, put, ready, initializer)
    _send(put, (None, READY, (lane, name, ready, None, None, None)))
    return None


def _recorded_worker(lane, inqueue, outqueue, initializer=None, initargs=(), maxtasks=None,
                     wrap_exception=False):
    """The target of a recorded pool's worker process: CPython's ``worker`` loop,
    after noting the lane this process is in the parent's trace."""
    global _child
    put = outqueue.put
    _child = (lane, put)
    initializer = announce(lane, put, initializer)
    mp_pool.worker(inqueue, outqueue, initializer, initargs, maxtasks, wrap_exception)
    _send(put, (None, EXITED, (lane, time.monotonic_ns())))


def _timed_initializer(lane: int, name: str, put, ready: int, initializer):
    def init(*initargs):
        clock = time.monotonic_ns
        t0 = clock()
        try:
            initializer(*initargs)
        except BaseException as e:  # the process dies, as in the stdlib
            _send(put, (None, READY, (lane, name, ready, t0, clock(), describe(e))))
            raise
        _send(put, (None, READY, (lane, name, ready, t0, clock(), None)))

    return init


def _timed(job, i, func, args, kwds):
    """Run one task as the stdlib worker would (``func(*args, **kwds)``), timed.

    Exceptions propagate unchanged, so the worker wraps them exactly as usual.
    """
    child = _child
    if child is None:  # a worker started after the recording ended
        return func(*args, **kwds)
    lane, put = child
    clock = time.monotonic_ns
    chunked = func is _mapstar or func is _starmapstar
    n = len(args[0][1]) if chunked else 1
    _send(put, (None, START, (lane, job, i, n, clock())))
    stamps: list[int] = []
    t0 = clock()  # after sending START: its cost is not the task's
    if n > 1:
        fn, chunk = args[0]
        out: list[Any] = []
        try:  # the very map()/starmap() the stdlib runs: same errors
            items = map(fn, chunk) if func is _mapstar else _starmap(fn, chunk)
            _run_chunk(items, n, out, stamps.extend, clock)
        except Exception as e:
            _send(put, (None, DONE, (lane, t0, stamps, (len(out), describe(e), False))))
            raise
        except BaseException as e:  # SystemExit etc. end the worker process
            _send(put, (None, DONE, (lane, t0, stamps, (len(out), describe(e), True))))
            raise
        _send(put, (None, DONE, (lane, t0, stamps, None)))
        return out
    try:
        result = func(*args, **kwds)
    except Exception as e:
        stamps.append(clock())
        _send(put, (None, DONE, (lane, t0, stamps, (0, describe(e), False))))
        raise
    except BaseException as e:
        stamps.append(clock())
        _send(put, (None, DONE, (lane, t0, stamps, (0, describe(e), True))))
        raise
    stamps.append(clock())
    _send(put, (None, DONE, (lane, t0, stamps, None)))
    return result


# -- in the parent ------------------------------------------------------------------
def _make_put(plog: PoolLog, send):
    """The task handler's ``put``: sends ``_timed`` in place of each task's function."""

    def put(task):
        if task is None or not plog.on:
            return send(task)
        job, i, func, args, kwds = task
        if func is _reraise:  # the input iterable raised: the stdlib's stand-in task,
            t = plog.clock()  # sent as is (its exception is not wrapped by the worker)
            plog.thread_log().add(_log.thread_code(_log.INPUT_ERROR_EVENT, RAISED), job, t, t)
            return send(task)
        try:
            return send((job, i, _timed, (job, i, func, args, kwds), {}))
        except Exception as e:  # e.g. a lambda: the stdlib sets it as the task's result
            plog.unsent.append((job, i, describe(e)))
            raise

    return put


def _make_get(plog: PoolLog, recv):
    """The result handler's ``get``: takes poolscope's messages out of the stream."""
    running: dict[int, tuple[int, int, int]] = {}  # lane -> (record position, job, i)

    def get():
        task = recv()
        if task is None:
            return None
        if task[0] is None:
            if plog.on:
                _receive(plog, running, task[1], task[2])
            return _IGNORED
        if plog.on:
            ok, value = task[2]
            if not ok and type(value) is mp_pool.MaybeEncodingError:
                plog.unreturned.append((task[0], task[1], describe(value)))
        return task

    return get


def _receive(plog: PoolLog, running: dict, kind: int, payload: tuple) -> None:
    if kind == START:
        lane, job, i, n, t = payload
        wlog = plog.workers[lane]
        running[lane] = (len(wlog.records), job, i)
        wlog.records.fromlist([job, i, n, t])
    elif kind == DONE:
        lane, t0, stamps, fail = payload
        start = running.pop(lane, None)
        if start is None:
            return
        pos, job, i = start
        wlog = plog.workers[lane]
        wlog.records[pos + 3] = t0  # the precise start, taken after sending START
        wlog.records.fromlist(stamps)  # the stamps first: see _log's thread-safety note
        if fail is not None:
            wlog.failures.append((job, i, *fail))
    elif kind == READY:
        lane, name, ready, init0, init1, error = payload
        wlog = plog.workers[lane]
        wlog.name, wlog.started = name, ready
        if init0 is not None:
            wlog.init_started, wlog.init_finished, wlog.init_error = init0, init1, error
    elif kind == EXITED:
        lane, t = payload
        plog.workers[lane].exited = t


class RecordedProcessPool:
    """Mixin placed before ``RecordedPool`` and ``Pool`` (or a user's subclass)."""

    _poolscope: PoolLog

    def _setup_queues(self):
        super()._setup_queues()  # type: ignore[misc]
        plog = self._poolscope
        # Plain functions over the connections: they hold no reference to the pool.
        self._quick_put = _make_put(plog, self._quick_put)  # type: ignore[has-type]
        self._quick_get = _make_get(plog, self._quick_get)  # type: ignore[has-type]

    def join(self):
        value = super().join()  # type: ignore[misc]
        # The workers' last messages (EXITED, after close()) arrive once the result
        # handler has stopped reading: the handler thread is gone now (join waited for
        # it), so this thread reads what is left. Bounded, and poll() never blocks.
        reader = getattr(self._outqueue, "_reader", None)  # type: ignore[attr-defined]
        if reader is not None and self._poolscope.on:
            try:
                for _ in range(10_000):
                    if not reader.poll():
                        break
                    self._quick_get()  # type: ignore[has-type]
            except (OSError, EOFError, ValueError):  # a closed connection: nothing left
                pass
        return value


_REIMPLEMENTED = _POOL_REIMPLEMENTED + ("_setup_queues",)  # join is in both

def _give_process(pool: Any, cls: type, plog: PoolLog) -> None:
    """Hand a switched process Pool a ``Process`` whose workers run
    ``_recorded_worker``; like ``_pool``'s, it holds no reference to the pool."""
    base_process = cls._poolscope_base.Process  # type: ignore[attr-defined]

    def Process(ctx, *args, **kwds):  # noqa: N802 (the stdlib's name)
        if plog.on and kwds.get("target") is mp_pool.worker:
            wlog = plog.add_worker("")
            kwds["target"] = _recorded_worker
            kwds["args"] = (wlog.lane, *kwds.get("args", ()))
            process = base_process(ctx, *args, **kwds)
            # The name Pool gives it right after; the worker reports its own in READY.
            wlog.name = process.name.replace("Process", "PoolWorker")
            return process
        return base_process(ctx, *args, **kwds)

    pool.Process = Process


HOOKS = Hooks(Subclasses(mp_pool.Pool, (RecordedProcessPool, RecordedPool), _REIMPLEMENTED,
                         __name__), RecordedProcessPool, _give_process)
