"""Raw, append-only logs: the only thing the recording hot path touches; their
format, written down once here; and the reader of thread records.

A recorded pool owns one :class:`PoolLog`. Each worker thread appends to its own
:class:`WorkerLog`; each thread that calls into the pool (the caller, the result
handler running callbacks) appends to its own :class:`ThreadLog`. Objects such as
``Task`` are built from these arrays only when someone asks (see ``_build.py``).
A process pool's workers cannot write here: their records travel back to the parent,
where its result-handler thread, the only writer of those WorkerLogs, appends them
(see ``_procpool.py``).

Example:
    >>> log = PoolLog(clock=lambda: 0)
    >>> pos = log.thread_log().begin(CLOSE, -1)
    >>> log.thread_log().end(pos, OK)
    >>> list(log.thread_log().records)
    [269, -1, 0, 0]

The record format (every word an int64; times are ``clock()`` nanoseconds)
==========================================================================

=================  ==========================================  =======================
record             words                                       written by / read by
=================  ==========================================  =======================
ThreadLog call     ``word, job, t0, t1`` (THREAD_WORDS = 4);   :meth:`ThreadLog.add`,
                   ``word = code | status << STATUS_SHIFT |    ``begin``/``end``, and
                   item << ITEM_SHIFT`` (:func:`thread_code`); :func:`thread_code` /
                   code: index into KINDS; status: STATUSES    :func:`read_thread`
                   (PENDING until the call returns); item:
                   CANCEL only; ``job`` -1 if none; ``t1`` -1
                   while the thread is still in the call
WorkerLog task     ``job, i, n, t0`` (TASK_HEADER = 4), then   ``_worker.py``,
                   per item run: a lone ``stamp`` (the item    ``_procpool.py`` /
                   ran alone from the previous stamp) or       ``_streams.py``
                   ``-count, stamp`` (``count`` fast items
                   shared that span). ``n`` items (a chunk's
                   length, 1 for apply/imap); ``n ==
                   INPUT_ERROR``: the stand-in task that
                   re-raises the input iterable's exception
                   (one stamp). A failing item ends the task:
                   it stamps up to and including that item
WorkerLog member   ``job, ~i`` (a new job) or ``~i`` (the job  ``_worker.py`` /
                   of the record before): a fast one-item      ``_streams.py``
                   task started when the worker's previous
                   task ended, not timed (``~i`` < 0)
WorkerLog group    ``GROUP_END, stamp``: closes the open       ``_worker.py`` /
end                group of members; they share the span from  ``_streams.py``
                   the worker's previous stamp to ``stamp``
WorkerLog failure  ``(job, i, position of the failing item,    ``_worker.py``,
                   "Type: message", is BaseException)`` in     ``_procpool.py`` /
                   ``WorkerLog.failures`` (a list, not words)  ``_build.py``
=================  ==========================================  =======================

The worker writes its records inline (one ``fromlist`` or ``append`` each), not
through functions here: an extra call per task measured 1.2x slower on trivial tasks.
tests/core/test_streams.py writes records with the real writers and reads them back.

Thread safety: every array has exactly one writer (its own thread), and each record
is written with one ``array.fromlist`` call, which runs in C without releasing the GIL,
so a reader copying an array (``records[:]``, also one C call) sees whole records,
except possibly the last, which the reader treats as "in progress". No lock is
taken, so workers never contend with each other or with the caller.
(On a free-threaded build this reasoning does not hold; see README.)
"""

from __future__ import annotations

import sys
import threading
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Clock = Callable[[], int]  # nanoseconds, monotonic

# Codes of ThreadLog records ``(code | status << 8 | item << 16, job, t0, t1)``; ``item``
# is used only by CANCEL (which item of an executor's map() was cancelled).
# Submissions: the index is the call's name in CALLS.
CALLS = (
    "apply",
    "apply_async",
    "map",
    "map_async",
    "imap",
    "imap_unordered",
    "starmap",
    "starmap_async",
)
APPLY, APPLY_ASYNC, MAP, MAP_ASYNC, IMAP, IMAP_UNORDERED, STARMAP, STARMAP_ASYNC = range(8)
BLOCKING = frozenset({APPLY, MAP, STARMAP})
# Waits, callbacks and pool events.
GET, WAIT, NEXT, CALLBACK, ERROR_CALLBACK, CLOSE, TERMINATE, JOIN, EXIT = range(8, 17)
KINDS = CALLS + (
    "get",
    "wait",
    "next",
    "callback",
    "error_callback",
    "close",
    "terminate",
    "join",
    "exit",
)
# Added later, appended so that the codes above keep their numbers: the
# ThreadPoolExecutor's calls, waits and events, and a process pool's input errors
# (logged by its task-handler thread, since its workers cannot write here).
SUBMIT, EXECUTOR_MAP, SHUTDOWN, RESULT, EXCEPTION, CANCEL, INPUT_ERROR_EVENT = range(17, 24)
KINDS += (
    "submit",
    "map",  # ThreadPoolExecutor.map: submits every item, then returns (not blocking)
    "shutdown",
    "result",
    "exception",
    "cancel",  # a successful Future.cancel() (also by shutdown(cancel_futures=True))
    "input error",
)
SUBMISSIONS = frozenset(range(len(CALLS))) | {SUBMIT, EXECUTOR_MAP}

# A ThreadLog record's first word: code (8 bits), status (8 bits), item (the rest).
THREAD_WORDS = 4  # word, job, t0, t1
CODE_MASK = 0xFF
STATUS_SHIFT = 8  # the status, stored in bits 8-15 once the call has returned
ITEM_SHIFT = 16  # where a record's item number starts in its code word

# Status, stored in the high bits of the code once the call has returned.
PENDING, OK, RAISED, TIMEOUT, STOP = range(5)
STATUSES = (None, "ok", "raised", "timeout", "stop")

TASK_HEADER = 4  # a WorkerLog task record's header: job, i, n, t0

# A WorkerLog record is ``job, i, n, t0`` followed by one timestamp per item run.
# n > 0: the task runs n items (n = chunk length, 1 for apply and imap(chunksize=1)).
# n == INPUT_ERROR: the pool's stand-in task that re-raises an exception the input
# iterable raised (CPython's ``_helper_reraises_exception``); it has one timestamp.
INPUT_ERROR = -1
# Fast one-item tasks that a worker takes straight from the queue, without waiting, are
# run in groups between two clock reads (see _worker.py): each is logged as the short
# record ``job, ~i`` (a negative second field: "started when the worker's previous task
# ended", no stamp), or just ``~i`` when its job is that of the worker's previous task,
# and the group is closed by ``GROUP_END, stamp``. The group's tasks share the span
# from the worker's previous stamp to that one evenly. (~i is never GROUP_END.)
GROUP_END = -(2**63)


def thread_code(code: int, status: int = PENDING, item: int = 0) -> int:
    """The first word of a ThreadLog record.

    >>> thread_code(CANCEL, OK, item=3) == CANCEL | OK << 8 | 3 << 16
    True
    """
    return code | status << STATUS_SHIFT | item << ITEM_SHIFT


@dataclass
class ThreadRecords:
    """The whole records of one ThreadLog as columns (numpy arrays, row r = record r);
    ``code`` and ``status`` are uint8."""

    word: Any
    code: Any
    status: Any
    job: Any
    t0: Any
    t1: Any

    def item(self, r: int) -> int:
        """Record ``r``'s item number (CANCEL records)."""
        return int(self.word[r]) >> ITEM_SHIFT

    def __len__(self) -> int:
        return len(self.code)


def read_thread(records: Any) -> ThreadRecords:
    """The records of a ThreadLog array (or a copy of one, or any int64 buffer), as
    columns; a last record cut short (still being written) is left out. Columns are
    views of ``records`` where they can be: 2,000,000 ``next()`` calls are common.

    >>> log = ThreadLog("MainThread", clock=lambda: 7)
    >>> log.end(log.begin(GET, 3), RAISED)
    >>> rec = read_thread(log.records)
    >>> [KINDS[rec.code[0]], STATUSES[rec.status[0]], int(rec.job[0]), int(rec.t1[0])]
    ['get', 'raised', 3, 7]
    """
    import numpy as np

    flat = np.frombuffer(records, dtype=np.int64)
    rec = flat[:len(flat) // THREAD_WORDS * THREAD_WORDS].reshape(-1, THREAD_WORDS)
    word, job, t0, t1 = (rec[:, k] for k in range(THREAD_WORDS))
    if sys.byteorder == "little" and CODE_MASK == 0xFF and STATUS_SHIFT == 8:
        # The code and status bytes read in place: no pass over the words.
        b = rec.view(np.uint8).reshape(len(rec), THREAD_WORDS * 8)
        code, status = b[:, 0], b[:, 1]
    else:
        code = (word & CODE_MASK).astype(np.uint8)
        status = ((word >> STATUS_SHIFT) & 0xFF).astype(np.uint8)
    return ThreadRecords(word, code, status, job, t0, t1)


def describe(exc: BaseException) -> str:
    """``"ValueError: bad item"``; never raises, even for a broken ``__str__``.

    >>> describe(KeyError("k"))
    "KeyError: 'k'"
    """
    name = type(exc).__qualname__
    try:
        text = str(exc)
    except Exception:  # a failing __str__ must not break the worker loop
        text = "<exception str() failed>"
    return f"{name}: {text}" if text else name


@dataclass
class ThreadLog:
    """Records of one thread's calls into one pool (caller, result handler, ...)."""

    name: str
    clock: Clock
    records: array = field(default_factory=lambda: array("q"))

    def add(self, code: int, job: int, t0: int, t1: int = -1) -> int:
        """Append a record and return its position, for :meth:`end`."""
        records = self.records
        records.fromlist([code, job, t0, t1])  # faster than extend(tuple)
        return len(records) - THREAD_WORDS

    def begin(self, code: int, job: int) -> int:
        """Start a record that :meth:`end` completes; ``t1 == -1`` means "still in it"."""
        return self.add(code, job, self.clock())

    def end(self, pos: int, status: int) -> None:
        # Only the owning thread writes here, so the position is still its record.
        # The status goes in first: a reader trusts it only once t1 is set.
        records = self.records
        records[pos] |= status << STATUS_SHIFT
        records[pos + 3] = self.clock()


@dataclass
class WorkerLog:
    """What one worker thread ran; written only by that worker."""

    lane: int
    name: str
    started: int  # thread started; a process: when it began running its worker loop
    records: array = field(default_factory=lambda: array("q"))
    # (job, i, position of the failing item in the task, "Type: message", is_base)
    failures: list[tuple[int, int, int, str, bool]] = field(default_factory=list)
    init_started: int | None = None
    init_finished: int | None = None
    init_error: str | None = None
    exited: int | None = None


@dataclass
class PoolLog:
    """Everything recorded about one pool. Holds no reference to the pool itself,
    so recording never keeps a pool alive (its ResourceWarning still fires)."""

    clock: Clock
    kind: str = "ThreadPool"
    size: int | None = None
    created: tuple[int, int] | None = None  # constructor called, returned
    creator: str = ""
    # Set to False when the last recording that watches this pool stops: from then on
    # the pool runs unrecorded (one attribute check per task).
    on: bool = True
    watchers: int = 0
    workers: list[WorkerLog] = field(default_factory=list)
    threads: dict[int, ThreadLog] = field(default_factory=dict)
    # job -> [length or None, chunksize]; map-family calls and imap/imap_unordered.
    calls: dict[int, list[int | None]] = field(default_factory=dict)
    # Process pools only. (job, i, "Type: message") of tasks the task handler could
    # not send to a worker (pickling failed), written by that thread only; and of
    # results a worker could not send back (MaybeEncodingError), written by the
    # result handler only.
    unsent: list[tuple[int, int, str]] = field(default_factory=list)
    unreturned: list[tuple[int, int, str]] = field(default_factory=list)
    # Guards only the creation of new per-thread logs and lanes (rare, never per task).
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # Per-thread cache of thread_log(): a threading.local lookup is cheaper than
    # get_ident() plus a dict lookup, and this runs on every submit and get().
    _tls: threading.local = field(default_factory=threading.local, repr=False)

    def thread_log(self) -> ThreadLog:
        """The calling thread's own log for this pool, created on first use."""
        try:
            return self._tls.log
        except AttributeError:
            pass
        with self._lock:
            log = self.threads.setdefault(
                threading.get_ident(), ThreadLog(threading.current_thread().name, self.clock))
        self._tls.log = log
        return log

    def new_worker(self) -> WorkerLog:
        """Register the calling thread as a worker and give it the next lane."""
        return self.add_worker(threading.current_thread().name)

    def add_worker(self, name: str) -> WorkerLog:
        """Give a worker that another thread is starting (an executor's thread, a
        worker process) the next lane, timed now."""
        with self._lock:
            log = WorkerLog(len(self.workers), name, self.clock())
            self.workers.append(log)
        return log
