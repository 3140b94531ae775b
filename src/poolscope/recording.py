"""``record()``: switch recording on around plain stdlib code.

    >>> from multiprocessing.pool import ThreadPool   # imported before: still recorded
    >>> import poolscope
    >>> with poolscope.record() as trace:
    ...     with ThreadPool(2) as pool:
    ...         squares = pool.map(abs, [-1, -2, 3])
    >>> squares, len(trace.tasks), trace.tasks[0].call
    ([1, 2, 3], 3, 'map')

Rules (documented in the README and tested in tests/core/test_recording*.py):
- Every ``multiprocessing.pool.ThreadPool`` (so also ``multiprocessing.dummy.Pool``
  and user subclasses), every ``concurrent.futures.ThreadPoolExecutor`` and every
  process ``multiprocessing.pool.Pool`` (also ``multiprocessing.Pool(...)`` and
  ``get_context(...).Pool(...)``) *created* while a recording is active, in any
  thread, is recorded. While no recording is active nothing is patched, so nothing is
  slowed.
- A pool created before the block is not recorded, even when used inside it.
- A pool created inside the block and used after it keeps working exactly as before;
  its later activity is simply not recorded (the trace is frozen when the block ends).
- Recordings may nest or overlap (also across threads): a pool appears in every
  recording that was active when it was created, each trace timed from its own start.
"""

from __future__ import annotations

import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.pool import Pool, ThreadPool
from typing import Literal

from . import _executor, _pool, _procpool
from ._log import Clock, PoolLog
from .trace import Trace

State = Literal["new", "recording", "stopped"]

# Guards _active and the patches of the constructors. Taken when a recording starts
# or stops and once per pool creation; never by workers or on a task's path.
_lock = threading.Lock()
_active: list[Recording] = []


_original_init = ThreadPool.__init__
_original_pool_init = Pool.__init__
_original_executor_init = ThreadPoolExecutor.__init__


def _new_log(kind: str) -> PoolLog | None:
    """A PoolLog watched by every active recording (call with _lock held), or None."""
    if not _active:
        return None
    plog = PoolLog(clock=_active[-1].clock, kind=kind, watchers=len(_active))
    for rec in _active:
        rec._pools.append(plog)
    return plog


def _recorded_init(self, *args, **kwargs):
    # Installed as ThreadPool.__init__ while any recording is active (and the original
    # put back after, so an idle poolscope costs nothing). Patching __init__ rather
    # than __new__: a deleted __new__ does not give CPython's object.__new__ back its
    # argument check, while a restored __init__ is exactly the original again.
    if not isinstance(self, _pool.RecordedPool):
        if not _pool.recordable(type(self)):
            warnings.warn(f"poolscope: {type(self).__qualname__} overrides a pool method "
                          "that recording relies on, so it is not recorded", stacklevel=2)
            return _original_init(self, *args, **kwargs)
        with _lock:  # so that a recording stopping now sees this pool, or is not told of it
            plog = _new_log("ThreadPool")
            if plog is not None:
                _pool.make_recorded(self, plog)
    if isinstance(self, _pool.RecordedPool):
        _pool.init_recorded(self, _original_init, args, kwargs)
    else:
        _original_init(self, *args, **kwargs)


def _recorded_pool_init(self, *args, **kwargs):
    # Installed as Pool.__init__ (the process pool) while any recording is active.
    if isinstance(self, ThreadPool):
        # ThreadPool.__init__ calls Pool.__init__: the ThreadPool was dealt with there.
        return _original_pool_init(self, *args, **kwargs)
    if not isinstance(self, _pool.RecordedPool):
        if not _procpool.recordable(type(self)):
            warnings.warn(f"poolscope: {type(self).__qualname__} overrides a pool method "
                          "that recording relies on, so it is not recorded", stacklevel=2)
            return _original_pool_init(self, *args, **kwargs)
        with _lock:
            # Worker processes time themselves with time.monotonic_ns, the clock every
            # process shares; another clock cannot be compared with theirs.
            custom = bool(_active) and _active[-1].clock is not time.monotonic_ns
            plog = None if custom else _new_log("Pool")
            if plog is not None:
                _procpool.make_recorded(self, plog)
        if custom:
            warnings.warn("poolscope: a process Pool is recorded only with the default "
                          "clock (time.monotonic_ns), so this one is not recorded",
                          stacklevel=2)
    if isinstance(self, _pool.RecordedPool):
        _pool.init_recorded(self, _original_pool_init, args, kwargs)
    else:
        _original_pool_init(self, *args, **kwargs)


def _recorded_executor_init(self, *args, **kwargs):
    # Installed as ThreadPoolExecutor.__init__ while any recording is active.
    if not isinstance(self, _executor.RecordedExecutor):
        if not _executor.recordable(type(self)):
            warnings.warn(f"poolscope: {type(self).__qualname__} overrides an executor "
                          "method that recording relies on, so it is not recorded",
                          stacklevel=2)
            return _original_executor_init(self, *args, **kwargs)
        with _lock:
            plog = _new_log("ThreadPoolExecutor")
            if plog is not None:
                _executor.make_recorded(self, plog)
    if isinstance(self, _executor.RecordedExecutor):
        _executor.init_recorded(self, _original_executor_init, args, kwargs)
    else:
        _original_executor_init(self, *args, **kwargs)


# (class, original __init__, recorded __init__): installed together, removed together.
_PATCHES = (
    (ThreadPool, _original_init, _recorded_init),
    (Pool, _original_pool_init, _recorded_pool_init),
    (ThreadPoolExecutor, _original_executor_init, _recorded_executor_init),
)


def _patch(on: bool) -> None:
    for cls, original, recorded in _PATCHES:
        cls.__init__ = recorded if on else original  # type: ignore[method-assign]


class Recording:
    """A recording of the pools (ThreadPool, ThreadPoolExecutor, process Pool) created
    while it is active.

    Use it as a context manager (``with poolscope.record() as trace``), or call
    :meth:`start` and :meth:`stop` (which returns the finished :class:`Trace`).
    """

    def __init__(self, clock: Clock | None = None, *, private: bool = False) -> None:
        if clock is not None and not callable(clock):
            raise TypeError(f"clock must be a callable returning nanoseconds, got {clock!r}")
        self.clock: Clock = clock or time.monotonic_ns
        self.state: State = "new"
        self._pools: list[PoolLog] = []
        self.trace = Trace(live=self)
        self._start: int | None = None
        # A private recording records only the pools recorded_pool() makes for it: it
        # never joins _active, so pools created elsewhere meanwhile stay out of it.
        self.private = private

    def __repr__(self) -> str:
        return f"<poolscope.Recording {self.state} pools={len(self._pools)}>"

    def start(self) -> Trace:
        """Start recording; returns the (live) trace."""
        if self.state != "new":
            raise RuntimeError(
                f"this recording is {self.state}; a recording can be started only once "
                "(start a new one with poolscope.record())")
        self._start = self.clock()
        with _lock:
            if not self.private:
                if not _active:
                    _patch(True)
                _active.append(self)
            self.state = "recording"
        return self.trace

    def stop(self) -> Trace:
        """Stop recording and freeze the trace; pools go on working unrecorded."""
        if self.state != "recording":
            raise RuntimeError(f"this recording is {self.state}, not recording; nothing to stop")
        with _lock:
            if not self.private:
                _active.remove(self)
                if not _active:
                    _patch(False)
            self.state = "stopped"
        self.trace._freeze(self.snapshot())
        for plog in self._pools:
            with plog._lock:
                plog.watchers -= 1
                if plog.watchers == 0:
                    plog.on = False
        return self.trace

    def snapshot(self):
        """The raw material of the trace so far (used by :class:`Trace`)."""
        from ._build import build

        assert self._start is not None
        return build(self._pools, self._start, self.clock(), self.clock)

    def __enter__(self) -> Trace:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def record(clock: Clock | None = None) -> Recording:
    """Record every ThreadPool, ThreadPoolExecutor and process Pool created inside the
    ``with`` block.

    ``clock`` (for tests) is a callable returning monotonic nanoseconds.

    >>> with record() as trace:
    ...     pass
    >>> trace.tasks
    []
    """
    return Recording(clock)


def active_recordings() -> int:
    """How many recordings are active now (tests check that none leaks)."""
    with _lock:
        return len(_active)


def recorded_pool(recording: Recording, processes: int | None = None, initializer=None,
                  initargs=()) -> ThreadPool:
    """A ThreadPool recorded by ``recording`` only, whatever else is recording.

    Used by the playground, so that its runs and a learner's own ``record()`` blocks
    never see each other's pools.
    """
    if recording.state != "recording":
        raise RuntimeError("recorded_pool() needs a recording that has been started")
    plog = PoolLog(clock=recording.clock, watchers=1)
    recording._pools.append(plog)
    pool = ThreadPool.__new__(ThreadPool)
    _pool.make_recorded(pool, plog)
    _pool.init_recorded(pool, _original_init, (processes, initializer, initargs), {})
    return pool
