"""Checks for the exercises of ``14-ThreadPool-Executor-and-Pool.ipynb``.

    >>> ok = ex14_2(4, 0, 0)
    Exercise 14.2 - Leaving the with block: solved!
      the executor waited for its 4 tasks; both pools terminated: no result arrived.
    >>> ex14_4({"a": "Pool", "b": "ThreadPool", "c": "ThreadPool"})
    Exercise 14.4 - Pick the pool: not solved yet.
      job b: not the best fit
      hint: asyncio's loop.run_in_executor() and asyncio.wrap_future() take an executor and its futures
    False

Exercises 14.1 and 14.3 look at what the learner's cell did, through the trace that
``%%timeline --out NAME`` recorded. 14.1 judges the order in which the recorded tasks
finished and in which the cell asked their futures for results, never a fixed list, so a
busy machine cannot turn a right answer into a wrong one (see ``PAGES``).
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from ..compare_workloads import PAGES
from . import NotYet, exercise, expect, expect_true
from ._traces import as_list, trace_data, whole

# -- 14.1 -------------------------------------------------------------------------------

SUBMITTED_14_1 = [name for name, _ in PAGES]  # the order of submission: c, a, b
BY_LENGTH_14_1 = sorted(PAGES, key=lambda page: page[1])  # the order they finish: b, c, a
_AS_COMPLETED = "order = [future.result() for future in as_completed(futures)]"


def _pages_of(tasks: list) -> dict[int, str]:
    """Which page each recorded task fetched, by call id: the k-th shortest task is the
    k-th shortest page (the pages' durations lie 0.2 s apart, far more than a busy
    machine stretches a sleep). Any order of submission works."""
    by_length = sorted(tasks, key=lambda t: t.finished - t.started)
    return {t.call_id: name for t, (name, _) in zip(by_length, BY_LENGTH_14_1)}


def _first_results(events: list, page_of: dict[int, str]) -> list[tuple[float, str]]:
    """(when, page) of the first ``result()`` call the cell made on each future."""
    first: dict[int, float] = {}
    for e in events:
        if e.kind == "result" and e.call_id in page_of and e.status == "ok":
            first[e.call_id] = min(e.start, first.get(e.call_id, e.start))
    return sorted((when, page_of[call]) for call, when in first.items())


@exercise("14.1", "From imap_unordered to as_completed")
def ex14_1(order: Any, trace: Any) -> str:
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
                hint="futures = [executor.submit(fetch, page) for page in PAGES]")
    done = [t for t in tasks if t.outcome == "finished"]
    expect_true(len(tasks) == 3 and len(done) == 3,
                f"the executor ran {len(done)} of {len(tasks)} tasks to the end; want 3 of 3",
                hint="one submit per page of PAGES, and collect every result inside the "
                     "with block")
    if isinstance(order, (list, tuple)) and any(isinstance(x, Future) for x in order):
        raise NotYet("order holds futures, not their results", show=False,
                     hint="[future.result() for future in as_completed(futures)]")
    got = as_list(order, "order", '["x.html", "y.html", "z.html"]')
    if sorted(map(repr, got)) != sorted(map(repr, SUBMITTED_14_1)):
        raise NotYet("order should hold the three pages' names, each once", show=False,
                     hint="submit fetch(page) for each page of PAGES: a future's result() "
                          "is then the page's name")
    page_of = _pages_of(done)
    finished = [page_of[t.call_id] for t in sorted(done, key=lambda t: t.finished)]
    asked = _first_results(data.events, page_of)
    if len(asked) < 3:
        raise NotYet(f"your cell asked {len(asked)} of the 3 futures for its result",
                     show=False, hint=_AS_COMPLETED)
    # as_completed hands over the futures that were done before it was called in no
    # particular order: when two or more were, the order proves nothing, even a right one.
    late = sum(t.finished < asked[0][0] for t in done)
    if late >= 2:
        raise NotYet(f"{late} of your tasks had finished before your cell first asked for a "
                     "result, so as_completed could only hand them over in no particular "
                     "order", show=False,
                     hint="loop over as_completed(futures) straight after submitting, inside "
                          "the with block (if your cell does, the machine was busy: run it "
                          "again)")
    read = [page for _, page in asked]
    if got == finished and read == finished:
        return ("as_completed handed over each future as its task finished, like "
                "imap_unordered: the shortest download first.")
    if got == sorted(got) and got != finished:
        raise NotYet("that is alphabetical order: sorting hides the order in which the "
                     "tasks finished", show=False,
                     hint=f"keep the results in the order as_completed gives them: "
                          f"{_AS_COMPLETED}")
    if got == SUBMITTED_14_1:
        raise NotYet("that is the order of submission", show=False,
                     hint="as_completed(futures) yields each future when it is done: "
                          "loop over it instead of over futures")
    if got == finished:  # right list, but not read from the futures as they finished
        raise NotYet("order lists the pages as they finished, but your cell asked the "
                     "futures for their results in another order: "
                     + ", ".join(read), show=False, hint=_AS_COMPLETED)
    raise NotYet("order is not the order in which your tasks finished", show=False,
                 hint=_AS_COMPLETED)


# -- 14.2 -------------------------------------------------------------------------------

@exercise("14.2", "Leaving the with block")
def ex14_2(executor_done: Any, threadpool_ready: Any, pool_ready: Any) -> str:
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


# -- 14.3 -------------------------------------------------------------------------------

EXPECTED_14_3 = [0, 1, 4, 9, 16]


@exercise("14.3", "A lambda for a process pool")
def ex14_3(squares: Any, trace: Any) -> str:
    data = trace_data(trace)
    pools = {p.index for p in data.pools if p.kind == "Pool"}
    if not pools:
        if any(p.kind == "ThreadPool" for p in data.pools):
            raise NotYet("your cell ran a ThreadPool", show=False,
                         hint="a ThreadPool takes the lambda, but the task is to keep the "
                              "process pool: with spawn.Pool(2) as pool")
        raise NotYet("your cell ran no process pool", show=False,
                     hint="keep the line with spawn.Pool(2) as pool: only the function "
                          "passed to map needs to change")
    tasks = [t for t in data.tasks if t.pool in pools]
    expect_true(tasks, "the process pool ran no tasks: squares was computed in this kernel",
                hint="pool.map(...) sends the work to the pool's processes; the built-in "
                     "map(...) or a list comprehension runs it here")
    failed = [t for t in tasks if t.outcome != "finished"]
    expect_true(not failed, f"{len(failed)} of the pool's tasks did not finish"
                + (f" ({failed[0].error})" if failed and failed[0].error else ""),
                hint="send a function the worker process can import by name: square, "
                     "from poolscope.tutorial.compare_workloads (imported in the setup cell)")
    return expect(squares, EXPECTED_14_3, message="squares is not right yet",
                  hint="squares = pool.map(square, range(5)), with square from "
                       "poolscope.tutorial.compare_workloads (imported in the setup cell)",
                  explain="a function from a module is sent by its name, and the worker "
                          "imports it.")


# -- 14.4 -------------------------------------------------------------------------------

EXPECTED_14_4 = {"a": "Pool", "b": "ThreadPoolExecutor", "c": "ThreadPool"}
_NAMES = {"pool": "Pool", "multiprocessing.pool": "Pool", "processpool": "Pool",
          "threadpool": "ThreadPool", "threadpoolexecutor": "ThreadPoolExecutor"}
_HINTS_14_4 = {
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


@exercise("14.4", "Pick the pool")
def ex14_4(choice: Any) -> str:
    if not isinstance(choice, dict) or set(choice) != set(EXPECTED_14_4):
        raise NotYet("choice should be a dict with the keys \"a\", \"b\" and \"c\"",
                     expected='{"a": ..., "b": ..., "c": ...}', got=choice,
                     hint="keep the dict of the answer cell and fill in its three values")
    if any(v is Ellipsis for v in choice.values()):
        raise NotYet("replace each ... with a pool's name", show=False,
                     hint='"ThreadPool", "ThreadPoolExecutor" or "Pool"')
    for job, right in EXPECTED_14_4.items():
        name = _pool_name(choice[job])
        if name is None:
            raise NotYet(f"job {job}: {choice[job]!r} is not one of the three pools",
                         show=False, hint='"ThreadPool", "ThreadPoolExecutor" or "Pool", '
                                          "as a string")
        if name != right:  # the feedback names the job, not the answer
            raise NotYet(f"job {job}: not the best fit", show=False, hint=_HINTS_14_4[job])
    return ("a: processes compute in parallel; b: asyncio awaits an executor's futures; "
            "c: ThreadPool shares memory and keeps Pool's API.")
