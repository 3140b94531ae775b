"""Checks for the exercises of ``14-ThreadPool-and-ThreadPoolExecutor.ipynb``.

    >>> ok = ex14_2(4, 0)
    Exercise 14.2 - Leaving the with block: solved!
      the executor waited for its 4 tasks; the ThreadPool terminated: no result arrived.
    >>> ex14_2(2, 0)
    Exercise 14.2 - Leaving the with block: not solved yet.
      executor_done is not right yet
      expected: 4
      got:      2
      hint: leaving an executor's with block calls shutdown(wait=True): it waits until every submitted task has run, the queued ones too
    False

Exercises 14.1 and 14.3 look at what the learner's cell did, through the trace that
``%%timeline --out NAME`` recorded. 14.1 judges the order in which the recorded tasks
finished and in which the cell asked their futures for results, never a fixed list, so a
busy machine cannot turn a right answer into a wrong one (see ``PAGES``). 14.3 judges
which tasks the cell cancelled, and whether a task still queued when the cell began to
cancel ran anyway: with tasks of 0.2 s, that takes a delay of 0.2 s, far more than load
adds.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from ...trace import (CANCELLED, CANCELLED_BY_MAP, CANCELLED_BY_SHUTDOWN, NEVER_STARTED, QUEUED,
                      TraceData)
from ..compare_workloads import PAGES
from . import NotYet, exercise, expect, expect_true
from ._traces import as_list, number, trace_data, whole

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


def _executors(data: TraceData, hint: str) -> set[int]:
    """The executors the cell ran, or NotYet naming the pools it ran instead."""
    executors = {p.index for p in data.pools if p.kind == "ThreadPoolExecutor"}
    others = sorted({p.kind for p in data.pools if p.index not in executors})
    expect_true(executors, "your cell ran no ThreadPoolExecutor"
                + (f" (it ran a {' and a '.join(others)})" if others else ""), hint=hint)
    return executors


@exercise("14.1", "From imap_unordered to as_completed")
def ex14_1(order: Any, trace: Any) -> str:
    data = trace_data(trace)
    executors = _executors(data, "with ThreadPoolExecutor(3) as executor: ..., inside the "
                                 "answer cell")
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
def ex14_2(executor_done: Any, threadpool_ready: Any) -> str:
    executor_done = whole(executor_done, "executor_done", "4")
    threadpool_ready = whole(threadpool_ready, "threadpool_ready", "0")
    expect(executor_done, 4, message="executor_done is not right yet",
           hint="leaving an executor's with block calls shutdown(wait=True): it waits "
                "until every submitted task has run, the queued ones too")
    return expect(threadpool_ready, 0, message="threadpool_ready is not right yet",
                  hint="leaving a ThreadPool's with block calls terminate(): the running "
                       "tasks run on but their results are discarded, and the queued "
                       "ones never start",
                  explain="the executor waited for its 4 tasks; the ThreadPool "
                          "terminated: no result arrived.")


# -- 14.3 -------------------------------------------------------------------------------

TASKS_14_3 = 8  # tasks of SECONDS_14_3 on two workers
SECONDS_14_3 = 0.2
# A task that starts this long after the cell began to cancel was still queued then: a
# worker takes the next task at once, so only a queued task starts later (0.2 s later).
_LATE = 0.1
_CANCEL = ("executor.shutdown(cancel_futures=True) right after the first result "
           "cancels every task still queued")
_CANCELLED_NOTES = frozenset({CANCELLED, CANCELLED_BY_SHUTDOWN, CANCELLED_BY_MAP})


def _own_shutdowns(data: TraceData, executors: set[int]) -> list:
    """The cell's own shutdown() calls: not the one inside leaving a with block."""
    exits = [e for e in data.events if e.kind == "exit" and e.pool in executors]
    return [e for e in data.events if e.kind == "shutdown" and e.pool in executors
            and not any(x.start <= e.start and (x.end is None or e.start <= x.end)
                        for x in exits)]


@exercise("14.3", "Stop the queued downloads")
def ex14_3(first: Any, trace: Any) -> str:
    data = trace_data(trace)
    executors = _executors(data, "keep the executor: with ThreadPoolExecutor(2) as "
                                 "executor: ...")
    tasks = [t for t in data.tasks if t.pool in executors]
    expect_true(len(tasks) == TASKS_14_3,
                f"your cell submitted {len(tasks)} tasks; the job has {TASKS_14_3}",
                hint="keep futures = [executor.submit(sleep_task, 0.2) for _ in range(8)]")
    if isinstance(first, Future):
        raise NotYet("first holds a future, not its result", show=False,
                     hint="first = next(as_completed(futures)).result()")
    got = number(first, "first", "0.2")
    expect_true(abs(got - SECONDS_14_3) < 1e-9, f"first is {got}, not the result of the "
                "first task to finish", hint="first = next(as_completed(futures)).result()")
    cancelled = [t for t in tasks if t.outcome == NEVER_STARTED and t.note in _CANCELLED_NOTES]
    queued = [t for t in tasks if t.outcome == NEVER_STARTED and t.note == QUEUED]
    ran = [t for t in tasks if t.started is not None]
    if queued:  # shutdown(wait=False) without a with block: they run after the cell
        raise NotYet(f"{len(queued)} tasks were still queued when your cell ended: "
                     "shutdown(wait=False) returns at once but cancels nothing, so they "
                     "run afterwards", show=False, hint=_CANCEL)
    if not cancelled:
        if _own_shutdowns(data, executors):
            raise NotYet(f"all {len(ran)} tasks ran: shutdown() without "
                         "cancel_futures=True cancels nothing, and leaving the with block "
                         "then waits for every queued task", show=False, hint=_CANCEL)
        raise NotYet(f"all {len(ran)} tasks ran: leaving the with block waits for every "
                     "task, the queued ones too", show=False, hint=_CANCEL)
    stops = [e.start for e in data.events if e.pool in executors and e.kind == "cancel"]
    stops += [e.start for e in _own_shutdowns(data, executors)]
    begun = min(stops, default=min(t.submitted for t in tasks))
    late = [t for t in ran if t.started > begun + _LATE]
    if late:
        raise NotYet(f"your cell cancelled {len(cancelled)} task"
                     f"{'' if len(cancelled) == 1 else 's'}, but {len(late)} more that were "
                     "still queued when it began cancelling ran anyway", show=False,
                     hint="cancel every future that has not started: "
                          "executor.shutdown(cancel_futures=True) does it in one call")
    # (how many had started depends on the machine's load: the praise names no count)
    return ("the queued tasks never started; those already running ran to the end, as a "
            "running thread cannot be stopped.")
