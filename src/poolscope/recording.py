"""``record()``: switch recording on around plain stdlib code.

    >>> from multiprocessing.pool import ThreadPool   # imported before: still recorded
    >>> import poolscope
    >>> with poolscope.record() as trace:
    ...     with ThreadPool(2) as pool:
    ...         squares = pool.map(abs, [-1, -2, 3])
    >>> squares, len(trace.tasks), trace.tasks[0].call
    ([1, 2, 3], 3, 'map')

Rules (documented in the README and tested in tests/core/test_recording*.py):
- Every pool of a kind in ``_kinds.KINDS`` *created* while a recording is active, in
  any thread, is recorded: ``multiprocessing.pool.ThreadPool`` (so also
  ``multiprocessing.dummy.Pool`` and user subclasses), the process
  ``multiprocessing.pool.Pool`` (also ``multiprocessing.Pool(...)`` and
  ``get_context(...).Pool(...)``), ``concurrent.futures.ThreadPoolExecutor`` and
  ``concurrent.futures.ProcessPoolExecutor``. Process pools need the default clock.
  While no recording is active nothing is patched, so nothing is slowed.
- A pool created before the block is not recorded, even when used inside it.
- A pool created inside the block and used after it keeps working exactly as before;
  its later activity is simply not recorded (the trace is frozen when the block ends).
- Recordings may nest or overlap (also across threads): a pool appears in every
  recording that was active when it was created, each trace timed from its own start.
- Stopping never leaves pools recording: if ``stop()`` is interrupted (Ctrl-C while
  the trace is built), the constructors are restored and the pools released anyway,
  and calling ``stop()`` again, or reading the trace, finishes the freeze. The trace
  holds what was logged when the recording stopped, never later work.
- A custom ``clock`` is checked at once (integer nanoseconds, never going back), so a
  wrong one fails before anything is patched or started.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import threading
import time
import warnings
from array import array
from multiprocessing.pool import ThreadPool
from typing import Literal

from . import _kinds, _pool
from ._kinds import PoolKind
from ._log import Clock, PoolLog
from ._subclass import Hooks
from .trace import Trace

# "stopping": stop() was interrupted (Ctrl-C, a failing build) after it had released
# everything but before the trace was frozen; the next stop(), or reading the trace,
# finishes the freeze.
State = Literal["new", "recording", "stopping", "stopped"]

# Guards _active and the patches of the constructors. Taken when a recording starts
# or stops and once per pool creation; never by workers or on a task's path.
_lock = threading.Lock()
_active: list[Recording] = []


def _new_log(kind: str) -> PoolLog | None:
    """A PoolLog watched by every active recording (call with _lock held), or None."""
    if not _active:
        return None
    plog = PoolLog(clock=_active[-1].clock, kind=kind, watchers=len(_active))
    for rec in _active:
        rec._pools.append(plog)
        rec._watching.append(plog)
    return plog


def _recorded_init_of(kind: PoolKind, hooks: Hooks, original):
    """The ``__init__`` installed on ``kind.cls`` while any recording is active (the
    original is put back after, so an idle poolscope costs nothing). Patching
    ``__init__`` rather than ``__new__``: a deleted ``__new__`` does not give CPython's
    ``object.__new__`` back its argument check, while a restored ``__init__`` is exactly
    the original again."""

    def __init__(self, *args, **kwargs):
        if _kinds.kind_of(type(self)) is not kind:
            # A more derived kind initialising its base (ThreadPool.__init__ calls
            # Pool.__init__): that kind's own hook dealt with it.
            return original(self, *args, **kwargs)
        if not isinstance(self, hooks.mixin):
            if not hooks.recordable(type(self)):
                article = "an" if kind.noun[0] in "aeiou" else "a"
                warnings.warn(f"poolscope: {type(self).__qualname__} overrides {article} "
                              f"{kind.noun} method that recording relies on, so it is not "
                              "recorded", stacklevel=2)
                return original(self, *args, **kwargs)
            with _lock:  # so that a recording stopping now sees this pool, or is not told of it
                # Workers in other processes time themselves with time.monotonic_ns,
                # the clock every process shares; another clock cannot be compared.
                custom = (kind.own_clock and bool(_active)
                          and _active[-1].clock is not time.monotonic_ns)
                plog = None if custom else _new_log(kind.name)
                if plog is not None:
                    hooks.make_recorded(self, plog)
            if custom:
                warnings.warn(f"poolscope: a {kind.title} is recorded only with the default "
                              "clock (time.monotonic_ns), so this one is not recorded",
                              stacklevel=2)
        if isinstance(self, hooks.mixin):
            hooks.init_recorded(self, original, args, kwargs, kind.size_attr)
        else:
            original(self, *args, **kwargs)

    return __init__


# (class, original __init__, recorded __init__) of every kind in the table: installed
# together, removed together.
_PATCHES = tuple(
    (kind.cls, kind.cls.__init__,
     _recorded_init_of(kind, importlib.import_module(kind.hooks).HOOKS, kind.cls.__init__))
    for kind in _kinds.KINDS)
_original_init = ThreadPool.__init__  # recorded_pool() initialises its pools with it


def _still(value):
    """A copy of a log (and what it holds) that the pool's later writes do not change.

    Arrays, lists and dicts are copied, each in one C-level call so a writer appending
    meanwhile is seen whole or not at all (as ``_build`` reads them), and log objects
    are copied field by field; anything else (numbers, strings, tuples, the clock, the
    lock) is shared, since it is never changed in place.
    """
    if isinstance(value, array):
        return value[:]
    if isinstance(value, list):
        return [_still(v) for v in value[:]]
    if isinstance(value, dict):
        return {k: _still(v) for k, v in list(value.items())}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        copied = copy.copy(value)
        for f in dataclasses.fields(value):
            setattr(copied, f.name, _still(getattr(value, f.name)))
        return copied
    return value


def _name(fn: object) -> str:
    """``time.monotonic``, ``<lambda>``, ``my_clock``: how a clock is named in errors."""
    qualname = getattr(fn, "__qualname__", None)
    if qualname is None:
        return repr(fn)
    module = getattr(fn, "__module__", None)
    # Module-level functions of the stdlib read best with their module (time.time);
    # a learner's own function reads best alone.
    return f"{module}.{qualname}" if module in ("time", "os") else qualname.rsplit(".", 1)[-1]


def check_clock(clock: object) -> None:
    """Refuse a clock that cannot time a recording, before anything is patched.

    It is called twice: it must return integer nanoseconds (as ``time.monotonic_ns``
    does), and must not go back.

        >>> check_clock(time.monotonic)
        Traceback (most recent call last):
        TypeError: clock must return integer nanoseconds like time.monotonic_ns;
        time.monotonic returned a float
    """
    if not callable(clock):
        raise TypeError(f"clock must be a callable returning nanoseconds, got {clock!r}")
    first = clock()
    # The logs store clock readings in int64 arrays: a float fails deep in a worker.
    if isinstance(first, bool) or not isinstance(first, int):
        got = "None" if first is None else f"a {type(first).__name__}"
        raise TypeError("clock must return integer nanoseconds like time.monotonic_ns; "
                        f"{_name(clock)} returned {got}")
    second = clock()
    if isinstance(second, bool) or not isinstance(second, int) or second < first:
        raise ValueError(f"clock must never go back: {_name(clock)} returned {first!r}, "
                         f"then {second!r}")


def _patch(on: bool) -> None:
    for cls, original, recorded in _PATCHES:
        cls.__init__ = recorded if on else original  # type: ignore[method-assign]


class Recording:
    """A recording of the pools (every kind of ``_kinds.KINDS``) created while it is
    active.

    Use it as a context manager (``with poolscope.record() as trace``), or call
    :meth:`start` and :meth:`stop` (which returns the finished :class:`Trace`).
    """

    def __init__(self, clock: Clock | None = None, *, private: bool = False) -> None:
        if clock is not None:
            check_clock(clock)  # here, before anything is patched or started
        self.clock: Clock = clock or time.monotonic_ns
        self.state: State = "new"
        self._pools: list[PoolLog] = []
        self._watching: list[PoolLog] = []  # of _pools, those not released yet
        self.trace = Trace(live=self)
        self._start: int | None = None
        # Set by stop(): when the trace ends, and a still copy of the logs to build it from.
        self._end: int | None = None
        self._final: list[PoolLog] | None = None
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
        """Stop recording and freeze the trace; pools go on working unrecorded.

        Exception-safe: whatever interrupts it (Ctrl-C while the trace is built), the
        constructors are restored and the pools released; calling it again (or reading
        the trace) then finishes the freeze.
        """
        if self.state == "stopping":  # an earlier stop() was interrupted: finish it
            return self._freeze()
        if self.state != "recording":
            raise RuntimeError(f"this recording is {self.state}, not recording; nothing to stop")
        try:
            self._leave()
            self.state = "stopping"
            # What the trace will hold: the logs as they are now. A retry after an
            # interruption builds from this copy, so a pool another recording still
            # watches cannot bring its later work into this trace. Copied before the
            # pools are released: a task a worker takes after that is not logged, so
            # it would look "still queued".
            self._end = self.clock()
            self._final = [_still(plog) for plog in self._pools]
            return self._freeze()
        finally:
            self._leave()  # again: a Ctrl-C may have come before the first one ended
            if self.state == "recording":
                self.state = "stopping"
            self._release()

    def _leave(self) -> None:
        """Leave the active recordings (the last one out restores the constructors).
        Idempotent."""
        with _lock:
            if self in _active:
                _active.remove(self)
                if not _active:
                    _patch(False)

    def _release(self) -> None:
        """Stop watching this recording's pools; a pool nobody watches runs unrecorded.
        Idempotent: each pool is let go once."""
        while self._watching:
            plog = self._watching.pop()
            with plog._lock:
                plog.watchers -= 1
                if plog.watchers == 0:
                    plog.on = False

    def _freeze(self) -> Trace:
        from ._build import build

        assert self._start is not None
        if self._end is None:  # the clock was interrupted: the trace ends now
            self._end = self.clock()
        if self._final is None:
            self._final = [_still(plog) for plog in self._pools]
        # May raise (or be interrupted): the state stays "stopping", ready for a retry.
        data = build(self._final, self._start, self._end, self.clock,
                     still=True)  # _final is this recording's own copy: read it in place
        self.trace._freeze(data)
        self.state = "stopped"
        self._final = None  # the trace has it all now
        return self.trace

    def snapshot(self):
        """The raw material of the trace so far (used by :class:`Trace`).

        After an interrupted :meth:`stop` this finishes the freeze, so a trace read
        after Ctrl-C never takes in work done after its recording stopped.
        """
        from ._build import build

        if self.state == "stopping":
            return self._freeze().data()
        assert self._start is not None
        return build(self._pools, self._start, self.clock(), self.clock)

    def __enter__(self) -> Trace:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def record(clock: Clock | None = None) -> Recording:
    """Record every ThreadPool, process Pool, ThreadPoolExecutor and ProcessPoolExecutor
    created inside the ``with`` block.

    ``clock`` (for tests) is a callable returning monotonic integer nanoseconds, like
    ``time.monotonic_ns``; it is called twice at once to check that (see
    :func:`check_clock`).

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
    recording._watching.append(plog)
    pool = ThreadPool.__new__(ThreadPool)
    _pool.HOOKS.make_recorded(pool, plog)
    _pool.HOOKS.init_recorded(pool, _original_init, (processes, initializer, initargs), {},
                              "_processes")
    return pool
