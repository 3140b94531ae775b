"""Per-thread resources: a stand-in database that notes who makes and uses each
connection, and a text timeline that draws each worker's ``initializer``.

    >>> db = Database(connect_time=0, query_time=0)
    >>> conn = db.connect()
    >>> conn.execute("SELECT value FROM items WHERE id = ?", (7,)).fetchone()[0]
    70
    >>> conn.close()
    >>> [(c.made_in, c.used_in, c.closed_in) for c in db.made]
    [('MainThread', ['MainThread'], 'MainThread')]

:class:`Database` is a real SQLite file in a temporary directory (table ``items``: ``id``
0 to ``rows - 1``, ``value = id * 10``). Its connections are real ``sqlite3``
connections (so ``check_same_thread`` applies as in the standard library), except that
``connect()`` first waits ``connect_time`` seconds and each ``execute()`` waits
``query_time`` after it, like a database server across a network: SQLite itself opens
a file in well under a millisecond. Each connection notes the thread that made it, the
threads that ran its queries and the one that closed it, so that an exercise check can
judge what a learner's code really did.

:func:`setup_timeline` draws a trace's worker rows with their initializer (``i``); the
standard text timeline starts at the first submission and leaves initializers out.
"""

from __future__ import annotations

import math
import shutil
import sqlite3
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any

__all__ = ["Connection", "Database", "setup_timeline"]

MAX_SECONDS = 60.0  # most seconds for connect_time and query_time
MAX_ROWS = 1_000_000
MAX_COLUMNS = 20_000  # of the set-up timeline: a guard against a tiny tick on a long trace


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or not 0 <= value <= MAX_SECONDS:
        raise ValueError(f"{name} must be a number of seconds from 0 to {MAX_SECONDS:g}; "
                         f"got {value!r}")
    return float(value)


def _here() -> str:
    return threading.current_thread().name


class Connection(sqlite3.Connection):
    """A ``sqlite3`` connection that notes which threads make, use and close it.

    ``made_in``: the thread that made it; ``used_in``: the thread of each query that
    ran (a refused one is not noted: ``sqlite3`` checks the thread first);
    ``closed_in``: the thread that closed it, or None; ``close_refused_in``: the thread
    whose ``close()`` sqlite3 refused (made in another thread), or None.
    Only ``execute()`` on the connection itself is noted (not a cursor's).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.made_in = _here()
        self.used_in: list[str] = []  # list.append is atomic: threads may share one
        self.closed_in: str | None = None
        self.close_refused_in: str | None = None
        self.query_time = 0.0

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        cursor = super().execute(sql, parameters)  # raises first if the thread is wrong
        self.used_in.append(_here())
        if self.query_time:
            time.sleep(self.query_time)  # the server's answer takes its time
        return cursor

    def close(self) -> None:
        try:
            super().close()
        except sqlite3.ProgrammingError:
            self.close_refused_in = _here()
            raise
        if self.closed_in is None:
            self.closed_in = _here()

    @property
    def closed(self) -> bool:
        return self.closed_in is not None

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return (f"<Connection {state}, made in {self.made_in}, "
                f"{len(self.used_in)} queries>")


class Database:
    """A stand-in for a database server (see the module's docstring).

    ``made`` lists every connection made so far, in order; clear it to count afresh.

        >>> db = Database(connect_time=0, query_time=0, rows=3)
        >>> with db.connect() as conn:  # commits, and does not close (sqlite3's rule)
        ...     conn.execute("SELECT count(*) FROM items").fetchone()[0]
        3
        >>> db.made[0].closed
        False
        >>> db.made[0].close()
    """

    def __init__(self, connect_time: float = 0.2, query_time: float = 0.1,
                 rows: int = 100) -> None:
        self.connect_time = _seconds(connect_time, "connect_time")
        self.query_time = _seconds(query_time, "query_time")
        if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= MAX_ROWS:
            raise ValueError(f"rows must be a whole number from 1 to {MAX_ROWS:,}; "
                             f"got {rows!r}")
        folder = tempfile.mkdtemp(prefix="poolscope-db-")
        # The folder goes when the Database does (or at exit): a learner never has to.
        self._cleanup = weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        self.path = Path(folder) / "items.db"
        setup = sqlite3.connect(self.path)
        try:
            with setup:  # commits
                setup.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, value INTEGER)")
                setup.executemany("INSERT INTO items VALUES (?, ?)",
                                  ((i, i * 10) for i in range(rows)))
        finally:
            setup.close()
        self.made: list[Connection] = []  # appended by any thread (atomic)

    def __repr__(self) -> str:
        return f"<poolscope Database: {len(self.made)} connections made>"

    def connect(self, **options: Any) -> Connection:
        """Wait ``connect_time`` seconds, then open a :class:`Connection` to the file.

        ``options`` go to ``sqlite3.connect`` (``check_same_thread=False``, ...)."""
        if "factory" in options:
            raise TypeError("connect() makes its own kind of connection: leave out factory=")
        time.sleep(self.connect_time)  # logging in to the server
        conn = sqlite3.connect(self.path, factory=Connection, **options)
        conn.query_time = self.query_time
        self.made.append(conn)
        return conn


# -- the timeline with initializers ---------------------------------------------------

def _cell(t: float, origin: float, tick: float) -> int:
    """The cell nearest to ``t`` (half a tick of jitter changes nothing)."""
    return math.floor((t - origin) / tick + 0.5)


def _symbol(index: int) -> str:
    return "0123456789abcdefghijklmnopqrstuvwxyz"[index] if 0 <= index < 36 else "#"


def _ruler(ncols: int, tick: float, pad: int) -> list[str]:
    labels, marks = "time (s)".ljust(pad), " " * pad
    for c in range(0, ncols, 5):
        labels = labels.ljust(pad + c) + f"{round(c * tick, 9):g}"
    marks += "".join("|" if c % 5 == 0 else "." for c in range(ncols))
    return [labels.rstrip(), marks.rstrip()]


def _rows(workers: list, tasks: list, origin: float, tick: float) -> list[dict[int, str]]:
    """One row of cells per worker: its initializer, then tasks packed in a fixed order
    (by start, then call and item), so which thread took which task does not matter."""
    rows: list[dict[int, str]] = []
    free: list[int] = []  # per row: the first cell after what is drawn on it
    for w in sorted(workers, key=lambda w: (w.init_started is None, w.init_started or 0.0,
                                            w.lane)):
        cells: dict[int, str] = {}
        end = 0
        if w.init_started is not None:
            start = _cell(w.init_started, origin, tick)
            stop = _cell(w.init_finished if w.init_finished is not None
                         else w.init_started, origin, tick)
            stop = max(stop, start + 1)
            cells.update({c: "i" for c in range(start, stop)})
            end = stop
        rows.append(cells)
        free.append(end)
    ran = sorted((t for t in tasks if t.started is not None),
                 key=lambda t: (_cell(t.started, origin, tick), t.call_id, t.index))
    for t in ran:
        start = _cell(t.started, origin, tick)
        stop = max(_cell(t.finished, origin, tick) if t.finished is not None else start + 1,
                   start + 1)
        fits = [r for r in range(len(rows)) if free[r] <= start]
        r = fits[0] if fits else min(range(len(rows)), key=free.__getitem__)
        rows[r].update({c: _symbol(t.index) for c in range(start, stop)})
        free[r] = max(free[r], stop)
    return rows


def setup_timeline(trace: Any, tick: float = 0.1) -> str:
    """The worker rows of each ThreadPool in ``trace``, with its initializer drawn as
    ``i``, from the moment the first initializer started (or, for a pool without one,
    from its creation).

        >>> from poolscope.trace import FINISHED, PoolInfo, Task, Trace, Worker
        >>> workers = [Worker(0, k, f"w{k}", 0.0, 0.0, 0.2) for k in range(2)]
        >>> tasks = [Task(0, "map", 0, i, f"w{i % 2}", i % 2, 0.0, 0.2 + 0.1 * (i // 2),
        ...               0.3 + 0.1 * (i // 2), FINISHED) for i in range(4)]
        >>> pools = [PoolInfo(0, "ThreadPool", 2, 0.0)]
        >>> print(setup_timeline(Trace.from_records(tasks, [], workers, pools)))
        time (s)  0
                  |...
        worker 0  ii02
        worker 1  ii13
        legend: 1 char = 0.1 s from the first initializer's start (or the pool's creation),
                i initializer, 0-9a-z item index

    Like the standard text timeline, each row is *a* worker: tasks are packed onto the
    rows in a fixed order, so the text does not change with which thread ran which task.
    """
    if isinstance(tick, bool) or not isinstance(tick, (int, float)) \
            or not math.isfinite(tick) or not tick > 0:
        raise ValueError(f"tick must be a positive number of seconds; got {tick!r}")
    pools = [p for p in getattr(trace, "pools", None) or [] if p.kind == "ThreadPool"]
    if not pools:
        return "no ThreadPool recorded"
    workers = [w for w in trace.workers if w.pool in {p.index for p in pools}]
    tasks = [t for t in trace.tasks if t.pool in {p.index for p in pools}]
    # Each pool starts when its first initializer starts (the creation of the threads
    # before it is not what the rows show), or at its creation if it has none.
    def began(pool: Any) -> float:
        starts = [w.init_started for w in workers
                  if w.pool == pool.index and w.init_started is not None]
        return min(starts) if starts else pool.created

    origin = min(began(p) for p in pools)
    ends = [t.finished if t.finished is not None else t.started for t in tasks
            if t.started is not None]
    ends += [w.init_finished if w.init_finished is not None else w.init_started
             for w in workers if w.init_started is not None]
    needed = _cell(max(ends, default=origin), origin, tick) + 1
    if needed > MAX_COLUMNS:  # checked before any cell is drawn
        raise ValueError(f"tick={tick!r} needs {needed} columns; pass a larger tick")
    lines: list[str] = []
    grids = []
    for pool in pools:
        mine = [w for w in workers if w.pool == pool.index]
        grids.append(_rows(mine, [t for t in tasks if t.pool == pool.index], origin, tick))
    ncols = max((max(r, default=-1) + 1 for g in grids for r in g), default=1)
    labels = [f"worker {k}" if len(pools) == 1 else f"pool {p.index} worker {k}"
              for p, g in zip(pools, grids) for k in range(len(g))]
    pad = max(len("time (s)"), *(len(x) for x in labels)) + 2
    lines += _ruler(ncols, tick, pad)
    rows = [r for g in grids for r in g]
    lines += [(label.ljust(pad) + "".join(r.get(c, " ") for c in range(ncols))).rstrip()
              for label, r in zip(labels, rows)]
    lines += [f"legend: 1 char = {tick:g} s from the first initializer's start (or the "
              "pool's creation),", "        i initializer, 0-9a-z item index"]
    return "\n".join(lines)
