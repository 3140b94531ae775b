"""A recorded ThreadPoolExecutor: the stdlib class with timing added at its own hooks.

    >>> from concurrent.futures import ThreadPoolExecutor
    >>> import poolscope
    >>> with poolscope.record() as trace:
    ...     with ThreadPoolExecutor(2) as ex:
    ...         squares = list(ex.map(abs, [-1, -2, 3]))
    >>> squares, [t.call for t in trace.tasks], trace.pools[0].kind
    ([1, 2, 3], ['map', 'map', 'map'], 'ThreadPoolExecutor')

What differs from a plain ``concurrent.futures.ThreadPoolExecutor`` (and nothing else):
- ``type(executor)`` is a generated subclass (``isinstance`` holds, ``repr`` is the
  stdlib's), and futures are a subclass of ``concurrent.futures.Future`` (also named
  ``Future``, so their ``repr`` is the stdlib's);
- tracebacks of task, callback and ``result()`` exceptions show one poolscope frame more.
``tests/core/test_faithful_executor.py`` runs one behaviour suite against both.

How: the caller-side methods here are CPython's own (``submit``, ``map`` and
``_adjust_thread_count`` are identical in 3.11-3.13) with a record appended before each
work item is queued. Each worker thread runs CPython's ``_worker`` loop; the work items
(``_WorkItem`` with a clock read around the call) write into that thread's
:class:`~poolscope._log.WorkerLog`. Futures time ``result()``/``exception()`` waits,
their done-callbacks, and a ``cancel()`` that succeeded.
"""

from __future__ import annotations

import threading
import time
import weakref
from concurrent.futures import _base
from concurrent.futures import thread as _cft
from multiprocessing import pool as mp_pool
from typing import Any

from . import _log, _pool
from ._subclass import Subclasses
from ._log import ITEM_SHIFT, OK, RAISED, TIMEOUT, PoolLog, WorkerLog, describe

# Job ids come from the stdlib pools' own counter, so that calls of every kind of
# pool in one trace are numbered in the order they were made (ids only need to be
# unique; a pool skipping some is harmless).
_jobs = mp_pool.job_counter
_current = threading.local()  # .worker: the WorkerLog of an executor's worker thread
_result_or_cancel = _base._result_or_cancel


class RecordedFuture(_base.Future):
    """A ``Future`` that logs waits on it, its done-callbacks and its cancellation."""

    _poolscope: PoolLog
    _job: int
    _item: int = 0
    _cancel_logged = False

    def result(self, timeout=None):
        try:
            return self._timed_wait(_log.RESULT, super().result, timeout)
        finally:
            self = None  # noqa: PLW0642 (no cycle through a raised exception, as in CPython)

    def exception(self, timeout=None):
        return self._timed_wait(_log.EXCEPTION, super().exception, timeout)

    def _timed_wait(self, code: int, wait, timeout):
        """``wait(timeout)`` (the stdlib's result or exception), logged as ``code``."""
        plog = self._poolscope
        if not plog.on:
            return wait(timeout)
        log = plog.thread_log()
        pos = log.begin(code, self._job)
        status = RAISED
        try:
            value = wait(timeout)
            status = OK
            return value
        except TimeoutError:
            status = TIMEOUT
            raise
        finally:
            log.end(pos, status)
            # Break the cycle through a raised exception's traceback, as CPython does.
            self = wait = None  # noqa: PLW0642

    def cancel(self):
        plog = self._poolscope
        if not plog.on:
            return super().cancel()
        t0 = plog.clock()
        cancelled = super().cancel()
        # Logged once, and only when it worked: map()'s results iterator calls cancel()
        # on every future it has waited for (a no-op returning False on done ones).
        if cancelled and not self._cancel_logged:
            self._cancel_logged = True
            plog.thread_log().add(_log.CANCEL | OK << 8 | self._item << ITEM_SHIFT,
                                  self._job, t0, plog.clock())
        return cancelled

    def add_done_callback(self, fn):
        plog = self._poolscope
        if not plog.on:
            return super().add_done_callback(fn)
        return super().add_done_callback(_timed_callback(plog, self._job, fn))


# Its repr (CPython's) shows the class name: keep it "Future".
RecordedFuture.__name__ = RecordedFuture.__qualname__ = "Future"


def _timed_callback(plog: PoolLog, job: int, fn):
    """A done-callback that logs its run (in the worker that finished the future, or
    in the thread that added it to a future already done)."""

    def callback(future):
        if not plog.on:
            return fn(future)
        log = plog.thread_log()
        pos = log.begin(_log.CALLBACK, job)
        status = RAISED
        try:
            fn(future)  # an exception is logged by CPython's _invoke_callbacks, as usual
            status = OK
        finally:
            log.end(pos, status)

    return callback


class _RecordedWorkItem(_cft._WorkItem):
    """CPython's ``_WorkItem`` with a clock read around the call, into the running
    worker thread's own log (so no lock is taken)."""

    plog: PoolLog
    job: int
    item: int

    def run(self):
        wlog = getattr(_current, "worker", None)
        if wlog is None or not self.plog.on:  # recording over: exactly the stdlib's run
            return super().run()
        if not self.future.set_running_or_notify_cancel():
            return
        clock = self.plog.clock
        records = wlog.records
        records.fromlist([self.job, self.item, 1, clock()])
        try:
            result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # an executor's worker survives even SystemExit
            records.append(clock())
            wlog.failures.append((self.job, self.item, 0, describe(exc), False))
            self.future.set_exception(exc)
            # Break a reference cycle with the exception 'exc'
            self = None  # noqa: PLW0642
        else:
            records.append(clock())
            self.future.set_result(result)


def _worker_target(plog: PoolLog, wlog: WorkerLog):
    """CPython's ``_worker``, run by a thread that knows its lane."""

    def run(*args):
        _current.worker = wlog
        try:
            _cft._worker(*args)
        finally:
            wlog.exited = plog.clock()

    return run


def _timed_initializer(plog: PoolLog, wlog: WorkerLog, initializer):
    def init(*initargs):
        wlog.init_started = plog.clock()
        try:
            initializer(*initargs)
        except BaseException as e:  # CPython logs it and breaks the executor
            wlog.init_error = describe(e)
            raise
        finally:
            wlog.init_finished = plog.clock()

    return init


class RecordedExecutor:
    """Mixin placed before ``ThreadPoolExecutor`` (or a user's subclass) in the MRO."""

    _poolscope: PoolLog
    _poolscope_base: type

    # -- submitting ---------------------------------------------------------------
    def submit(self, fn, /, *args, **kwargs):
        plog = self._poolscope
        if not plog.on:
            return super().submit(fn, *args, **kwargs)  # type: ignore[misc]
        return self._submit_item(plog, None, 0, fn, args, kwargs, plog.clock())

    def _submit_item(self, plog: PoolLog, job: int | None, item: int, fn, args, kwargs,
                     t0: int):
        """CPython's submit with a recorded future and work item. A submit() (job
        None) is logged before its item is queued, so no worker meets an unlogged job."""
        with self._shutdown_lock, _cft._global_shutdown_lock:  # type: ignore[attr-defined]
            if self._broken:  # type: ignore[attr-defined]
                raise _cft.BrokenThreadPool(self._broken)  # type: ignore[attr-defined]
            if self._shutdown:  # type: ignore[attr-defined]
                raise RuntimeError('cannot schedule new futures after shutdown')
            if _cft._shutdown:
                raise RuntimeError('cannot schedule new futures after '
                                   'interpreter shutdown')
            f = RecordedFuture()
            if job is None:
                job = next(_jobs)
                plog.thread_log().add(_log.SUBMIT, job, t0, t0)
            f._poolscope, f._job, f._item = plog, job, item
            w = _RecordedWorkItem(f, fn, args, kwargs)
            w.plog, w.job, w.item = plog, job, item
            self._work_queue.put(w)  # type: ignore[attr-defined]
            self._adjust_thread_count()
            return f

    def map(self, fn, *iterables, timeout=None, chunksize=1):
        """CPython's ``Executor.map``, its items logged as one call."""
        plog = self._poolscope
        if not plog.on:
            return super().map(fn, *iterables, timeout=timeout,  # type: ignore[misc]
                               chunksize=chunksize)
        t0 = plog.clock()
        if timeout is not None:
            end_time = timeout + time.monotonic()
        job = next(_jobs)
        entry: list[int | None] = [None, 1]  # the length is known once all are submitted
        plog.calls[job] = entry
        plog.thread_log().add(_log.EXECUTOR_MAP, job, t0, t0)
        fs = []
        try:
            for i, args in enumerate(zip(*iterables)):
                fs.append(self._submit_item(plog, job, i, fn, args, {}, t0))
        finally:
            entry[0] = len(fs)

        # Yield must be hidden in closure so that the futures are submitted
        # before the first iterator value is required.
        def result_iterator():
            try:
                # reverse to keep finishing order
                fs.reverse()
                while fs:
                    # Careful not to keep a reference to the popped future
                    if timeout is None:
                        yield _result_or_cancel(fs.pop())
                    else:
                        yield _result_or_cancel(fs.pop(), end_time - time.monotonic())
            finally:
                for future in fs:
                    future.cancel()
        return result_iterator()

    def _adjust_thread_count(self):
        """CPython's, with each new thread given a lane and a timed target."""
        plog = self._poolscope
        if not plog.on:
            return super()._adjust_thread_count()  # type: ignore[misc]
        # if idle threads are available, don't spin new threads
        if self._idle_semaphore.acquire(timeout=0):  # type: ignore[attr-defined]
            return

        # When the executor gets lost, the weakref callback will wake up
        # the worker threads.
        def weakref_cb(_, q=self._work_queue):  # type: ignore[attr-defined]
            q.put(None)

        num_threads = len(self._threads)  # type: ignore[attr-defined]
        if num_threads < self._max_workers:  # type: ignore[attr-defined]
            thread_name = '%s_%d' % (self._thread_name_prefix or self,  # type: ignore[attr-defined]
                                     num_threads)
            wlog = plog.add_worker(thread_name)
            initializer = self._initializer  # type: ignore[attr-defined]
            if initializer is not None:
                initializer = _timed_initializer(plog, wlog, initializer)
            t = threading.Thread(name=thread_name, target=_worker_target(plog, wlog),
                                 args=(weakref.ref(self, weakref_cb),
                                       self._work_queue,  # type: ignore[attr-defined]
                                       initializer,
                                       self._initargs))  # type: ignore[attr-defined]
            t.start()
            self._threads.add(t)  # type: ignore[attr-defined]
            _cft._threads_queues[t] = self._work_queue  # type: ignore[attr-defined]

    # -- life-cycle -----------------------------------------------------------------
    def _event(self, code: int, method, *args, **kwargs):
        plog = self._poolscope
        if not plog.on:
            return method(*args, **kwargs)
        log = plog.thread_log()
        pos = log.begin(code, -1)
        status = RAISED
        try:
            value = method(*args, **kwargs)
            status = OK
            return value
        finally:
            log.end(pos, status)

    def shutdown(self, wait=True, *, cancel_futures=False):
        return self._event(_log.SHUTDOWN, super().shutdown, wait,  # type: ignore[misc]
                           cancel_futures=cancel_futures)

    def __exit__(self, exc_type, exc_val, exc_tb):
        # The stdlib's __exit__ calls shutdown(wait=True): logged as "exit" around it.
        return self._event(_log.EXIT, super().__exit__, exc_type, exc_val, exc_tb)  # type: ignore[misc]


def _object_repr(self) -> str:
    # object.__repr__ as the user's class would show it.
    cls = self._poolscope_base
    return f"<{cls.__module__}.{cls.__qualname__} object at {id(self):#x}>"


# The methods RecordedExecutor reimplements: a subclass that overrides one of them is
# not recorded (recording it would bypass the override).
_REIMPLEMENTED = ("submit", "map", "_adjust_thread_count", "shutdown", "__exit__")

def _repr_of(base: type) -> dict[str, Any]:
    # A class without a __repr__ of its own keeps object's, naming the user's class.
    return {"__repr__": _object_repr} if base.__repr__ is object.__repr__ else {}


_subclasses = Subclasses(_cft.ThreadPoolExecutor, (RecordedExecutor,), _REIMPLEMENTED,
                         __name__, extra=_repr_of)


def recordable(base: type) -> bool:
    """False for a ThreadPoolExecutor subclass that overrides a reimplemented method."""
    return _subclasses.recordable(base)


def recorded_class(base: type) -> type:
    """The recorded subclass of ``base`` (ThreadPoolExecutor or a subclass), cached."""
    return _subclasses.get(base)


def make_recorded(executor: Any, plog: PoolLog) -> None:
    """Turn a not yet initialised executor into a recorded one that logs into ``plog``."""
    executor.__class__ = recorded_class(type(executor))
    executor._poolscope = plog


def init_recorded(executor: Any, init, args: tuple, kwargs: dict) -> None:
    """Run the stdlib ``ThreadPoolExecutor.__init__`` of a recorded executor, timed."""
    _pool.init_recorded(executor, init, args, kwargs, size_attr="_max_workers")
