"""Checks for the exercises of ``16-Beyond-Threads.ipynb``.

    >>> ok = ex16_2(6)
    Exercise 16.2 - How many at once?: solved!
      the default executor is a ThreadPoolExecutor() of min(32, 2 + 4) = 6 threads:
      6 lookups at a time, the other 34 queue.
    >>> ex16_2(40)
    Exercise 16.2 - How many at once?: not solved yet.
      most is not right yet
      hint: to_thread does not start a thread per call: it hands each call to the loop's
      default executor, a ThreadPoolExecutor() of the default size (notebook 09 gave its
      formula)
    False

Exercises 16.1 and 16.3 run the learner's coroutine function for real, in an event loop
of its own in a thread of its own (the kernel's loop is already running in the main
thread), and judge what it did from the calls ``beyond.watch()`` logged: which thread
made each call, and how many were in progress at once. Threads and counts, not seconds,
so a loaded machine cannot change the verdict.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from ..beyond import Calls, Outcome, run_in_new_loop, watch
from ..server import serve
from . import NotYet, exercise, expect, expect_true
from ._feedback import described
from ._traces import as_list, reordered, whole

RUN_TIMEOUT = 30.0  # seconds a learner's coroutine may run before the check gives up


def _coroutine_function(answer: Any, name: str, example: str) -> None:
    """NotYet unless ``answer`` is a coroutine function (``async def``)."""
    if not callable(answer):
        raise NotYet(f"{name} should be the function your answer cell defines",
                     hint=f"write it as {example}", show=False)
    if not inspect.iscoroutinefunction(answer):
        raise NotYet(f"{name} is a plain function (def): the event loop can only run a "
                     "coroutine function", hint=f"write it as {example}, and await inside it",
                     show=False)


def _unawaited(value: Any) -> bool:
    """Whether ``value`` (or an item of it) is a coroutine or future nobody awaited; the
    coroutines are closed, so that Python does not warn that they were never awaited."""
    items = value if isinstance(value, (list, tuple)) else [value]
    found = False
    for item in items:
        if inspect.iscoroutine(item):
            item.close()
            found = True
        elif isinstance(item, asyncio.Future) or inspect.isawaitable(item):
            found = True
    return found


def _finished(outcome: Outcome, name: str) -> None:
    expect_true(outcome.finished, f"{name} was still running after {RUN_TIMEOUT:.0f} s, so "
                "the check stopped waiting", hint="does something wait forever? Every "
                "request and lookup here ends in under a second")


def _raised(outcome: Outcome, name: str, known: list[tuple[str, str]]) -> None:
    """NotYet naming the exception the learner's code raised, with the hint of the first
    ``(text in its message, hint)`` of ``known`` that matches."""
    if outcome.error is None:
        return
    try:
        full = str(outcome.error)
    except Exception:  # an exception whose __str__ raises
        full = ""
    hint = next((h for part, h in known if part in full), "read the exception: it says "
                "what went wrong")
    text = described(outcome.error)
    if len(text) > 150:  # a Task's repr, with file names: the type and the gist will do
        text = text[:147] + "..."
    raise NotYet(f"{name} raised {text}", hint=hint, show=False)


_RUN_INSIDE = ("asyncio.run() starts an event loop; inside a coroutine one is running "
               "already: await instead")


# -- 16.1 -------------------------------------------------------------------------------

PAGES_16_1 = 12
# Each page answers after its own latency, the first slowest: the pages finish in the
# opposite order of the urls, so an answer that returns them in the order they finish
# (asyncio.as_completed) is always caught. Sequential answers take about 2.8 s.
LATENCY_16_1 = {f"/page/{n}": round(0.1 + 0.02 * (PAGES_16_1 - n), 2)
                for n in range(PAGES_16_1)}
_GATHER = "return await asyncio.gather(*(beyond.fetch_async(url) for url in urls))"


def _blocking_fetches(calls: Calls, loop_thread: int | None) -> None:
    """NotYet if the answer used the blocking beyond.fetch (urllib)."""
    blocking = calls.named("fetch")
    if not blocking:
        return
    if any(c.thread == loop_thread for c in blocking):
        raise NotYet("beyond.fetch (urllib) blocked the event loop's thread: while it "
                     "waited for a page, nothing else could run", show=False,
                     hint="use the coroutine beyond.fetch_async(url), and await it")
    raise NotYet(f"you ran the blocking beyond.fetch on {calls.threads('fetch')} worker "
                 "thread(s) (asyncio.to_thread, run_in_executor or a pool): a thread per "
                 "request in flight again", show=False,
                 hint="await the coroutine beyond.fetch_async(url) instead: the loop's one "
                      "thread waits for all of them")


@exercise("16.1", "All the requests on one thread")
def ex16_1(fetch_all: Any) -> str:
    _coroutine_function(fetch_all, "fetch_all", "async def fetch_all(urls): ...")
    with serve(latency=0.1, slow=LATENCY_16_1) as server:
        urls = [server.url(f"/page/{n}") for n in range(PAGES_16_1)]
        with watch() as calls:
            outcome = run_in_new_loop(lambda: fetch_all(list(urls)), timeout=RUN_TIMEOUT)
    _finished(outcome, "fetch_all")
    _blocking_fetches(calls, outcome.loop_thread)
    _raised(outcome, "fetch_all", [
        ("cannot be called from a running event loop", _RUN_INSIDE),
        ("awaitable is required", "gather() takes coroutines, like "
                                  "beyond.fetch_async(url), not their results"),
        ("can't be used in 'await' expression", "await a coroutine or asyncio.gather(...), "
                                                "not a list")])
    expect_true(not _unawaited(outcome.result), "fetch_all returned coroutines, not pages: "
                "a coroutine that nobody awaits never runs", hint=_GATHER)
    expect_true(calls.named("fetch_async"), "fetch_all made no request with "
                "beyond.fetch_async", hint=_GATHER)
    pages = as_list(outcome.result, "what fetch_all returned", "[b'page 0', b'page 1', ...]")
    expected = [f"page {n}".encode() for n in range(PAGES_16_1)]
    if reordered(pages, expected):
        raise NotYet("the pages came back in the order they arrived, not in the order of "
                     "urls", show=False, hint="asyncio.as_completed yields in the order of "
                     "completion; asyncio.gather returns the results in the order of its "
                     "arguments")
    expect(pages, expected, message="fetch_all should return the pages, in the order of urls",
           hint=_GATHER)
    most = calls.most_at_once("fetch_async")
    expect_true(most > 1, "the requests went one after another: each await waited for its "
                "reply before the next request was sent", hint="start them all, then wait "
                "for all of them: " + _GATHER)
    expect_true(most > PAGES_16_1 // 2, f"at most {most} of the {PAGES_16_1} requests were "
                "in flight at once: the exercise asks for all of them at once",
                hint="no batches or semaphore: " + _GATHER)
    return ("the requests were in flight at the same time, all on the event loop's one "
            "thread, and gather kept the order of urls.")


# -- 16.2 -------------------------------------------------------------------------------

_HINTS_16_2 = {
    40: "to_thread does not start a thread per call: it hands each call to the loop's "
        "default executor, a ThreadPoolExecutor() of the default size (notebook 09 gave "
        "its formula)",
    1: "to_thread runs each call in a worker thread, so the loop stays free and the "
       "calls overlap",
    2: "one thread per CPU is ThreadPool()'s default; the default executor is a "
       "ThreadPoolExecutor(), whose default size is larger",
    32: "32 is the cap of ThreadPoolExecutor()'s default size, reached with 28 CPUs or more",
}


@exercise("16.2", "How many at once?")
def ex16_2(most: Any) -> str:
    n = whole(most, "most", "6")
    if n != 6:
        raise NotYet("most is not right yet", show=False, hint=_HINTS_16_2.get(
            n, "the default executor is a ThreadPoolExecutor() of the default size, "
               "min(32, CPUs + 4)"))
    return ("the default executor is a ThreadPoolExecutor() of min(32, 2 + 4) = 6 threads: "
            "6 lookups at a time, the other 34 queue.")


# -- 16.3 -------------------------------------------------------------------------------

NAMES_16_3 = ["ada", "grace", "alan", "edsger"]
_TO_THREAD = "return await asyncio.to_thread(beyond.lookup, name)"


@exercise("16.3", "A coroutine that blocks the loop")
def ex16_3(lookup_one: Any) -> str:
    _coroutine_function(lookup_one, "lookup_one", "async def lookup_one(name): ...")

    def gathered() -> Any:
        return asyncio.gather(*(lookup_one(name) for name in NAMES_16_3))

    with watch() as calls:
        outcome = run_in_new_loop(gathered, timeout=RUN_TIMEOUT)
    _finished(outcome, "lookup_one")
    lookups = calls.named("lookup")
    in_loop = [c for c in lookups if c.thread == outcome.loop_thread]
    _raised(outcome, "lookup_one", [
        ("object is not callable", "you called beyond.lookup(name) yourself, in the loop's "
                                   "thread, and passed its answer on: pass the function and "
                                   "its argument, asyncio.to_thread(beyond.lookup, name)"),
        ("has no attribute 'submit'", "run_in_executor needs a concurrent.futures executor "
                                      "(it calls submit()); a multiprocessing ThreadPool has "
                                      "none: pass None (the default executor) or a "
                                      "ThreadPoolExecutor"),
        ("attached to a different loop", "take the loop inside the coroutine, with "
                                         "asyncio.get_running_loop()"),
        ("cannot be called from a running event loop", _RUN_INSIDE)])
    expect_true(not in_loop, "beyond.lookup ran in the event loop's own thread: while it "
                "blocked, no other coroutine could run, so the lookups took turns",
                hint="hand the call to a worker thread: " + _TO_THREAD)
    expect_true(not _unawaited(outcome.result), "lookup_one returned an awaitable, not the "
                "answer: nothing waited for it", hint=_TO_THREAD)
    expect_true(lookups, "lookup_one never called beyond.lookup", hint=_TO_THREAD)
    expect(outcome.result, [name.upper() for name in NAMES_16_3],
           message="lookup_one should return beyond.lookup(name)'s answer", hint=_TO_THREAD)
    expect_true(calls.most_at_once("lookup") > 1, "the lookups ran one at a time, in "
                "another thread: the coroutine waited for each one without await "
                "(pool.apply(), future.result()), or the executor had a single thread",
                hint=_TO_THREAD)
    return ("each lookup ran in a worker thread while the loop stayed free, so they "
            "overlapped.")


# -- 16.4 -------------------------------------------------------------------------------

TOOLS = ("asyncio", "threads", "processes", "interpreters")
RIGHT_16_4 = {"a": "asyncio", "b": "processes", "c": "interpreters", "d": "threads",
              "e": "threads"}
# Other names a learner may use for the same tool.
_SAME = {"thread": "threads", "threadpool": "threads", "threadpoolexecutor": "threads",
         "process": "processes", "pool": "processes", "processpoolexecutor": "processes",
         "process pool": "processes", "interpreter": "interpreters",
         "interpreterpoolexecutor": "interpreters", "async": "asyncio"}
_WAITS = "its tasks wait; they do not compute"
_GIL = "on a standard build the GIL lets one thread run Python code at a time"
_ONE_THREAD = "asyncio runs every coroutine on one thread: no help for computing"
_HINTS_16_4 = {
    ("a", "threads"): "5,000 connections would need 5,000 threads, each mostly waiting: one "
                      "event loop holds them all",
    ("a", "processes"): "processes are for computing; " + _WAITS,
    ("a", "interpreters"): "interpreters are for computing in parallel; " + _WAITS,
    ("b", "threads"): _GIL,
    ("b", "asyncio"): _ONE_THREAD,
    ("b", "interpreters"): "InterpreterPoolExecutor is new in 3.14; this job runs on 3.12",
    ("c", "processes"): "the service may not start processes",
    ("c", "threads"): _GIL,
    ("c", "asyncio"): _ONE_THREAD,
    ("d", "processes"): "each process would get its own copy of the large dictionary",
    ("d", "interpreters"): "interpreters share no mutable object: each would need its own "
                           "copy of the large dictionary",
    ("d", "asyncio"): _ONE_THREAD,
    ("e", "asyncio"): "urllib has only blocking calls: in a coroutine each would hold up "
                      "the loop",
    ("e", "processes"): "processes are for computing; " + _WAITS,
    ("e", "interpreters"): "interpreters are for computing in parallel; " + _WAITS,
}


def _tool(value: Any, job: str) -> str:
    if not isinstance(value, str):
        raise NotYet(f"job {job}: write the tool's name as a string, like \"asyncio\"",
                     show=False, hint="one of " + ", ".join(f'"{t}"' for t in TOOLS))
    name = " ".join(value.strip().lower().split())
    name = _SAME.get(name, name)
    if name not in TOOLS:
        raise NotYet(f"job {job}: {value!r} is not one of the four tools", show=False,
                     hint="one of " + ", ".join(f'"{t}"' for t in TOOLS))
    return name


@exercise("16.4", "Pick the tool")
def ex16_4(choice: Any) -> str:
    if not isinstance(choice, dict) or set(choice) != set(RIGHT_16_4):
        raise NotYet("choice should be a dict with an answer for each job, a to e",
                     show=False, hint="keep the dict of the answer cell and replace each ...")
    if any(v is Ellipsis for v in choice.values()):
        raise NotYet("replace each ... with a tool's name", show=False,
                     hint="one of " + ", ".join(f'"{t}"' for t in TOOLS))
    for job in sorted(RIGHT_16_4):
        got = _tool(choice[job], job)
        if got != RIGHT_16_4[job]:  # the feedback names the job, never the answer
            raise NotYet(f"job {job}: not the best fit", show=False,
                         hint=_HINTS_16_4[(job, got)])
    return ("a: one loop for many waits; b: processes compute in parallel; c: interpreters "
            "too, inside one process (3.14+); d: threads run in parallel and share memory on "
            "a free-threaded build; e: threads for a few blocking downloads.")
