"""A recorded ThreadPool: the stdlib class with timing added at its own hooks.

What differs from a plain ``multiprocessing.pool.ThreadPool`` (and nothing else):
- ``type(pool)`` is a generated subclass (``isinstance(pool, ThreadPool)`` holds and
  ``repr(pool)`` is the stdlib's), and results are subclasses of the stdlib's
  ``ApplyResult``/``MapResult``/``IMapIterator``/``IMapUnorderedIterator``;
- tracebacks of task, callback and ``get()`` exceptions show one poolscope frame more.
Results and their order, the exception objects, ``multiprocessing.TimeoutError``,
callbacks and their thread, thread names, close/terminate/join and ``with`` all behave
as in the stdlib: ``tests/core/test_faithful.py`` runs one behaviour suite against both.

How: workers run CPython's ``worker`` loop with a clock read around each task
(``_worker.py``); results time their waits (``_results.py``). The caller-side methods
here are CPython's own
(3.11-3.13 are identical here) with a record appended before each task is queued, so a
worker never meets a job the caller has not logged.
"""

from __future__ import annotations

from multiprocessing import pool as mp_pool
from typing import Any

from . import _log
from ._subclass import Hooks, Subclasses
from ._log import OK, RAISED, PoolLog
from ._results import (
    RecordedApplyResult,
    RecordedIMapIterator,
    RecordedIMapUnorderedIterator,
    RecordedMapResult,
    _timed_callback,
    plain_get,
)
from ._worker import make_worker

_mapstar = mp_pool.mapstar
_starmapstar = mp_pool.starmapstar


def _counted(iterable, entry: list[int | None]):
    """Yield from ``iterable`` (in the pool's task-handler thread, which pulls it) and
    store how many items were pulled in ``entry[0]`` once it ends or is dropped.
    An exception from the iterable passes through unchanged."""
    n = 0
    try:
        for n, x in enumerate(iterable, 1):  # noqa: B007 (n is read in finally)
            yield x
    finally:
        entry[0] = n


class RecordedPool:
    """Mixin placed before ``ThreadPool`` (or a user's subclass of it) in the MRO.

    The instance gets ``_poolscope`` (its :class:`PoolLog`) before ``__init__``.
    """

    _poolscope: PoolLog
    _poolscope_base: type

    def __repr__(self):
        # The stdlib's repr (it appears in ResourceWarning), naming the user's class.
        cls = self._poolscope_base
        return (f"<{cls.__module__}.{cls.__qualname__} state={self._state} "  # type: ignore[attr-defined]
                f"pool_size={len(self._pool)}>")  # type: ignore[attr-defined]

    # -- submitting ---------------------------------------------------------------
    def _submitted(self, code: int, result, t0: int) -> int:
        result._poolscope = self._poolscope
        return self._poolscope.thread_log().add(
            code, result._job, t0, -1 if code in _log.BLOCKING else t0)

    def _wrap(self, code: int, job: int, fn):
        return None if fn is None else _timed_callback(self._poolscope, code, job, fn)

    def _apply_async(self, code, func, args, kwds, callback, error_callback):
        """CPython's apply_async, logging the submission before the task is queued.
        Returns the result and the position of its record (apply() completes it)."""
        plog = self._poolscope
        t0 = plog.clock()
        self._check_running()  # type: ignore[attr-defined]
        result = RecordedApplyResult(self, callback, error_callback)
        job = result._job
        if callback is not None or error_callback is not None:
            result._callback = self._wrap(_log.CALLBACK, job, callback)
            result._error_callback = self._wrap(_log.ERROR_CALLBACK, job, error_callback)
        pos = self._submitted(code, result, t0)
        self._taskqueue.put(([(job, 0, func, args, kwds)], None))  # type: ignore[attr-defined]
        return result, pos

    def _map_async_as(self, code, func, iterable, mapper, chunksize=None, callback=None,
                      error_callback=None):
        t0 = self._poolscope.clock()
        self._check_running()  # type: ignore[attr-defined]
        if not hasattr(iterable, "__len__"):
            iterable = list(iterable)
        if chunksize is None:
            chunksize, extra = divmod(len(iterable), len(self._pool) * 4)  # type: ignore[attr-defined]
            if extra:
                chunksize += 1
        if len(iterable) == 0:
            chunksize = 0
        task_batches = mp_pool.Pool._get_tasks(func, iterable, chunksize)
        result = RecordedMapResult(self, chunksize, len(iterable), None, None)
        result._callback = self._wrap(_log.CALLBACK, result._job, callback)
        result._error_callback = self._wrap(_log.ERROR_CALLBACK, result._job, error_callback)
        self._poolscope.calls[result._job] = [len(iterable), chunksize]
        pos = self._submitted(code, result, t0)
        self._taskqueue.put(  # type: ignore[attr-defined]
            (self._guarded_task_generation(result._job, mapper, task_batches), None))  # type: ignore[attr-defined]
        return result, pos

    def _imap_as(self, code, cls, func, iterable, chunksize):
        t0 = self._poolscope.clock()
        self._check_running()  # type: ignore[attr-defined]
        if chunksize != 1 and chunksize < 1:
            fmt = "{0:n}" if code == _log.IMAP else "{0!r}"  # the stdlib's two messages
            raise ValueError(("Chunksize must be 1+, not " + fmt).format(chunksize))
        entry: list[int | None] = [None, chunksize]
        iterable = _counted(iterable, entry)
        if chunksize != 1:
            func, iterable = _mapstar, mp_pool.Pool._get_tasks(func, iterable, chunksize)
        result = cls(self)
        self._poolscope.calls[result._job] = entry
        self._submitted(code, result, t0)
        self._taskqueue.put(  # type: ignore[attr-defined]
            (self._guarded_task_generation(result._job, func, iterable),  # type: ignore[attr-defined]
             result._set_length))
        if chunksize == 1:
            return result
        return (item for chunk in result for item in chunk)

    def _blocking(self, submitted):
        result, pos = submitted
        log = self._poolscope.thread_log()
        status = RAISED
        try:
            value = plain_get(result)
            status = OK
            return value
        finally:
            log.end(pos, status)

    # -- the public API: CPython's bodies, with the call named ------------------------
    def apply(self, func, args=(), kwds={}):
        if not self._poolscope.on:
            return super().apply(func, args, kwds)  # type: ignore[misc]
        return self._blocking(self._apply_async(_log.APPLY, func, args, kwds, None, None))

    def apply_async(self, func, args=(), kwds={}, callback=None, error_callback=None):
        if not self._poolscope.on:
            return super().apply_async(func, args, kwds, callback, error_callback)  # type: ignore[misc]
        return self._apply_async(_log.APPLY_ASYNC, func, args, kwds, callback, error_callback)[0]

    def map(self, func, iterable, chunksize=None):
        if not self._poolscope.on:
            return super().map(func, iterable, chunksize)  # type: ignore[misc]
        return self._blocking(self._map_async_as(_log.MAP, func, iterable, _mapstar, chunksize))

    def starmap(self, func, iterable, chunksize=None):
        if not self._poolscope.on:
            return super().starmap(func, iterable, chunksize)  # type: ignore[misc]
        return self._blocking(
            self._map_async_as(_log.STARMAP, func, iterable, _starmapstar, chunksize))

    def map_async(self, func, iterable, chunksize=None, callback=None, error_callback=None):
        return self._map_async(func, iterable, _mapstar, chunksize, callback, error_callback)

    def starmap_async(self, func, iterable, chunksize=None, callback=None,
                      error_callback=None):
        return self._map_async(func, iterable, _starmapstar, chunksize, callback,
                               error_callback)

    def _map_async(self, func, iterable, mapper, chunksize=None, callback=None,
                   error_callback=None):
        if not self._poolscope.on:
            return super()._map_async(  # type: ignore[misc]
                func, iterable, mapper, chunksize, callback, error_callback)
        code = _log.MAP_ASYNC if mapper is _mapstar else _log.STARMAP_ASYNC
        return self._map_async_as(code, func, iterable, mapper, chunksize, callback,
                                  error_callback)[0]

    def imap(self, func, iterable, chunksize=1):
        if not self._poolscope.on:
            return super().imap(func, iterable, chunksize)  # type: ignore[misc]
        return self._imap_as(_log.IMAP, RecordedIMapIterator, func, iterable, chunksize)

    def imap_unordered(self, func, iterable, chunksize=1):
        if not self._poolscope.on:
            return super().imap_unordered(func, iterable, chunksize)  # type: ignore[misc]
        return self._imap_as(_log.IMAP_UNORDERED, RecordedIMapUnorderedIterator, func,
                             iterable, chunksize)

    # -- life-cycle -----------------------------------------------------------------
    def _event(self, code, method, *args):
        if not self._poolscope.on:
            return method(*args)
        log = self._poolscope.thread_log()
        pos = log.begin(code, -1)
        status = RAISED
        try:
            value = method(*args)
            status = OK
            return value
        finally:
            log.end(pos, status)

    def close(self):
        return self._event(_log.CLOSE, super().close)

    def terminate(self):
        return self._event(_log.TERMINATE, super().terminate)

    def join(self):
        return self._event(_log.JOIN, super().join)

    def __exit__(self, exc_type, exc_val, exc_tb):
        # The stdlib's __exit__ calls terminate(): logged as "exit" around "terminate".
        return self._event(_log.EXIT, super().__exit__, exc_type, exc_val, exc_tb)


# The methods RecordedPool reimplements: a subclass that overrides one of them is not
# recorded (recording it would bypass the override).
_REIMPLEMENTED = ("Process", "apply", "apply_async", "map", "map_async", "starmap",
                  "starmap_async", "_map_async", "imap", "imap_unordered", "close",
                  "terminate", "join", "__exit__")

def _give_process(pool: Any, cls: type, plog: PoolLog) -> None:
    """Hand a switched ThreadPool a ``Process`` whose workers run the timed loop.

    Pool.__init__ hands self.Process to its worker-handler thread. A bound method
    would keep the pool alive (no ResourceWarning, no collection), so, like the
    stdlib's staticmethod, this callable holds no reference to the pool.
    """
    base_process = cls._poolscope_base.Process  # type: ignore[attr-defined]

    def Process(ctx, *args, **kwds):  # noqa: N802 (the stdlib's name)
        if kwds.get("target") is mp_pool.worker:
            kwds["target"] = make_worker(plog)
        return base_process(ctx, *args, **kwds)

    pool.Process = Process


HOOKS = Hooks(Subclasses(mp_pool.ThreadPool, (RecordedPool,), _REIMPLEMENTED, __name__),
              RecordedPool, _give_process)
