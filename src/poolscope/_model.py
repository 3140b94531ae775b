"""The trace data model: what a recording found, as plain frozen records.

The bottom layer of poolscope: it imports nothing of poolscope but the column store.
Summaries, JSON and renderers take this data; :mod:`poolscope.trace` puts a facade on top.

    >>> t = TraceBase.from_records(
    ...     tasks=[Task(pool=0, call="map", call_id=0, index=0, worker="w0", lane=0,
    ...                 submitted=0.0, started=0.0, finished=0.2, outcome=FINISHED)],
    ...     workers=[Worker(pool=0, lane=0, name="w0", started=0.0)],
    ...     pools=[PoolInfo(index=0, kind="ThreadPool", size=1, created=0.0)])
    >>> t.tasks[0].duration
    0.2

Times are float seconds from the start of the recording (one monotonic clock);
``None`` where something did not happen (yet).

A frozen trace keeps its tasks and events as columns (:class:`TaskTable`,
:class:`EventTable`): ``trace.tasks`` is a sequence that makes a ``Task`` when one is
asked for, so a trace of millions of tasks stays small (see ``_columns.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ._columns import Table

if TYPE_CHECKING:
    from .recording import Recording

# Task outcomes (plain strings, so they print and compare simply).
FINISHED: Final = "finished"
FAILED: Final = "failed"  # raised; or, in a process pool, could not be pickled (see note)
RUNNING: Final = "running"  # started, not finished when the trace was taken
ABANDONED: Final = "abandoned"  # running when terminate() was called; result discarded
# Process pools only: running in a worker process when terminate() killed it. Its
# ``finished`` is when terminate() returned (the process was dead by then).
KILLED: Final = "killed"
NEVER_STARTED: Final = "never started"
OUTCOMES: Final = (FINISHED, FAILED, RUNNING, ABANDONED, KILLED, NEVER_STARTED)

# Why a task never started (Task.note).
QUEUED: Final = "still queued"  # when the trace was taken
TERMINATED: Final = "dropped by terminate()"
CHUNK_FAILED: Final = "skipped: an earlier item of its chunk raised"
# ThreadPoolExecutor: which call cancelled it.
CANCELLED: Final = "cancelled by future.cancel()"
CANCELLED_BY_SHUTDOWN: Final = "cancelled by shutdown(cancel_futures=True)"
CANCELLED_BY_MAP: Final = "cancelled: map()'s result iterator ended early"
BROKEN: Final = "dropped: an initializer failed (the executor is broken)"
# Process pools: the pool learns a chunk's item times only when the whole chunk ends,
# so of a chunk killed by terminate() only its first unreported item has a start.
KILLED_WITH_CHUNK: Final = "killed with its chunk; whether it had started is unknown"
NOT_SENT: Final = "never sent to a worker process: pickling the task failed"
RESULT_NOT_SENT: Final = "its result could not be pickled back to the parent"

# What a record made by hand (tests, examples) means when it does not state the facts;
# recorded traces and JSON files always state them. The pool-kind table is
# ``_kinds.KINDS``; tests/core/test_kinds.py checks these agree with it.
PROCESS_KINDS: Final = frozenset({"Pool", "ProcessPoolExecutor"})
# Events during which the thread waits for the pool, "map" taken as ThreadPool.map.
BLOCKING_KINDS: Final = frozenset({"apply", "map", "starmap", "get", "wait", "next", "join",
                                   "result", "exception", "shutdown"})


@dataclass(frozen=True, slots=True)
class Task:
    """One task item: an ``apply``, or one item of a ``map``/``imap``/``starmap``; for a
    ThreadPoolExecutor a ``submit``, or one item of its ``map``.

    ``outcome`` is one of OUTCOMES: finished, failed (``error`` says why), running,
    abandoned (a thread running when terminate() was called: it runs on, its result is
    discarded), killed (a process running when terminate() killed it; a task whose
    result had not reached the parent by then counts as killed too), never started
    (``note`` says why: still queued, dropped by terminate(), skipped after an earlier
    item of its chunk raised, cancelled and by what, ...).
    """

    pool: int  # index into Trace.pools
    call: str  # "apply", "map_async", "submit", ...
    call_id: int  # which call of the trace, numbered in order of submission
    index: int  # the item's position in the call's input
    worker: str | None  # worker thread's (or process's) name
    lane: int | None  # the worker's lane in its pool (0, 1, ...)
    submitted: float
    started: float | None
    finished: float | None
    outcome: str
    error: str | None = None  # "ValueError: bad item" for failed tasks
    note: str | None = None  # why it never started
    chunk: int | None = None  # the chunk it ran in (map family, imap with chunksize > 1)
    caller: str = ""  # the thread that submitted it
    # False for an item faster than 10 us run in a group of such items between two
    # clock reads (a clock read costs more than such an item): the group's measured
    # span is shared evenly by its items. See _worker.FAST_NS.
    measured: bool = True

    @property
    def duration(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started

    @property
    def wait(self) -> float | None:
        """Time spent queued: submitted -> started."""
        return None if self.started is None else self.started - self.submitted


@dataclass(frozen=True, slots=True)
class Event:
    """Something a thread did: a blocking call, get/wait/next, a callback, close, ...;
    for a ThreadPoolExecutor also submit, map, result/exception waits, cancel and
    shutdown.

    ``end`` is None while it is still going on; ``status`` is "ok", "raised",
    "timeout", "stop" (StopIteration) or None while going on.
    """

    kind: str
    pool: int
    thread: str
    start: float
    end: float | None
    status: str | None
    call_id: int | None = None
    # A fact, not a kind name: the thread was blocked waiting for the pool (an apply,
    # a ThreadPool's map, get, result, join, shutdown, ...; an executor's map only
    # submits). None (a record made by hand) means BLOCKING_KINDS decides.
    blocking: bool = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.blocking is None:
            object.__setattr__(self, "blocking", self.kind in BLOCKING_KINDS)


@dataclass(frozen=True, slots=True)
class Worker:
    """A worker thread (or process): a lane of the timeline. ``exited`` is None while
    it runs, and for a process killed by terminate()."""

    pool: int
    lane: int
    name: str
    started: float
    init_started: float | None = None
    init_finished: float | None = None
    init_error: str | None = None
    exited: float | None = None


@dataclass(frozen=True, slots=True)
class PoolInfo:
    index: int
    kind: str  # a display name: "ThreadPool", "Pool" (the process pool), ... (_kinds)
    size: int
    created: float
    creator: str = ""
    # A fact, not a kind name: the workers are processes. None (a record made by
    # hand) means PROCESS_KINDS decides.
    process: bool = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.process is None:
            object.__setattr__(self, "process", self.kind in PROCESS_KINDS)


class TaskTable(Table):
    """The tasks of a trace as columns: a read-only sequence of :class:`Task`."""

    record = Task
    noun = "tasks"
    kinds = {"pool": "int", "call": "str", "call_id": "int", "index": "int",
             "worker": "optstr", "lane": "optint", "submitted": "float",
             "started": "optfloat", "finished": "optfloat", "outcome": "str",
             "error": "optstr", "note": "optstr", "chunk": "optint", "caller": "str",
             "measured": "bool"}


class EventTable(Table):
    """The events of a trace as columns: a read-only sequence of :class:`Event`."""

    record = Event
    noun = "events"
    kinds = {"kind": "str", "pool": "int", "thread": "str", "start": "float",
             "end": "optfloat", "status": "optstr", "call_id": "optint", "blocking": "bool"}


@dataclass(frozen=True, slots=True)
class TraceData:
    """All records of a trace. ``tasks`` and ``events`` may be given as lists; they
    are kept as a :class:`TaskTable` and an :class:`EventTable`."""

    tasks: TaskTable = field(default_factory=list)  # type: ignore[assignment]
    events: EventTable = field(default_factory=list)  # type: ignore[assignment]
    workers: list[Worker] = field(default_factory=list)
    pools: list[PoolInfo] = field(default_factory=list)
    duration: float = 0.0  # from the recording's start to when it was taken

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", TaskTable.from_records(self.tasks))
        object.__setattr__(self, "events", EventTable.from_records(self.events))


class TraceBase:
    """The data of what a recording saw: live while recording (each access takes a
    fresh look), frozen afterwards or when loaded from JSON. Renderers and summaries
    take one of these; :class:`poolscope.trace.Trace` adds the thin methods that call
    them.

    Attributes: ``tasks``, ``events``, ``workers``, ``pools``, ``duration``.

        >>> TraceBase.from_records().duration
        0.0
    """

    def __init__(self, data: TraceData | None = None, *, live: Recording | None = None):
        self._data = data
        self._live = live
        self._was_live = False  # a snapshot's: whether the trace it was taken of was live

    # -- data ------------------------------------------------------------------------
    @classmethod
    def from_records(cls, tasks: Iterable[Task] = (), events: Iterable[Event] = (),
                     workers: Iterable[Worker] = (), pools: Iterable[PoolInfo] = (),
                     duration: float | None = None) -> Any:
        """A frozen trace from records (tests, synthetic examples)."""
        data = TraceData(TaskTable.from_records(tasks), EventTable.from_records(events),
                         list(workers), list(pools))
        if duration is None:
            duration = _latest(data)
        return cls(TraceData(data.tasks, data.events, data.workers, data.pools, duration))

    def _freeze(self, data: TraceData) -> None:
        self._data = data
        self._live = None

    @property
    def live(self) -> bool:
        """True while the recording is still going on (for a snapshot: when it was
        taken)."""
        if self._live is None:
            return self._was_live
        return self._live.state == "recording"

    def snapshot(self) -> Any:
        """One consistent, frozen look at this trace, of the same class, that remembers
        whether the trace was live: to hand to several renderers.

            >>> TraceBase.from_records().snapshot().live
            False
        """
        live = self.live
        snap = type(self)(self.data())
        snap._was_live = live
        return snap

    def data(self) -> TraceData:
        """All records at once (one consistent look, for renderers of a live trace)."""
        if self._live is not None:
            if self._live.state == "new":
                return TraceData()
            return self._live.snapshot()
        assert self._data is not None
        return self._data

    @property
    def tasks(self) -> TaskTable:
        """The tasks, a sequence of :class:`Task` (made when accessed)."""
        return self.data().tasks

    @property
    def events(self) -> EventTable:
        """The events, a sequence of :class:`Event` (made when accessed)."""
        return self.data().events

    @property
    def workers(self) -> list[Worker]:
        return self.data().workers

    @property
    def pools(self) -> list[PoolInfo]:
        return self.data().pools

    @property
    def duration(self) -> float:
        return self.data().duration

    def count(self, outcome: str | None = None, call: str | None = None) -> int:
        """Number of tasks, optionally with that outcome and/or from that call."""
        tasks = self.tasks
        if outcome is None and call is None:
            return len(tasks)
        import numpy as np

        hit = np.ones(len(tasks), dtype=bool)
        if outcome is not None:
            hit &= tasks.mask("outcome", outcome)
        if call is not None:
            hit &= tasks.mask("call", call)
        return int(hit.sum())

    def __repr__(self) -> str:
        d = self.data()
        state = "live" if self.live else "frozen"
        return (f"<poolscope.Trace {state}: {len(d.tasks)} tasks, {len(d.workers)} workers, "
                f"{len(d.pools)} pools>")

def _latest(data: TraceData) -> float:
    """The latest time in ``data``'s tasks and events (0.0 if none)."""
    import numpy as np

    parts = [data.tasks.floats(n) for n in ("submitted", "started", "finished")]
    parts += [data.events.floats(n) for n in ("start", "end")]
    times = np.concatenate(parts) if parts else np.zeros(0)
    times = times[~np.isnan(times)]
    return float(times.max()) if len(times) else 0.0
