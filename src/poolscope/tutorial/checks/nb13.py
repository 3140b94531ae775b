"""Checks for the exercises of ``13-Big-Inputs-and-Results.ipynb``.

    >>> ok = ex13_3("c")
    Exercise 13.3 - The second get(): solved!
      get() raised the same exception object again, and on its way out it added the frames of get() and of the cell to its traceback once more.
    >>> ex13_3("b")
    Exercise 13.3 - The second get(): not solved yet.
      (b) is not what happens
      hint: it is the same exception object both times: does the second raise start its traceback afresh?
    False

13.1 runs the learner's feeder on the check's own pool and input, counting (not timing)
how far ahead of the results taken it pulls the input: the counts are the same on a
loaded machine. 13.2 judges the peak memory ``tracemalloc`` measured in the learner's cell
against a wide bound (half of what keeping every page takes), and the trace of the cell.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from multiprocessing.pool import ThreadPool
from typing import Any

from ..big_inputs import CountedInput, Peak, Workload
from . import NotYet, exercise, expect, expect_true
from ._feedback import described, expect_letter, shown
from ._traces import recorded_tasks

# -- 13.1 -------------------------------------------------------------------------------

ITEMS, AHEAD, WORKERS = 14, 4, 2  # 14: a last batch of 4 would be short
# The check's consumer does this much work with each result (seconds): longer than a
# task, so a feeder that pulls when a task *finishes* (in a callback) rather than when a
# result is *taken* runs ahead of the consumer every time, not only under load.
CONSUMER_PAUSE = 0.03
# How long the check waits for the learner's feeder, and then for its pool to shut down
# (tests shorten them).
TIMEOUT, SHUTDOWN_TIMEOUT = 20.0, 10.0
EXPECTED_13_1 = [x * 10 for x in range(ITEMS)]
_ISLICE = ("pull `ahead` items with itertools.islice(items, ahead) and submit them, then "
           "pull one more item after each result you hand out")


@dataclass
class FeedRun:
    """What the check saw when it ran a feeder."""

    values: list = field(default_factory=list)
    error: BaseException | None = None
    timed_out: bool = False
    stuck: bool = False  # the pool could not be shut down: its task handler is blocked
    input: CountedInput | None = None
    in_caller: bool = False  # the task ran in the thread that iterated the feeder
    in_order: bool = True


def _consume(feed: Any, pool: ThreadPool, work: Workload, items: CountedInput,
             run: FeedRun, done: threading.Event) -> None:
    """Iterate ``feed(pool, work, items, AHEAD)`` like a caller that works with each
    result; runs in a thread of its own, so a feeder that never returns cannot hang the
    check."""
    try:
        for value in feed(pool, work, items, AHEAD):
            items.took()
            run.values.append(value)
            time.sleep(CONSUMER_PAUSE)
    except BaseException as exc:  # the learner's code may raise anything: report it
        run.error = exc
    finally:
        run.in_caller = threading.get_ident() in work.threads
        done.set()


def run_feeder(feed: Any) -> FeedRun:
    """Run ``feed`` over a :class:`CountedInput` of ``ITEMS`` numbers, ``AHEAD`` ahead,
    on a ``ThreadPool(WORKERS)`` of the check's own, and report what happened."""
    items, work, run, done = CountedInput(range(ITEMS)), Workload(), FeedRun(), threading.Event()
    run.input = items
    pool = ThreadPool(WORKERS)
    consumer = threading.Thread(target=_consume, args=(feed, pool, work, items, run, done),
                                name="check 13.1: the caller", daemon=True)
    consumer.start()
    run.timed_out = not done.wait(TIMEOUT)
    run.stuck = not _shut_down(pool)
    run.in_order = run.values == sorted(run.values, key=_order_key)
    return run


def _shut_down(pool: ThreadPool) -> bool:
    """terminate() and join() the check's pool; False if that did not finish in time.

    terminate() joins the pool's task-handler thread, which hangs while that thread is
    blocked inside the learner's input generator (one that waits on a semaphore, say):
    so it runs in a thread of its own, and the check reports instead of hanging.
    """
    finished = threading.Event()

    def shut() -> None:
        pool.terminate()
        pool.join()  # the check's tasks are short: the workers end at once
        finished.set()

    threading.Thread(target=shut, name="check 13.1: shutting the pool", daemon=True).start()
    return finished.wait(SHUTDOWN_TIMEOUT)


def _order_key(value: Any) -> Any:
    return value if isinstance(value, (int, float)) else 0


def _first_problem_of_values(run: FeedRun) -> None:
    values = run.values
    if any(hasattr(v, "get") and hasattr(v, "ready") for v in values):
        raise NotYet("your feeder handed out AsyncResult objects, not results",
                     hint="yield result.get(), the value, rather than the AsyncResult",
                     show=False)
    counted = {}
    for v in values:
        try:
            counted[v] = counted.get(v, 0) + 1
        except TypeError:  # an unhashable value: certainly not a result
            raise NotYet(f"your feeder handed out {shown(v)}, not a result of the task",
                         hint="yield what the task returned (result.get())",
                         show=False) from None
    twice = sorted(v // 10 for v, n in counted.items() if n > 1 and v in EXPECTED_13_1)
    expect_true(not twice, f"the results of items {twice} were handed out more than once",
                hint="submit each item once, and hand out each result once")
    missing = [x for x in range(ITEMS) if x * 10 not in counted]
    if missing:
        tail = missing == list(range(ITEMS - len(missing), ITEMS))
        raise NotYet(f"the results of items {missing} never came out of your feeder (the "
                     f"input had {ITEMS} items)",
                     hint=("the last items are missing: when the input runs out, still "
                           "hand out the results of the tasks in flight, and of a last, "
                           "shorter batch" if tail else
                           "hand out the result of every item you pulled"), show=False)
    extra = [v for v in counted if v not in EXPECTED_13_1]
    expect_true(not extra, f"your feeder handed out {shown(extra)}, which the task never "
                "returned", hint="yield what the task returned (result.get())")


def _error(exc: BaseException) -> NotYet:
    text = described(exc)
    if isinstance(exc, TypeError) and "len()" in text:
        hint = ("the input may be endless, so it has no len(): iterate it, "
                "e.g. itertools.islice(items, ahead)")
    elif isinstance(exc, TypeError) and "not iterable" in text:
        hint = ("feed should be a generator: hand out each result with yield (a function "
                "without yield returns None)")
    elif isinstance(exc, (IndexError, KeyError)):
        hint = "an input is an iterator, not a list: take items with next() or islice"
    else:
        hint = "run your feeder on a small example to see where it fails"
    return NotYet(f"your feeder raised {text}", hint=hint, show=False)


def _judge_pulls(items: CountedInput) -> str:
    most = max(items.ahead, default=0)
    if items.first_result_after == ITEMS and most > AHEAD:
        raise NotYet(f"your feeder pulled all {ITEMS} items before the first result was "
                     "taken", hint="imap, imap_unordered and map read their whole input "
                     "at once (so does list()): on an endless input they never stop; "
                     + _ISLICE, show=False)
    if most == AHEAD + 1:
        raise NotYet(f"your feeder pulled {most} items ahead of the results taken (at most "
                     f"{AHEAD})", hint="you pull the next item before handing out a result: "
                     "pull it after the yield", show=False)
    expect_true(most <= AHEAD, f"your feeder pulled up to {most} items ahead of the results "
                f"taken (at most {AHEAD})", hint="pull a new item only after a result has "
                "been handed out, never when a task finishes (a callback)")
    if most <= 1:
        raise NotYet("your feeder ran one task at a time: it never had more than one item "
                     "in flight", hint=f"submit the first {AHEAD} items with apply_async "
                     "before you wait for a result", show=False)
    expect_true(most == AHEAD, f"your feeder never had more than {most} items in flight "
                f"(ahead was {AHEAD})", hint=f"submit the first {AHEAD} items before you "
                "wait for a result")
    # A window pulls each new item at AHEAD; allow one result of lag for a feeder whose
    # input is pulled by another thread (the pool's task handler, woken by a semaphore).
    # A feeder of batches pulls the first item of each new batch with nothing in flight.
    refills = items.ahead[AHEAD:]
    low = min(refills, default=AHEAD)
    expect_true(low >= AHEAD - 1, f"after the first {AHEAD} items your feeder pulled a new one "
                f"while only {low - 1} were still in flight: it waits for a whole batch",
                hint="pull one new item after each result you hand out, so that a slow "
                     "item holds nobody up")
    return f"never more than {AHEAD} items pulled ahead of the results taken"


@exercise("13.1", "A feeder that stays N items ahead")
def ex13_1(feed: Any) -> str:
    if not callable(feed):
        raise NotYet("feed should be a function", expected="def feed(pool, func, items, "
                     "ahead): ...", got=feed, hint="define it with def feed(pool, func, "
                     "items, ahead): and hand out each result with yield")
    run = run_feeder(feed)
    expect_true(not run.timed_out, f"your feeder did not finish within {TIMEOUT:g} s",
                hint="is it waiting for a result that never comes? Hand out exactly one "
                     "result for each item pulled, then stop")
    if run.error is not None:
        raise _error(run.error)
    expect_true(not run.stuck, "the pool could not be shut down after your feeder "
                "finished: its task-handler thread stayed blocked inside the input it was "
                "given (waiting on a semaphore?)", hint="pull the items in your own code, "
                "with itertools.islice, rather than through a generator the pool reads")
    _first_problem_of_values(run)
    expect_true(not run.in_caller, "the task ran in the caller's thread, not in the pool",
                hint="submit it: pool.apply_async(func, (item,)), then .get() its result")
    assert run.input is not None
    how = _judge_pulls(run.input)
    order = ("results in input order, like imap(buffersize=) (3.16): a slow item at the "
             "head still holds up the refill" if run.in_order else
             "results in completion order, so a slow item holds nobody up")
    return f"{how}, one new item per result; {order}."


# -- 13.2 -------------------------------------------------------------------------------

PAGE, PAGES = 1_000_000, 20
LINES_13_2 = PAGES * 10_000  # each page has 10,000 lines
MOST_PAGES = 10  # half of what keeping all 20 pages takes: a wide margin either way


def _memory(memory: Any) -> int:
    if not isinstance(memory, Peak):
        raise NotYet("memory should be what `with big_inputs.peak_memory() as memory:` "
                     f"measured; got {shown(memory)}", hint="keep the peak_memory() block "
                     "around your pool code", show=False)
    return memory.peak


@exercise("13.2", "A job that keeps every page")
def ex13_2(lines: Any, memory: Any, trace: Any) -> str:
    peak = _memory(memory)
    tasks = recorded_tasks(trace, "ex13_2_trace")
    done = [t for t in tasks if t.outcome == "finished"]
    expect_true(len(done) == PAGES, f"the pool ran {len(done)} downloads to the end, not "
                f"{PAGES}", hint="keep the pool: it should run download(n) (or a task "
                "that calls it) for each n in range(20)")
    calls = {t.call for t in tasks}
    pages = peak / PAGE
    if pages > MOST_PAGES:
        if calls & {"map", "map_async", "starmap", "starmap_async"}:
            hint = ("map keeps every page until it returns the whole list: count the "
                    "lines in the task, or take the pages one by one with imap_unordered")
        elif calls & {"apply_async", "apply"}:
            hint = ("each AsyncResult keeps its page for as long as it lives, and the list "
                    "`pending` keeps all 20 (del after the sum comes too late): count the "
                    "lines in the task, or take the pages one by one with imap_unordered")
        else:
            hint = ("something kept the pages (a list?): count each page's lines as it "
                    "comes, and keep only the count")
        raise NotYet(f"the peak was {pages:.0f} pages' worth of memory (at most "
                     f"{MOST_PAGES}): your code held many pages at once", hint=hint,
                     show=False)
    expect_true(pages >= 0.5, "the peak was under half a page: did the pages pass through "
                "the peak_memory() block?", hint="keep the pool code inside the block")
    return expect(lines, LINES_13_2, message="lines is not right yet",
                  hint="lines is the number of b'\\n' in all 20 pages",
                  explain=f"{PAGES} pages of 1 MB went through with a peak under "
                          f"{MOST_PAGES} pages' worth: no page outlived its count.")


# -- 13.3 -------------------------------------------------------------------------------

_HINTS_13_3 = {
    "a": "the exception that get() raises is the task's own object, and it already held "
         "the worker's frames after the first get()",
    "b": "it is the same exception object both times: does the second raise start its "
         "traceback afresh?",
    "d": "get() raises the exception in the caller: the frames it passes through on the way "
         "out are added too",
}


@exercise("13.3", "The second get()")
def ex13_3(answer: Any) -> str:
    expect_letter(answer, "c", _HINTS_13_3)
    return ("get() raised the same exception object again, and on its way out it added the "
            "frames of get() and of the cell to its traceback once more.")
