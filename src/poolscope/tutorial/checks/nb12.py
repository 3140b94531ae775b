"""Checks for the exercises of ``12-Progress-and-Stopping.ipynb``.

    >>> ok = ex12_3(3, 1)
    Exercise 12.3 - Ctrl-C inside a with block: solved!
      tasks 0-2 had finished; 3-5 were running and ran to their end (terminate() cannot stop a thread), their results discarded; task 6 was still queued and never started.
    >>> ex12_3(0, 4)
    Exercise 12.3 - Ctrl-C inside a with block: not solved yet.
      running_on is not right yet
      expected: 3
      got:      0
      hint: KeyboardInterrupt is raised in the caller's thread only, and the with block's terminate() cannot stop a thread: the tasks running at 0.4 s run to their end
    False

Exercise 12.1 judges the learner's tqdm bar (what it wrapped, its total and count) and
the trace of the cell (which call ran the tasks, in chunks or not). Exercises 12.2 and
12.4 run the learner's function themselves, in a thread of the check's own, on a
schedule the check controls: 12.2 counts the lines ``search`` reads after the check sets
the stop flag (``progress.reads_counted``), 12.4 calls ``busy_workers()`` while a task
of the check's own pool waits on an event. Nothing depends on how long anything takes,
so a loaded machine cannot change a verdict.
"""

from __future__ import annotations

import multiprocessing.pool as mp_pool
import threading
from collections.abc import Callable
from typing import Any

from ..progress import LINES, NEEDLE, reads_counted
from . import NotYet, exercise, expect, expect_true
from ._feedback import described, shown
from ._traces import largest_chunk, recorded_tasks, whole

GIVE_UP = 5.0  # seconds: a learner's function that takes longer is reported as stuck


def _call(function: Callable[..., Any], *args: Any, setup: Callable[[], Any] | None = None
          ) -> dict[str, Any]:
    """Run ``function(*args)`` in a thread of its own (inside the context manager that
    ``setup()`` returns, if any): ``{"value": ...}``, ``{"error": exc}``, plus
    ``"inside"`` (what the context manager gave), or no "value"/"error" if it had not
    returned after GIVE_UP seconds. A function that never returns cannot hang the
    notebook: its (daemon) thread is left waiting."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            if setup is None:
                out["value"] = function(*args)
            else:
                with setup() as inside:
                    out["inside"] = inside
                    out["value"] = function(*args)
        except BaseException as exc:  # reported as feedback
            out["error"] = exc

    thread = threading.Thread(target=run, name="poolscope-check", daemon=True)
    thread.start()
    thread.join(GIVE_UP)
    return dict(out)  # a copy: a thread still running may fill `out` later


def _returned(out: dict[str, Any], call: str, should: str) -> Any:
    """What the call returned, or NotYet saying that it raised or never returned
    (``should``: what the call should do instead of raising, for the hint)."""
    if "error" in out:
        raise NotYet(f"{call} raised {described(out['error'])}", hint=should, show=False)
    if "value" not in out:
        raise NotYet(f"{call} had not returned after {GIVE_UP:g} s",
                     hint="something in it waits with no end", show=False)
    return out["value"]


# -- 12.1 ------------------------------------------------------------------------------

LINKS = 8  # the links of the exercise: ("docs", 0) takes 0.6 s, the others 0.1 s
UNPACK = "missing 1 required positional argument"


def _tqdm_class() -> type:
    try:
        from tqdm.std import tqdm
    except ImportError:  # a notebook dependency; the library itself does not need it
        raise NotYet("tqdm is not installed", hint="pip install tqdm (or poolscope[notebooks])",
                     show=False) from None
    return tqdm


def _calls_12_1(tasks: list) -> set[str]:
    failed = [t for t in tasks if t.outcome == "failed"]
    if failed:
        error = failed[0].error or "an error"
        hint = ("imap_unordered calls the function with each item as ONE argument, the "
                "tuple (site, page): give it a function of one argument that unpacks it, "
                "such as def check_one(link): return check_link(*link)"
                if UNPACK in error else "every link should be checked without an error")
        raise NotYet(f"{len(failed)} task(s) failed: {error}", hint=hint, show=False)
    expect_true(tasks, "the pool ran no tasks", hint="uncomment the code, then change it")
    return {t.call for t in tasks}


_SLOW_CALLS = {
    "imap": "imap hands out results in input order: every result waits behind the slow "
            "first link, so the bar stands still, then jumps. Use imap_unordered",
    "starmap": "starmap returns only when every link is checked: the bar goes from 0 to 8 at "
               "the end. Use imap_unordered (with a one-argument function)",
}


@exercise("12.1", "A bar that moves")
def ex12_1(bar: Any, trace: Any) -> str:
    tasks = recorded_tasks(trace, "ex12_1_trace")
    tqdm = _tqdm_class()
    calls = _calls_12_1(tasks)
    if "imap_unordered" not in calls:
        call = sorted(calls)[0]
        raise NotYet(f"your cell ran the links with {call}",
                     hint=_SLOW_CALLS.get(call, f"{call} hands out no result before the last "
                                                "link is checked: use imap_unordered"),
                     show=False)
    expect_true(largest_chunk(tasks) == 1, f"imap_unordered ran the links in chunks of "
                f"{largest_chunk(tasks)}", hint="a chunk's results come back together, after "
                "its last link: leave chunksize at 1, so the bar moves link by link")
    expect_true(isinstance(bar, tqdm), f"bar should be the tqdm bar; got {shown(bar)}",
                hint="bar = tqdm(pool.imap_unordered(...), total=len(links))")
    iterable = getattr(bar, "iterable", None)
    if isinstance(iterable, (list, tuple)):
        raise NotYet("the bar wrapped a list", hint="a bar around the input counts the "
                     "links as the pool takes them, and the pool takes all of them at once "
                     "(notebook 03): wrap the iterator that imap_unordered returns", show=False)
    expect_true(bar.total is not None, "the bar has no total, so it shows a count but no bar",
                hint="an iterator of results has no len(): pass total=len(links)")
    expect(bar.total, LINKS, message="the bar's total is not the number of links",
           hint="total=len(links)")
    ordered = isinstance(iterable, mp_pool.IMapIterator) and not isinstance(
        iterable, mp_pool.IMapUnorderedIterator)
    expect_true(not ordered, "the bar wrapped an imap iterator", hint=_SLOW_CALLS["imap"])
    return expect(bar.n, LINKS, message="the bar did not count every link",
                  hint="go through the whole bar: statuses = list(bar), or a for loop",
                  explain="the bar counted each link as its check ended: imap_unordered "
                          "hands out the results in the order they finish.")


# -- 12.2 ------------------------------------------------------------------------------

QUICK = 0.01  # seconds per download or line in the check's own runs of search()
SEARCH_SHOULD = ("search(page) should return page when the word is on it, and None "
                 "otherwise or when the flag is set, without raising")
SLOW_PAGE = 1  # a page of 4 lines without the word


def _cleanup(tasks: list, events: list) -> None:
    """NotYet unless the pool was shut down with nothing left running after the cell."""
    ends = [e for e in events if e.kind in ("close", "terminate", "exit")]
    expect_true(ends, "the pool was never shut down: its worker threads wait for work "
                "until the program ends", hint="end with pool.close() and pool.join()")
    running = [t for t in tasks if t.outcome == "running"]
    expect_true(not running, f"{len(running)} task(s) were still running when the cell "
                "ended", hint="pool.close() and pool.join(): join() waits for them")
    abandoned = [t for t in tasks if t.outcome == "abandoned"]
    last = max(e.start for e in ends)
    joined = any(e.kind == "join" and e.status == "ok" and e.start >= last for e in events)
    expect_true(not abandoned or joined, f"terminate() (or the end of a with block) left "
                f"{len(abandoned)} task(s) running into later cells",
                hint="call pool.join() after it: with the flag, the running tasks stop after "
                     "their line, so join() returns at once")


def _stop_now(stop: threading.Event) -> Callable[[Any], None]:
    def on_read(reads: Any) -> None:
        if reads.lines == 1:  # halfway through the page's first line
            stop.set()
    return on_read


def _behaviour(search: Callable[..., Any], stop: threading.Event) -> None:
    """Run the learner's search() three times on the check's schedule (NotYet if wrong)."""
    page = NEEDLE[0]
    stop.clear()
    got = _returned(_call(search, page, setup=lambda: reads_counted(QUICK)),
                    f"search({page})", SEARCH_SHOULD)
    expect(got, page, message=f"search({page}) should return {page}, the page with the word",
           hint="return page when WORD is in the line")
    stop.set()
    out = _call(search, SLOW_PAGE, setup=lambda: reads_counted(QUICK))
    got = _returned(out, f"search({SLOW_PAGE})", SEARCH_SHOULD)
    reads = out["inside"]
    expect_true(got is None, f"with the flag set, search({SLOW_PAGE}) returned {shown(got)}",
                hint="return None when the flag is set, as for a page without the word")
    expect_true(reads.downloads == 0 and reads.lines == 0, f"with the flag already set, "
                f"search({SLOW_PAGE}) still downloaded or read (a queued page)",
                hint="look at the flag first, before download(page): a queued page then "
                     "returns at once")
    stop.clear()
    out = _call(search, SLOW_PAGE, setup=lambda: reads_counted(QUICK, _stop_now(stop)))
    got = _returned(out, f"search({SLOW_PAGE})", SEARCH_SHOULD)
    read = out["inside"].lines
    expect_true(read <= 1, f"the check set the flag while search({SLOW_PAGE}) read line 0, "
                f"yet it read {read} of the {LINES[SLOW_PAGE]} lines",
                hint="a running task stops only when it looks: check stop.is_set() before "
                     "each line too, inside the loop")
    expect_true(got is None, f"stopped halfway, search({SLOW_PAGE}) returned {shown(got)}",
                hint="return None when the flag is set")


@exercise("12.2", "Running pages read on")
def ex12_2(found: Any, search: Any, stop: Any, trace: Any) -> str:
    tasks = recorded_tasks(trace, "ex12_2_trace")
    expect_true(isinstance(stop, threading.Event), f"stop should be a threading.Event; got "
                f"{shown(stop)}", hint="stop = threading.Event()")
    expect_true(callable(search), f"search should be a function; got {shown(search)}",
                hint="def search(page): ...")
    expect_true(tasks, "the pool ran no tasks", hint="uncomment the code, then fix it")
    expect(found, NEEDLE[0], message="found should be the page with the word",
           hint="found = page, for the page that search() did not return None for")
    was_set = stop.is_set()
    expect_true(was_set, "the flag was never set", hint="stop.set() when the word is found, "
                "so that the other tasks can see it")
    events = list(trace.events)
    _cleanup(tasks, events)
    try:
        _behaviour(search, stop)
    finally:
        stop.set()  # as the learner's cell left it
    return ("queued pages return at once, and a running page stops after the line it is "
            "reading: the pool was done one line after the word was found.")


# -- 12.3 ------------------------------------------------------------------------------

@exercise("12.3", "Ctrl-C inside a with block")
def ex12_3(running_on: Any, never_started: Any) -> str:
    running = whole(running_on, "running_on", "2")
    queued = whole(never_started, "never_started", "2")
    if running == 0:
        hint = ("KeyboardInterrupt is raised in the caller's thread only, and the with "
                "block's terminate() cannot stop a thread: the tasks running at 0.4 s run "
                "to their end")
    elif running in (4, 7):
        hint = ("leaving the with block calls terminate(): only the tasks already running "
                "go on; the queued one is dropped")
    else:
        hint = "three workers: tasks 0-2 ran from 0 to 0.3 s; which were running at 0.4 s?"
    expect(running, 3, message="running_on is not right yet", hint=hint)
    if queued == 0:
        hint = ("leaving the with block calls terminate(), which drops the task still in "
                "the queue")
    else:
        hint = "at 0.4 s three tasks had finished and three were running: how many were left?"
    return expect(queued, 1, message="never_started is not right yet", hint=hint,
                  explain="tasks 0-2 had finished; 3-5 were running and ran to their end "
                          "(terminate() cannot stop a thread), their results discarded; "
                          "task 6 was still queued and never started.")


# -- 12.4 ------------------------------------------------------------------------------

def wait_for_reply(reply: threading.Event) -> None:
    """Where the check's stuck task waits (the name the check looks for)."""
    reply.wait(GIVE_UP)


def download_page(where: dict, inside: threading.Event, reply: threading.Event) -> None:
    """The check's stuck task: it notes its thread's name, says it is inside, and waits."""
    where["name"] = threading.current_thread().name
    inside.set()
    wait_for_reply(reply)


def _names(value: Any) -> list[str] | None:
    """The function names of a stack as the learner gave it (names, or the FrameSummary
    objects of ``traceback.extract_stack``), or None when it is not a list of them."""
    if not isinstance(value, (list, tuple)):
        return None
    names = [getattr(item, "name", item) for item in value]
    return names if all(isinstance(n, str) for n in names) else None


def _with_a_stuck_task(busy_workers: Callable[[], Any]) -> tuple[dict[str, Any], str, str]:
    """Call busy_workers() while one worker of a pool of two waits in wait_for_reply()
    and the other is idle: (what the call gave, stuck worker's name, idle one's name).
    The pool is shut down before this returns."""
    before = set(threading.enumerate())
    pool = mp_pool.ThreadPool(2)
    where: dict[str, str] = {}
    inside, reply = threading.Event(), threading.Event()
    try:
        names = [t.name for t in threading.enumerate()
                 if t not in before and t.name.endswith("(worker)")]
        pool.apply_async(download_page, (where, inside, reply))
        expect_true(inside.wait(GIVE_UP) and len(names) == 2,
                    "the check's own pool did not start", hint="run the check again")
        out = _call(busy_workers)
    finally:
        reply.set()
        pool.close()
        pool.join()
    stuck = where["name"]
    return out, stuck, next(n for n in names if n != stuck)


def _entry(found: dict, name: str, what: str) -> list[str]:
    if name not in found:
        keys = list(found)
        if keys and all(isinstance(k, int) for k in keys):
            hint = ("your keys are thread idents: map them to names with "
                    "{t.ident: t.name for t in threading.enumerate()}")
        elif not keys:
            hint = ("your dict is empty: keep every thread whose name ends in (worker), "
                    "like 'Thread-3 (worker)', and look its frame up by thread.ident "
                    "(sys._current_frames() is keyed by it, not by native_id)")
        else:
            hint = "keep every thread whose name ends in (worker), like 'Thread-3 (worker)'"
        raise NotYet(f"busy_workers() has no entry for {what}", hint=hint, show=False)
    names = _names(found[name])
    if names is None:
        value = found[name]
        hint = ("the innermost call of a waiting thread is threading's wait(): list the "
                "whole stack, [call.name for call in traceback.extract_stack(frame)]"
                if isinstance(value, str) else
                "each value should be a list of function names, outermost first")
        raise NotYet(f"the entry for {what} is {shown(value)}", hint=hint, show=False)
    return names


@exercise("12.4", "Which worker waits where?")
def ex12_4(busy_workers: Any) -> str:
    expect_true(callable(busy_workers), f"busy_workers should be a function; got "
                f"{shown(busy_workers)}", hint="def busy_workers(): ...")
    out, stuck, idle = _with_a_stuck_task(busy_workers)
    found = _returned(out, "busy_workers()", "busy_workers() should return a dict without "
                      "raising: {thread name: [function names]}")
    expect_true(isinstance(found, dict), f"busy_workers() returned {shown(found)}",
                hint="return a dict: {thread name: [function names]}")
    stuck_calls = _entry(found, stuck, "the worker that runs the stuck task")
    idle_calls = _entry(found, idle, "the idle worker")
    if stuck_calls == idle_calls:
        raise NotYet("busy_workers() gave both workers the same stack",
                     hint="traceback.extract_stack() with no argument is the stack of the "
                          "thread that calls it: pass each thread's frame, "
                          "traceback.extract_stack(frame)", show=False)
    expect_true("download_page" in stuck_calls and "wait_for_reply" in stuck_calls,
                f"the stuck worker's entry, {shown(stuck_calls)}, does not show its task",
                hint="list every call of its stack, from sys._current_frames()[thread.ident]")
    expect_true("download_page" not in idle_calls, "the idle worker's entry shows the "
                "stuck task", hint="look up each thread's own frame by its ident")
    return ("the stuck worker was in wait_for_reply(), called by the task download_page(); "
            "the idle one waits in the pool's worker() for its next task.")
