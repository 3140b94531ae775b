"""Checks for the exercises of ``09-ThreadPool-Executor-and-Pool.ipynb``.

    >>> ok = ex9_2(4, 0, 0)
    Exercise 9.2 - Leaving the with block: solved!
      the executor waited for its 4 tasks; both pools terminated: no result arrived.
    >>> ex9_4({"a": "Pool", "b": "ThreadPool", "c": "ThreadPool"})
    Exercise 9.4 - Pick the pool: not solved yet.
      job b: not the best fit
      hint: asyncio's loop.run_in_executor() and asyncio.wrap_future() take an executor and its futures
    False

Exercise 9.1 looks at what the learner's cell did, through the trace that
``%%timeline --out ex9_1_trace`` recorded; 9.3 at the pool object the cell used.
"""

from __future__ import annotations

from concurrent.futures import Future
from multiprocessing.pool import Pool, ThreadPool
from typing import Any

from . import NotYet, exercise, expect, expect_true
from ._traces import as_list, trace_data, whole

# -- 9.1 -------------------------------------------------------------------------------

EXPECTED_9_1 = [0.1, 0.2, 0.3]


@exercise("9.1", "From imap_unordered to as_completed")
def ex9_1(order: Any, trace: Any) -> str:
    data = trace_data(trace)
    executors = {p.index for p in data.pools if p.kind == "ThreadPoolExecutor"}
    others = sorted({p.kind for p in data.pools if p.index not in executors})
    expect_true(executors, "your cell ran no ThreadPoolExecutor"
                + (f" (it ran a {' and a '.join(others)})" if others else ""),
                hint="with ThreadPoolExecutor(3) as executor: ..., inside the answer cell")
    tasks = [t for t in data.tasks if t.pool in executors]
    calls = sorted({t.call for t in tasks})
    expect_true(calls == ["submit"], "your cell sent its tasks with "
                + (", ".join(calls) or "nothing") + ", not submit",
                hint="futures = [executor.submit(sleep_task, s) for s in [0.3, 0.1, 0.2]]")
    done = [t for t in tasks if t.outcome == "finished"]
    expect_true(len(tasks) == 3 and len(done) == 3,
                f"the executor ran {len(done)} of {len(tasks)} tasks to the end; want 3 of 3",
                hint="one submit per duration in [0.3, 0.1, 0.2], and collect every result "
                     "inside the with block")
    if isinstance(order, (list, tuple)) and any(isinstance(x, Future) for x in order):
        raise NotYet("order holds futures, not their results", show=False,
                     hint="[future.result() for future in as_completed(futures)]")
    got = as_list(order, "order", "[0.1, 0.2, 0.3]")
    if got == [0.3, 0.1, 0.2]:
        raise NotYet("that is the order of submission", expected=EXPECTED_9_1, got=got,
                     hint="as_completed(futures) yields each future when it is done: "
                          "loop over it instead of over futures")
    return expect(got, EXPECTED_9_1, message="order is not right yet",
                  hint="order = [future.result() for future in as_completed(futures)]",
                  explain="as_completed yields each future as it finishes, like "
                          "imap_unordered: the 0.1 s task first.")


# -- 9.2 -------------------------------------------------------------------------------

@exercise("9.2", "Leaving the with block")
def ex9_2(executor_done: Any, threadpool_ready: Any, pool_ready: Any) -> str:
    executor_done = whole(executor_done, "executor_done", "4")
    threadpool_ready = whole(threadpool_ready, "threadpool_ready", "0")
    pool_ready = whole(pool_ready, "pool_ready", "0")
    expect(executor_done, 4, message="executor_done is not right yet",
           hint="leaving an executor's with block calls shutdown(wait=True): it waits "
                "until every submitted task has run")
    expect(threadpool_ready, 0, message="threadpool_ready is not right yet",
           hint="leaving a ThreadPool's with block calls terminate(): the running tasks "
                "run on but their results are discarded, and the queued ones never start")
    return expect(pool_ready, 0, message="pool_ready is not right yet",
                  hint="leaving a process Pool's with block calls terminate() too, which "
                       "kills the worker processes in the middle of their tasks",
                  explain="the executor waited for its 4 tasks; both pools terminated: "
                          "no result arrived.")


# -- 9.3 -------------------------------------------------------------------------------

EXPECTED_9_3 = [0, 1, 4, 9, 16]


@exercise("9.3", "A lambda for a process pool")
def ex9_3(squares: Any, pool: Any) -> str:
    if isinstance(pool, ThreadPool):
        raise NotYet("pool is a ThreadPool", show=False,
                     hint="a ThreadPool takes the lambda, but the task is to keep the "
                          "process pool: with spawn.Pool(2) as pool")
    expect_true(isinstance(pool, Pool), f"pool should be the process pool; got {pool!r}",
                hint="keep the line with spawn.Pool(2) as pool: only the function "
                     "passed to map needs to change")
    return expect(squares, EXPECTED_9_3, message="squares is not right yet",
                  hint="send a function the worker process can import by name: square, "
                       "from poolscope.compare_workloads (imported in the setup cell)",
                  explain="a function from a module is sent by its name, and the worker "
                          "imports it.")


# -- 9.4 -------------------------------------------------------------------------------

EXPECTED_9_4 = {"a": "Pool", "b": "ThreadPoolExecutor", "c": "ThreadPool"}
_NAMES = {"pool": "Pool", "multiprocessing.pool": "Pool", "processpool": "Pool",
          "threadpool": "ThreadPool", "threadpoolexecutor": "ThreadPoolExecutor"}
_HINTS_9_4 = {
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


@exercise("9.4", "Pick the pool")
def ex9_4(choice: Any) -> str:
    if not isinstance(choice, dict) or set(choice) != set(EXPECTED_9_4):
        raise NotYet("choice should be a dict with the keys \"a\", \"b\" and \"c\"",
                     expected='{"a": ..., "b": ..., "c": ...}', got=choice,
                     hint="keep the dict of the answer cell and fill in its three values")
    if any(v is Ellipsis for v in choice.values()):
        raise NotYet("replace each ... with a pool's name", show=False,
                     hint='"ThreadPool", "ThreadPoolExecutor" or "Pool"')
    for job, right in EXPECTED_9_4.items():
        name = _pool_name(choice[job])
        if name is None:
            raise NotYet(f"job {job}: {choice[job]!r} is not one of the three pools",
                         show=False, hint='"ThreadPool", "ThreadPoolExecutor" or "Pool", '
                                          "as a string")
        if name != right:  # the feedback names the job, not the answer
            raise NotYet(f"job {job}: not the best fit", show=False, hint=_HINTS_9_4[job])
    return ("a: processes compute in parallel; b: asyncio awaits an executor's futures; "
            "c: ThreadPool shares memory and keeps Pool's API.")
