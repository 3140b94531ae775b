"""A recorded ProcessPoolExecutor: the stdlib class with timing added at its hooks.

    >>> import multiprocessing, poolscope
    >>> from concurrent.futures import ProcessPoolExecutor
    >>> with poolscope.record() as trace:
    ...     with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as ex:
    ...         squares = list(ex.map(abs, [-1, -2, 3], chunksize=2))
    >>> squares, [(t.call, t.chunk, t.outcome) for t in trace.tasks][:2]
    ([1, 2, 3], [('map', 0, 'finished'), ('map', 0, 'finished')])
    >>> trace.pools[0].kind, trace.pools[0].process
    ('ProcessPoolExecutor', True)

The caller's side is the recorded ThreadPoolExecutor's (``_executor``: ``submit`` and
``map`` logged before a task is queued, futures that time their waits, callbacks and
cancellation, ``shutdown`` and ``with``), with the stdlib's own ``submit`` doing the
work: each task's function is sent as ``partial(_timed, job, item, fn)``. The workers
are other processes and time themselves with ``time.monotonic_ns``, as the process
Pool's do (``_procpool``: the same messages, READY, START, DONE, EXITED, put on the
executor's result queue):

- each worker process runs ``_recorded_worker``: it notes its lane, then runs CPython's
  ``_process_worker`` loop unchanged;
- ``_timed`` runs the function (a ``map`` chunk item by item) and sends START before
  and DONE after it, *before* the stdlib's own result;
- the executor's manager thread (``_RecordedManager``, CPython's with one method
  wrapped) takes those messages out of the stream (the stdlib loop sees a wake-up
  instead) and appends them to the worker's log: it is the only writer of the
  WorkerLogs; when it ends, it reads the messages left (the workers' EXITED).

Results, exceptions (with their ``_RemoteTraceback`` cause), pickling errors,
BrokenProcessPool, ``max_tasks_per_child`` and initializers are the stdlib's own. What
differs from a plain executor: ``type(executor)`` is a generated subclass, futures are
``RecordedFuture``\\ s (also named ``Future``), each task sends two more small messages,
and the traceback text of a task's exception (its ``__cause__``) shows poolscope's
``_timed`` frame. ``tests/core/test_faithful_procexecutor.py`` runs one behaviour suite
against both.

Limits: a chunk's item times reach the parent when the whole chunk ends; a task whose
worker process dies (killed, ``os._exit``: BrokenProcessPool) stays "running"; the
recording must use the default clock.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import process as _cfp
from functools import partial as _partial
from itertools import starmap as _starmap
from typing import Any

from . import _log
from ._executor import (
    ExecutorLifecycle,
    RecordedFuture,
    _jobs,
    _repr_of,
    map_options,
    recorded_map,
)
from ._log import PoolLog, describe
from ._procpool import DONE, EXITED, START, _receive, _send, announce
from ._subclass import Hooks, Subclasses
from ._worker import _run_chunk

_process_chunk = _cfp._process_chunk

# In a worker process of a recorded executor: (its lane, its result queue's put).
_child: tuple[int, Any] | None = None


# -- in the worker process ---------------------------------------------------------
def _recorded_worker(lane, call_queue, result_queue, initializer, initargs, max_tasks=None):
    """The target of a recorded executor's worker process: CPython's ``_process_worker``,
    after noting the lane this process is in the parent's trace."""
    global _child
    put = result_queue.put
    _child = (lane, put)
    initializer = announce(lane, put, initializer)
    try:
        _cfp._process_worker(call_queue, result_queue, initializer, initargs, max_tasks)
    finally:
        _send(put, (None, EXITED, (lane, time.monotonic_ns())))


def _timed(job, i, fn, *args, **kwargs):
    """Run one task as the stdlib worker would (``fn(*args, **kwargs)``), timed; a
    ``map`` chunk (``partial(_process_chunk, f)``) item by item. Exceptions propagate
    unchanged: the worker sends them back as usual (and survives even SystemExit)."""
    child = _child
    if child is None:  # a worker started after the recording ended
        return fn(*args, **kwargs)
    lane, put = child
    clock = time.monotonic_ns
    chunked = type(fn) is _partial and fn.func is _process_chunk and not kwargs
    n = len(args[0]) if chunked else 1
    _send(put, (None, START, (lane, job, i, n, clock())))
    stamps: list[int] = []
    t0 = clock()  # after sending START: its cost is not the task's
    out: list[Any] = []
    try:
        if chunked:  # what _process_chunk does: [f(*args) for args in chunk]
            _run_chunk(_starmap(fn.args[0], args[0]), n, out, stamps.extend, clock)
            result: Any = out
        else:
            result = fn(*args, **kwargs)
            stamps.append(clock())
    except BaseException as e:
        if not chunked:
            stamps.append(clock())
        _send(put, (None, DONE, (lane, t0, stamps, (len(out), describe(e), False))))
        raise
    _send(put, (None, DONE, (lane, t0, stamps, None)))
    return result


# -- in the parent ------------------------------------------------------------------
class _ProcessFuture(RecordedFuture):
    """A recorded future that also notes a task its executor could not send."""

    def set_exception(self, exception):
        # Only the call queue's feeder thread fails a task that never reached a worker
        # (pickling it failed: _SafeQueue._on_queue_feeder_error).
        plog = self._poolscope
        if plog.on and threading.current_thread().name == "QueueFeederThread":
            plog.unsent.append((self._job, self._item, describe(exception)))
        return super().set_exception(exception)


_ProcessFuture.__name__ = _ProcessFuture.__qualname__ = "Future"


class _RecordedManager(_cfp._ExecutorManagerThread):
    """CPython's manager thread, taking poolscope's messages out of the result stream."""

    def __init__(self, executor):
        self._plog: PoolLog = executor._poolscope  # holds no reference to the executor
        self._running: dict[int, tuple[int, int, int]] = {}  # lane -> record, job, item
        self._ok: set[tuple[int, int]] = set()  # tasks whose DONE said they returned
        super().__init__(executor)

    def wait_result_broken_or_wakeup(self):
        result_item, is_broken, cause = super().wait_result_broken_or_wakeup()
        if type(result_item) is tuple and result_item[0] is None:
            self._take(result_item)
            return None, False, None  # to the stdlib loop: a wake-up
        if (result_item is not None and not isinstance(result_item, int)
                and self._plog.on):
            work = self.pending_work_items.get(result_item.work_id)
            future = None if work is None else work.future
            key = (getattr(future, "_job", -1), getattr(future, "_item", -1))
            if key in self._ok:
                self._ok.discard(key)
                if result_item.exception is not None:  # the result could not be pickled
                    self._plog.unreturned.append((*key, describe(result_item.exception)))
        return result_item, is_broken, cause

    def _take(self, message) -> None:
        plog = self._plog
        if not plog.on:
            return
        kind, payload = message[1], message[2]
        if kind == DONE and payload[3] is None and payload[0] in self._running:
            _, job, i = self._running[payload[0]]
            self._ok.add((job, i))
        _receive(plog, self._running, kind, payload)

    def run(self):
        try:
            super().run()
        finally:
            self._drain()

    def _drain(self) -> None:
        """Read the messages left once the loop has ended (the workers' EXITED):
        bounded, and ``poll()`` never blocks."""
        try:
            reader = self.result_queue._reader
            for _ in range(10_000):
                if not reader.poll():
                    break
                message = reader.recv()
                if type(message) is tuple and message[0] is None:
                    self._take(message)
        except (OSError, EOFError, ValueError, AttributeError):  # closed: nothing left
            pass


class RecordedProcessExecutor(ExecutorLifecycle):
    """Mixin placed before ``ProcessPoolExecutor`` (or a user's subclass) in the MRO."""

    _poolscope: PoolLog
    _poolscope_base: type

    # -- submitting (submit() is ExecutorLifecycle's) -----------------------------
    def _submit_item(self, plog: PoolLog, job: int | None, item: int, fn, args, kwargs,
                     t0: int):
        """The stdlib's submit of ``_timed``; a submit() (job None) is logged before it,
        so no worker meets an unlogged job, and unlogged if the submit is refused."""
        log = pos = None
        if job is None:
            job = next(_jobs)
            log = plog.thread_log()
            pos = log.add(_log.SUBMIT, job, t0, t0)
        try:
            # The stdlib's submit, past ExecutorLifecycle's (which would log it again).
            stdlib_submit = super(ExecutorLifecycle, self).submit  # type: ignore[misc]
            f = stdlib_submit(_partial(_timed, job, item, fn), *args, **kwargs)
        except BaseException:
            if log is not None and len(log.records) == pos + 4:  # only this thread writes
                del log.records[pos:]
            raise
        f.__class__ = _ProcessFuture  # a plain Future until now: same layout
        f._poolscope, f._job, f._item = plog, job, item
        return f

    def map(self, fn, *iterables, timeout=None, chunksize=1, **more):
        """CPython's ``ProcessPoolExecutor.map``, its chunks logged as one call."""
        plog = self._poolscope
        if not plog.on:
            return super().map(fn, *iterables, timeout=timeout,  # type: ignore[misc]
                               chunksize=chunksize, **more)
        buffersize = map_options(_cfp.ProcessPoolExecutor.map, more)
        return recorded_map(self, plog, fn, iterables, timeout, chunksize, buffersize)

    # -- workers ----------------------------------------------------------------------
    def _spawn_process(self):
        """CPython's (3.11-3.14), each new process given a lane and a timed target."""
        plog = self._poolscope
        if not plog.on:
            return super()._spawn_process()  # type: ignore[misc]
        wlog = plog.add_worker("")
        p = self._mp_context.Process(  # type: ignore[attr-defined]
            target=_recorded_worker,
            args=(wlog.lane,
                  self._call_queue,  # type: ignore[attr-defined]
                  self._result_queue,  # type: ignore[attr-defined]
                  self._initializer,  # type: ignore[attr-defined]
                  self._initargs,  # type: ignore[attr-defined]
                  self._max_tasks_per_child))  # type: ignore[attr-defined]
        wlog.name = p.name  # the worker reports it again in READY
        p.start()
        self._processes[p.pid] = p  # type: ignore[attr-defined]

    def _start_executor_manager_thread(self):
        """CPython's (3.11-3.14), starting the recorded manager thread."""
        if self._executor_manager_thread is None:  # type: ignore[has-type]
            # Start the processes so that their sentinels are known.
            if not self._safe_to_dynamically_spawn_children:  # type: ignore[attr-defined]
                self._launch_processes()  # type: ignore[attr-defined]
            self._executor_manager_thread = _RecordedManager(self)
            self._executor_manager_thread.start()
            _cfp._threads_wakeups[self._executor_manager_thread] = \
                self._executor_manager_thread_wakeup  # type: ignore[attr-defined]


# The methods RecordedProcessExecutor reimplements: a subclass that overrides one of
# them is not recorded (recording it would bypass the override).
_REIMPLEMENTED = ("submit", "map", "_spawn_process", "_start_executor_manager_thread",
                  "shutdown", "__exit__")

HOOKS = Hooks(Subclasses(_cfp.ProcessPoolExecutor, (RecordedProcessExecutor,),
                         _REIMPLEMENTED, __name__, extra=_repr_of), RecordedProcessExecutor)
