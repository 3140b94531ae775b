"""Result objects of a recorded pool: the stdlib's, with timed waits and callbacks.

``get``/``wait``/``next`` log when the caller waited and how it ended; callbacks are
wrapped so their run in the result-handler thread is logged.

    >>> issubclass(RecordedApplyResult, mp_pool.ApplyResult)
    True
"""

from __future__ import annotations

import threading
from multiprocessing import TimeoutError as PoolTimeoutError
from multiprocessing import pool as mp_pool

from . import _log
from ._log import OK, RAISED, STOP, TIMEOUT, PoolLog


def _timed_callback(plog: PoolLog, code: int, job: int, fn):
    """Wrap a callback so its run (in the result-handler thread) is logged."""

    def callback(value):
        if not plog.on:
            return fn(value)
        log = plog.thread_log()
        pos = log.begin(code, job)
        try:
            fn(value)
        except BaseException:
            log.end(pos, RAISED)
            raise  # kills the result handler, exactly as in the stdlib
        log.end(pos, OK)

    return callback


class _TimedResult:
    """``get``/``wait`` that log when the caller waited, and how it ended."""

    _poolscope: PoolLog
    _job: int
    _event: threading.Event

    def wait(self, timeout=None):
        plog = self._poolscope
        if not plog.on:
            return super().wait(timeout)  # type: ignore[misc]
        log = plog.thread_log()
        pos = log.begin(_log.WAIT, self._job)
        status = RAISED
        try:
            self._event.wait(timeout)
            status = OK if self._event.is_set() else TIMEOUT
        finally:
            log.end(pos, status)

    def get(self, timeout=None):
        plog = self._poolscope
        if not plog.on:
            return super().get(timeout)  # type: ignore[misc]
        clock = plog.clock
        t0 = clock()
        if self._event.is_set():  # the common case: one clock read, one record
            plog.thread_log().records.fromlist(
                [_log.GET | ((OK if self._success else RAISED) << 8), self._job, t0, t0])
            if self._success:
                return self._value
            raise self._value
        log = plog.thread_log()
        pos = log.add(_log.GET, self._job, t0)
        status = RAISED
        try:
            value = plain_get(self, timeout)
            status = OK
            return value
        except PoolTimeoutError:
            status = TIMEOUT
            raise
        finally:
            log.end(pos, status)


def plain_get(result, timeout=None):
    """The body of ``ApplyResult.get`` without logging (for apply/map's own wait)."""
    result._event.wait(timeout)
    if not result._event.is_set():
        raise PoolTimeoutError
    if result._success:
        return result._value
    raise result._value


class RecordedApplyResult(_TimedResult, mp_pool.ApplyResult):
    pass


class RecordedMapResult(_TimedResult, mp_pool.MapResult):
    pass


class _TimedIMap:
    _poolscope: PoolLog
    _job: int

    def next(self, timeout=None):
        plog = self._poolscope
        if not plog.on:
            return super().next(timeout)  # type: ignore[misc]
        log = plog.thread_log()
        pos = log.begin(_log.NEXT, self._job)
        status = RAISED
        try:
            value = super().next(timeout)  # type: ignore[misc]
            status = OK
            return value
        except StopIteration:
            status = STOP
            raise
        except PoolTimeoutError:
            status = TIMEOUT
            raise
        finally:
            log.end(pos, status)

    __next__ = next


class RecordedIMapIterator(_TimedIMap, mp_pool.IMapIterator):
    pass


class RecordedIMapUnorderedIterator(_TimedIMap, mp_pool.IMapUnorderedIterator):
    pass
