"""Checks for the exercises of ``11-Per-Thread-Resources.ipynb``.

    >>> ok = ex11_1(10, 4)
    Exercise 11.1 - How many connections?: solved!
      one per task (10), and one per worker thread, made as the pool starts, whether ...
    >>> ex11_1(10, 2)
    Exercise 11.1 - How many connections?: not solved yet.
      per_thread is not right yet
      expected: 4
      got:      2
      hint: the initializer runs in every worker thread as the pool starts, whether or ...
    False

Exercises 11.2 and 11.3 judge what the learner's cell did: the trace that
``%%timeline --out NAME`` recorded (the pool's workers, their initializers, the tasks)
and the stand-in database's notes on each connection (the thread that made it, the
threads that queried through it, the thread that closed it). Thread names and counts,
never durations: a loaded machine cannot change the verdict.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..per_thread import Database
from . import NotYet, exercise, expect, expect_true
from ._traces import recorded_tasks, whole

# -- 11.1 --------------------------------------------------------------------------------

TASKS_11_1, WORKERS_11_1 = 10, 4


@exercise("11.1", "How many connections?")
def ex11_1(per_task: Any, per_thread: Any) -> str:
    got_task = whole(per_task, "per_task", "7")
    got_thread = whole(per_thread, "per_thread", "7")
    expect(got_task, TASKS_11_1, message="per_task is not right yet",
           hint="lookup_own connects inside the task, so every one of the 10 tasks makes "
                "its own connection, whichever worker runs it")
    if got_thread == 2:
        hint = ("the initializer runs in every worker thread as the pool starts, whether or "
                "not that worker then gets a task")
    elif got_thread == 1:
        hint = "the initializer runs once per worker thread, not once per pool"
    else:
        hint = "ThreadPool(4) starts 4 worker threads; each runs the initializer once"
    return expect(got_thread, WORKERS_11_1, message="per_thread is not right yet", hint=hint,
                  explain="one per task (10), and one per worker thread, made as the pool "
                          "starts, whether or not the worker gets a task (4).")


# -- what 11.2 and 11.3 look at ------------------------------------------------------------

EXPECTED = [x * 10 for x in range(9)]  # both map lookup over range(9)

def _connections(db: Any) -> list:
    if not isinstance(db, Database):
        raise NotYet("db should be the notebook's stand-in database (db = Database())",
                     hint="run the cells at the top of the notebook, then the answer cell",
                     show=False)
    return list(db.made)


def _pool(trace: Any, name: str) -> tuple[list, dict]:
    """``(tasks, workers)`` of the ThreadPools in ``trace``: workers by thread name."""
    tasks = recorded_tasks(trace, name)
    pools = {p.index for p in trace.pools if p.kind == "ThreadPool"}
    if not pools:
        raise NotYet("your cell made no ThreadPool", hint="pool = ThreadPool(3, ...)",
                     show=False)
    workers = {w.name: w for w in trace.workers if w.pool in pools}
    return [t for t in tasks if t.pool in pools], workers


_SAME_THREAD = "can only be used in that same thread"
_NO_ATTRIBUTE = "has no attribute"
_CLOSED = "closed database"


def _failure_hint(error: str, initializer: bool) -> str:
    """What a task's exception says about the cell's mistake."""
    if _SAME_THREAD in error:
        if initializer:
            return ("each worker's initializer made a connection, but the tasks used one "
                    "made in another thread: keep each thread's connection in an attribute "
                    "of one threading.local() (local.conn = db.connect()), not in a global "
                    "variable")
        return ("the tasks used a connection made in another thread (the caller's?): "
                "sqlite3 refuses that. Give each worker thread its own connection, made in "
                "that thread, by an initializer: ThreadPool(3, initializer=...)")
    if _NO_ATTRIBUTE in error:
        if initializer:
            return ("the tasks read an attribute of a threading.local that their thread "
                    "never set: make the threading.local() once, at the top level of the "
                    "cell (not inside a function), and set its attribute in the initializer")
        return ("nothing set the threading.local's attribute in the worker threads: pass "
                "the initializer to the pool: ThreadPool(3, initializer=...)")
    if _CLOSED in error:
        return ("a connection was closed while tasks still needed it: close them only "
                "after pool.close() and pool.join()")
    return "make each task return lookup(...) through its own thread's connection"


def _failed(tasks: list, workers: dict) -> NotYet | None:
    failed = [t for t in tasks if t.outcome == "failed"]
    if not failed:
        return None
    # sqlite3's message goes on with the two threads' ids: the first sentence says it.
    error = (failed[0].error or "an exception").split(". ")[0]
    initializer = any(w.init_started is not None for w in workers.values())
    return NotYet(f"{len(failed)} of {len(tasks)} tasks raised, the first {error}",
                  hint=_failure_hint(error, initializer), show=False)


def _shared(conns: list, workers: dict, tasks: list) -> NotYet | None:
    """A connection the pool's workers queried through that is not their own. Queries
    that ran concurrently through one connection can fail or return another's rows
    (measured on 3.12 and 3.13): the failures are named too, as evidence."""
    failed = [t for t in tasks if t.outcome == "failed"]
    also = (f" (and {len(failed)} of {len(tasks)} tasks raised, the first "
            f"{(failed[0].error or 'an exception').split('. ')[0]})" if failed else "")
    for c in conns:
        users = set(c.used_in)
        if users & set(workers) and users != {c.made_in}:
            if c.made_in in workers:  # each initializer overwrote one shared variable
                return NotYet(f"one connection, made by one worker's initializer, served "
                              f"queries in {len(users)} threads: the threads share it{also}",
                              hint="each initializer stored its connection in the same "
                                   "variable, so the tasks used whichever came last: store "
                                   "it in an attribute of one threading.local() instead",
                              show=False)
            return NotYet(f"one connection, made in {c.made_in}, served queries in "
                          f"{len(users)} threads: the threads share it{also}",
                          hint="check_same_thread=False only turns sqlite3's check off: "
                               "the threads still share one connection, and its one "
                               "transaction. Give each worker thread its own, made by an "
                               "initializer and kept in a threading.local()", show=False)
    return None


def _problem(tasks: list, workers: dict, conns: list) -> NotYet | None:
    """The first thing wrong with what the tasks did: a shared connection (whatever the
    tasks then raised), or a task's exception."""
    return _shared(conns, workers, tasks) or _failed(tasks, workers)


def _stub_note(results: Any, trace: Any, db: Any = None) -> str | None:
    """While results is still ``...``: why the cell stopped, if its tasks raised."""
    try:
        tasks, workers = _pool(trace, "trace")
        conns = list(db.made) if isinstance(db, Database) else []
        problem = _problem(tasks, workers, conns)
    except NotYet:
        return None
    if problem is None:
        return None
    return (f"your cell stopped before it set results: {problem.message}.\n"
            f"  hint: {problem.hint}")


def _judge(results: Any, trace: Any, db: Any, name: str, *, initializer: bool,
           task: str) -> list:
    """What 11.2 and 11.3 share: every task ran, each worker thread queried through one
    connection of its own, made once. Returns the workers' connections."""
    tasks, workers = _pool(trace, name)
    conns = _connections(db)
    expect_true(tasks, "the pool ran no tasks", hint=f"results = pool.map({task}, range(9))")
    inits = [w for w in workers.values() if w.init_started is not None]
    if initializer and not inits:
        per = Counter(c.made_in for c in conns if c.made_in in workers)
        how = ("the tasks made their own connections" if per else
               "no worker thread made a connection")
        raise NotYet(f"the pool has no initializer: {how}",
                     hint="this exercise asks for an initializer that connects into the "
                          "threading.local; pass it to the pool: ThreadPool(3, "
                          "initializer=connect_to, initargs=(db,))",
                     show=False)
    problem = _problem(tasks, workers, conns)
    if problem is not None:
        raise problem
    mine = [c for c in conns if c.made_in in workers]
    per_thread = Counter(c.made_in for c in mine)
    most = max(per_thread.values(), default=0)
    if most > 1:
        where = ("in the initializer and again in the tasks" if inits
                 else "in the tasks")
        raise NotYet(f"{len(mine)} connections for {len(tasks)} tasks on {len(workers)} "
                     f"threads: a worker thread connected {most} times, {where}",
                     hint="connect once per thread, in the initializer, into an attribute "
                          "of a threading.local(); the tasks only use it", show=False)
    ran_in = {t.worker for t in tasks}
    used = [c for c in mine if c.used_in]
    queries = sum(len(c.used_in) for c in used)
    expect_true(used and queries >= len(tasks) and ran_in <= {c.made_in for c in used},
                f"the tasks made {queries} queries through the workers' own connections, "
                f"for {len(tasks)} tasks",
                hint=f"each task should query through its own thread's connection: "
                     f"{task}(x) returns lookup(..., x)")
    expect(results, EXPECTED, message="results is not right yet",
           hint=f"results = pool.map({task}, range(9)), in input order")
    return mine


# -- 11.2 --------------------------------------------------------------------------------

@exercise("11.2", "An initializer with threading.local", stub_note=_stub_note)
def ex11_2(results: Any, trace: Any, db: Any) -> str:
    _, workers = _pool(trace, "ex11_2_trace")
    mine = _judge(results, trace, db, "ex11_2_trace", initializer=True, task="value_of")
    return (f"{len(mine)} connections for {len(workers)} worker threads, each made once by "
            "the initializer and used only in its own thread.")


# -- 11.3 --------------------------------------------------------------------------------

@exercise("11.3", "Fix a shared connection", stub_note=_stub_note)
def ex11_3(results: Any, trace: Any, db: Any) -> str:
    _, workers = _pool(trace, "ex11_3_trace")
    mine = _judge(results, trace, db, "ex11_3_trace", initializer=False, task="fetch")
    refused = [c for c in mine if not c.closed and c.close_refused_in]
    if refused:
        raise NotYet(f"sqlite3 refused to close a connection from "
                     f"{refused[0].close_refused_in}: it was made in a worker thread",
                     hint="make them with db.connect(check_same_thread=False): safe here, "
                          "as each is still used by one thread, and closed only after "
                          "join()", show=False)
    still_open = [c for c in mine if not c.closed]
    expect_true(not still_open, f"{len(still_open)} of the {len(mine)} connections were "
                "left open", hint="keep a list of what the initializer makes, then after "
                "pool.close() and pool.join() close each")
    return (f"{len(mine)} connections for {len(workers)} worker threads, each used in its "
            "own thread and closed once the workers were done.")

