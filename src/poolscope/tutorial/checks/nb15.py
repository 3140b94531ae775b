"""Checks for the exercises of ``15-Process-Pools.ipynb``.

    >>> ok = ex15_3(0, 2)
    Exercise 15.3 - What terminate() stops: solved!
      the processes were killed mid-task; the two running threads ran their full 0.5 s.
    >>> ex15_4({"a": "Pool", "b": "ThreadPool", "c": "ThreadPool"})
    Exercise 15.4 - Pick the pool: not solved yet.
      job b: not the best fit
      hint: asyncio's loop.run_in_executor() and asyncio.wrap_future() take an executor and its futures
    False

Exercises 15.1 and 15.2 look at what the learner's cell did, through the trace that
``%%timeline --out NAME`` recorded: which kind of pool ran the tasks, in which kind of
worker process (``SpawnPoolWorker``, ``ForkPoolWorker``, ...), and whether each worker
that ran a task ran an initializer first. None of it depends on how long anything took.
"""

from __future__ import annotations

from typing import Any

from ...trace import TraceData
from . import NotYet, exercise, expect, expect_true
from ._feedback import shown
from ._traces import as_list, trace_data, whole


def _process_pools(data: TraceData, keep: str) -> set[int]:
    """The process pools the cell ran, or NotYet saying what it ran instead."""
    pools = {p.index for p in data.pools if p.process}
    if not pools:
        if data.pools:  # only thread pools
            raise NotYet("your cell ran a thread pool", show=False,
                         hint=f"the task is to keep the process pool: {keep}")
        raise NotYet("your cell ran no process pool", show=False,
                     hint=f"keep the line {keep}")
    return pools


# -- 15.1 -------------------------------------------------------------------------------

SETTING_15_1 = "verbose"
_INIT = ('give each worker process the setting as it starts: spawn.Pool(2, '
         'initializer=set_state, initargs=("verbose",))')


@exercise("15.1", "A setting the workers never saw")
def ex15_1(states: Any, trace: Any) -> str:
    data = trace_data(trace)
    pools = _process_pools(data, "with spawn.Pool(2, ...) as pool")
    tasks = [t for t in data.tasks if t.pool in pools]
    expect_true(tasks, "the process pool ran no tasks",
                hint="states = pool.map(state, range(4)), inside the with block")
    # ForkPoolWorker-N (a Pool), ForkProcess-N (a ProcessPoolExecutor); not ForkServer...
    forked = sorted({t.worker for t in tasks
                     if (t.worker or "").startswith(("ForkPool", "ForkProcess"))})
    expect_true(not forked, "your pool forked this kernel: a fork worker is a copy of it, "
                "change included, but forking a process that runs threads (a kernel does) "
                "can deadlock, and fork is the default only up to 3.13 on Linux",
                hint=f"keep spawn.Pool(2), and {_INIT}")
    got = as_list(states, "states", '["verbose", "verbose", "verbose", "verbose"]')
    reads = sorted({str(x) for x in got})
    if any("initargs must be a tuple" in r for r in reads):
        raise NotYet("your initializer got the wrong arguments: " + reads[0], show=False,
                     hint='initargs is a tuple of arguments: initargs=("verbose",), with '
                          "the comma")
    if reads == ["as imported"]:
        raise NotYet("every task read 'as imported': a spawned worker imports "
                     "compare_workloads afresh, without this kernel's change", show=False,
                     hint=_INIT)
    if got != [SETTING_15_1] * 4:
        raise NotYet(f"the tasks read {', '.join(map(repr, reads))}; each of the 4 should "
                     f"read {SETTING_15_1!r}", show=False, hint=_INIT)
    used = {t.worker for t in tasks if t.started is not None}
    bare = [w.name for w in data.workers if w.pool in pools and w.name in used
            and w.init_started is None]
    expect_true(not bare, f"the tasks read {SETTING_15_1!r}, but {len(bare)} of the workers "
                "that ran them ran no initializer: a worker that misses a setting sent as "
                "a task of its own reads 'as imported'", hint=_INIT)
    return ("each worker process ran set_state as it started: a spawned worker gets its "
            "settings through initializer and initargs, or as arguments.")


# -- 15.2 -------------------------------------------------------------------------------

EXPECTED_15_2 = [0, 1, 4, 9, 16]


@exercise("15.2", "A lambda for a process pool")
def ex15_2(squares: Any, trace: Any) -> str:
    data = trace_data(trace)
    pools = _process_pools(data, "with spawn.Pool(2) as pool")
    tasks = [t for t in data.tasks if t.pool in pools]
    expect_true(tasks, "the process pool ran no tasks: squares was computed in this kernel",
                hint="pool.map(...) sends the work to the pool's processes; the built-in "
                     "map(...) or a list comprehension runs it here")
    failed = [t for t in tasks if t.outcome != "finished"]
    expect_true(not failed, f"{len(failed)} of the pool's tasks did not finish"
                + (f" ({failed[0].error})" if failed and failed[0].error else ""),
                hint="send a function the worker process can import by name: square, "
                     "from poolscope.tutorial.compare_workloads (imported in the setup cell)")
    return expect(squares, EXPECTED_15_2, message="squares is not right yet",
                  hint="squares = pool.map(square, range(5)), with square from "
                       "poolscope.tutorial.compare_workloads (imported in the setup cell)",
                  explain="a function from a module is sent by its name, and the worker "
                          "imports it.")


# -- 15.3 -------------------------------------------------------------------------------

_HINTS_15_3 = {
    ("pool", 2): "terminate() kills the worker processes: their running tasks stop mid-way",
    ("pool", 4): "leaving a pool's with block calls terminate(): the two queued tasks never "
                 "start, and the two running ones are killed",
    ("threads", 0): "a thread cannot be killed: terminate() discards the running tasks' "
                    "results, but the tasks themselves run on to the end",
    ("threads", 4): "leaving a pool's with block calls terminate(): the two queued tasks "
                    "never start, in a ThreadPool too",
}


@exercise("15.3", "What terminate() stops")
def ex15_3(pool_full: Any, threadpool_full: Any) -> str:
    pool_full = whole(pool_full, "pool_full", "2")
    threadpool_full = whole(threadpool_full, "threadpool_full", "2")
    expect(pool_full, 0, message="pool_full is not right yet",
           hint=_HINTS_15_3.get(("pool", pool_full),
                                "count the tasks running when the block ended (two workers), "
                                "then ask what terminate() does to a worker process"))
    return expect(threadpool_full, 2, message="threadpool_full is not right yet",
                  hint=_HINTS_15_3.get(("threads", threadpool_full),
                                       "count the tasks running when the block ended (two "
                                       "workers), then ask whether a thread can be stopped"),
                  explain="the processes were killed mid-task; the two running threads "
                          "ran their full 0.5 s.")


# -- 15.4 -------------------------------------------------------------------------------

EXPECTED_15_4 = {"a": "Pool", "b": "ThreadPoolExecutor", "c": "ThreadPool"}
_NAMES = {"pool": "Pool", "multiprocessing.pool": "Pool", "processpool": "Pool",
          "threadpool": "ThreadPool", "threadpoolexecutor": "ThreadPoolExecutor"}
_HINTS_15_4 = {
    "a": "pure-Python computing: under the GIL, threads take turns; which pool computes "
         "on several cores at once?",
    "b": "asyncio's loop.run_in_executor() and asyncio.wrap_future() take an executor "
         "and its futures",
    "c": "the tasks must change the program's own dictionary, so they need threads; and "
         "which thread pool has imap_unordered with a chunksize, like Pool?",
}


def _pool_name(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    key = value.strip().strip("`'\"()").replace(" ", "").replace("_", "").lower()
    return _NAMES.get(key)


@exercise("15.4", "Pick the pool")
def ex15_4(choice: Any) -> str:
    if not isinstance(choice, dict) or set(choice) != set(EXPECTED_15_4):
        raise NotYet("choice should be a dict with the keys \"a\", \"b\" and \"c\"",
                     expected='{"a": ..., "b": ..., "c": ...}', got=choice,
                     hint="keep the dict of the answer cell and fill in its three values")
    if any(v is Ellipsis for v in choice.values()):
        raise NotYet("replace each ... with a pool's name", show=False,
                     hint='"ThreadPool", "ThreadPoolExecutor" or "Pool"')
    for job, right in EXPECTED_15_4.items():
        name = _pool_name(choice[job])
        if name is None:
            raise NotYet(f"job {job}: {shown(choice[job])} is not one of the three pools",
                         show=False, hint='"ThreadPool", "ThreadPoolExecutor" or "Pool", '
                                          "as a string")
        if name != right:  # the feedback names the job, not the answer
            raise NotYet(f"job {job}: not the best fit", show=False, hint=_HINTS_15_4[job])
    return ("a: processes compute in parallel; b: asyncio awaits an executor's futures; "
            "c: ThreadPool shares memory and keeps Pool's API.")
