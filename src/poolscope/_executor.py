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
work item is queued. 3.14 reshaped the worker for InterpreterPoolExecutor (a worker
context per thread, ``_WorkItem(future, task)``, ``_worker(ref, ctx, queue)``, read in
CPython's source and typeshed's stubs): ``work_item`` and ``_worker_args`` build
whichever shape the executor has, and ``tests/core/test_executor_shapes.py`` runs the
recorder on a stand-in of the 3.14 shape. ``map(buffersize=)`` is honoured from 3.14.
Each worker thread runs CPython's ``_worker`` loop; the work items
(``_WorkItem`` with a clock read around the call) write into that thread's
:class:`~poolscope._log.WorkerLog`. Futures time ``result()``/``exception()`` waits,
their done-callbacks, and a ``cancel()`` that succeeded.
"""

from __future__ import annotations

import collections
import itertools
import sys
import threading
import time
import weakref
from concurrent.futures import _base
from concurrent.futures import thread as _cft
from concurrent.futures.process import _process_chunk
from functools import partial as _partial
from multiprocessing import pool as mp_pool
from typing import Any

from . import _log
from ._subclass import Hooks, Subclasses
from ._log import OK, RAISED, TIMEOUT, PoolLog, WorkerLog, describe

# Job ids come from the stdlib pools' own counter, so that calls of every kind of
# pool in one trace are numbered in the order they were made (ids only need to be
# unique; a pool skipping some is harmless).
_jobs = mp_pool.job_counter
_current = threading.local()  # .worker: the WorkerLog of an executor's worker thread
_result_or_cancel = _base._result_or_cancel


def _batched(iterable, n: int):
    """``itertools.batched`` (3.12+), as ``ProcessPoolExecutor.map`` chunks its input."""
    it = iter(iterable)
    while chunk := tuple(itertools.islice(it, n)):
        yield chunk


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
            plog.thread_log().add(_log.thread_code(_log.CANCEL, OK, self._item),
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
    worker thread's own log (so no lock is taken).

    Two shapes, told apart by what the executor has (not by version number): up to
    3.13 ``_WorkItem(future, fn, args, kwargs)`` and ``run()``; from 3.14 (the
    worker-context refactor that came with InterpreterPoolExecutor)
    ``_WorkItem(future, task)`` and ``run(ctx)``, where ``ctx.run(task)`` makes the call.
    """

    plog: PoolLog
    job: int
    item: int

    def run(self, *ctx):
        wlog = getattr(_current, "worker", None)
        if wlog is None or not self.plog.on:  # recording over: exactly the stdlib's run
            return super().run(*ctx)
        if not self.future.set_running_or_notify_cancel():
            return
        clock = self.plog.clock
        records = wlog.records
        records.fromlist([self.job, self.item, 1, clock()])
        try:
            if ctx:  # 3.14+
                result = ctx[0].run(self.task)
            else:
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


def work_item(executor, future, fn, args, kwargs) -> _RecordedWorkItem:
    """A recorded work item in the shape this Python's ``_worker`` expects."""
    resolve = getattr(executor, "_resolve_work_item_task", None)  # 3.14+
    if resolve is not None:
        return _RecordedWorkItem(future, resolve(fn, args, kwargs))
    return _RecordedWorkItem(future, fn, args, kwargs)


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


def has_buffersize() -> bool:
    """``Executor.map(buffersize=)`` exists: CPython 3.14+ (read at each call, so tests
    can patch ``sys.version_info``)."""
    return sys.version_info >= (3, 14)


def map_options(stdlib_map, more: dict) -> int | None:
    """The ``buffersize`` of a recorded ``map(..., **more)``; any other keyword, or
    ``buffersize`` before 3.14, is refused with the stdlib's own TypeError.

        >>> map_options(_base.Executor.map, {"bufsize": 2})
        Traceback (most recent call last):
        TypeError: Executor.map() got an unexpected keyword argument 'bufsize'
    """
    for name in more:
        if name != "buffersize" or not has_buffersize():
            raise TypeError(f"{stdlib_map.__qualname__}() got an unexpected keyword "
                            f"argument {name!r}")
    return more.get("buffersize")


def recorded_map(executor, plog: PoolLog, fn, iterables, timeout, chunksize: int | None,
                 buffersize: int | None):
    """CPython's ``Executor.map`` (3.14's, with ``buffersize``) for a recorded executor,
    its items logged as one call. ``chunksize`` None: each item is a task (a thread
    executor ignores chunksize); else chunks of it are (``ProcessPoolExecutor.map``),
    and the results are chained back into items as there."""
    t0 = plog.clock()
    if chunksize is not None and chunksize < 1:
        raise ValueError("chunksize must be >= 1.")
    if buffersize is not None and buffersize < 1:
        raise ValueError("buffersize must be None or >= 1.")
    if timeout is not None:
        end_time = timeout + time.monotonic()
    args_iter = iter(zip(*iterables))
    if chunksize is not None:
        args_iter = _batched(args_iter, chunksize)
    job = next(_jobs)
    # [items submitted so far, chunksize]: grown before each task is queued, so no
    # worker meets an item beyond it; final once the input is exhausted.
    entry: list[int | None] = [0, chunksize or 1]
    plog.calls[job] = entry
    plog.thread_log().add(_log.EXECUTOR_MAP, job, t0, t0)
    tasks = [0]

    def submit(args):
        size = entry[0]
        assert size is not None
        entry[0] = size + (len(args) if chunksize is not None else 1)
        try:
            if chunksize is None:
                f = executor._submit_item(plog, job, tasks[0], fn, args, {}, t0)
            else:
                f = executor._submit_item(plog, job, tasks[0], _partial(_process_chunk, fn),
                                          (args,), {}, t0)
        except BaseException:
            entry[0] = size
            raise
        tasks[0] += 1
        return f

    if buffersize:
        fs = collections.deque(submit(args) for args in itertools.islice(args_iter, buffersize))
    else:
        fs = [submit(args) for args in args_iter]
    executor_weakref = weakref.ref(executor)

    # Yield must be hidden in closure so that the futures are submitted
    # before the first iterator value is required.
    def result_iterator():
        try:
            # reverse to keep finishing order
            fs.reverse()
            while fs:
                if (
                    buffersize
                    and (executor := executor_weakref())
                    and (args := next(args_iter, None))
                ):
                    fs.appendleft(submit(args))
                # Careful not to keep a reference to the popped future
                if timeout is None:
                    yield _result_or_cancel(fs.pop())
                else:
                    yield _result_or_cancel(fs.pop(), end_time - time.monotonic())
        finally:
            for future in fs:
                future.cancel()

    results = result_iterator()
    return results if chunksize is None else _chain(results)


def _chain(results):
    """CPython's ``_chain_from_iterable_of_lists``: a process map's chunks as items."""
    for element in results:
        element.reverse()
        while element:
            yield element.pop()


class ExecutorLifecycle:
    """``submit``, ``shutdown`` and ``with`` of a recorded executor (thread or process),
    logged; each kind's mixin supplies ``_submit_item``."""

    _poolscope: PoolLog

    def submit(self, fn, /, *args, **kwargs):
        plog = self._poolscope
        if not plog.on:
            return super().submit(fn, *args, **kwargs)  # type: ignore[misc]
        return self._submit_item(plog, None, 0, fn, args, kwargs,  # type: ignore[attr-defined]
                                 plog.clock())

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


class RecordedExecutor(ExecutorLifecycle):
    """Mixin placed before ``ThreadPoolExecutor`` (or a user's subclass) in the MRO."""

    _poolscope: PoolLog
    _poolscope_base: type

    # -- submitting (submit() is ExecutorLifecycle's) -----------------------------
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
            w = work_item(self, f, fn, args, kwargs)
            w.plog, w.job, w.item = plog, job, item
            self._work_queue.put(w)  # type: ignore[attr-defined]
            self._adjust_thread_count()
            return f

    def map(self, fn, *iterables, timeout=None, chunksize=1, **more):
        """CPython's ``Executor.map``, its items logged as one call (``buffersize=``
        from 3.14, see :func:`map_options`)."""
        plog = self._poolscope
        if not plog.on:
            return super().map(fn, *iterables, timeout=timeout,  # type: ignore[misc]
                               chunksize=chunksize, **more)
        buffersize = map_options(_base.Executor.map, more)
        return recorded_map(self, plog, fn, iterables, timeout, None, buffersize)

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
            t = threading.Thread(name=thread_name, target=_worker_target(plog, wlog),
                                 args=self._worker_args(plog, wlog,
                                                        weakref.ref(self, weakref_cb)))
            t.start()
            self._threads.add(t)  # type: ignore[attr-defined]
            _cft._threads_queues[t] = self._work_queue  # type: ignore[attr-defined]

    def _worker_args(self, plog: PoolLog, wlog: WorkerLog, ref) -> tuple:
        """The arguments of CPython's ``_worker`` on this Python, the initializer timed:
        ``(ref, work_queue, initializer, initargs)`` up to 3.13, ``(ref, ctx,
        work_queue)`` from 3.14, whose worker context runs the initializer."""
        make_context = getattr(self, "_create_worker_context", None)
        if make_context is None:
            initializer = self._initializer  # type: ignore[attr-defined]
            if initializer is not None:
                initializer = _timed_initializer(plog, wlog, initializer)
            return (ref, self._work_queue, initializer,  # type: ignore[attr-defined]
                    self._initargs)  # type: ignore[attr-defined]
        ctx = make_context()
        if getattr(ctx, "initializer", None) is not None:
            initialize = _timed_initializer(plog, wlog, ctx.initialize)
            ctx.initialize = initialize  # this context only: one per worker thread
        return (ref, ctx, self._work_queue)  # type: ignore[attr-defined]


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


HOOKS = Hooks(Subclasses(_cft.ThreadPoolExecutor, (RecordedExecutor,), _REIMPLEMENTED,
                         __name__, extra=_repr_of), RecordedExecutor)
