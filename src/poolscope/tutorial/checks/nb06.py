"""Checks for the exercises of ``06-Playground.ipynb``.

    >>> ok = ex6_1([0], [1, 2, 3, 4, 0])
    Exercise 6.1 - Who takes the next item?: solved!
      item 0 kept its worker busy for 0.7 s; the other worker took each next item as soon as it was free: 1, 2, 3 and 4.
    >>> ex6_1([0, 2, 4], [1, 2, 3, 4, 0])
    Exercise 6.1 - Who takes the next item?: not solved yet.
      same_worker_as_0 = [0, 2, 4] is not right yet
      hint: the pool does not deal the items out in turn: a worker takes the next item from the queue when it is free, and item 0 keeps its worker busy for 0.7 s
    False

Exercises 6.1 and 6.2 judge predictions (lists and a letter), so no run can flip them.
Exercises 6.3 and 6.4 take an :class:`~poolscope.tutorial.playground.Experiment`; 6.4
runs it (in a pool of its own, in about half a second) and counts what the shutdown
dropped.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..playground import Experiment, run
from ...trace import NEVER_STARTED
from . import NotYet, exercise, expect
from ._feedback import expect_letter, shown
from ._traces import as_list, whole

RUN_SECONDS = 0.5  # the shortest tasks exercise 6.4 runs (see ex6_4)
APPLY = ("apply", "apply_async")  # one task per call: they take no chunksize
ASYNC = ("apply_async", "map_async", "starmap_async")  # the caller goes on at once


def _items(value: Any, name: str, example: str) -> list[int]:
    """``value`` as a list of whole numbers (item indexes), or NotYet."""
    items = as_list(value, name, example)
    return [whole(x, f"each item of {name}", "3 (an item index)") for x in items]


def _experiment(value: Any, name: str) -> Experiment:
    if not isinstance(value, Experiment):
        raise NotYet(f"{name} should be an Experiment", got=value, show=False,
                     hint="write Experiment(workers=..., tasks=..., ...), as in the cells above")
    problems = value.validate()
    if problems:
        raise NotYet(f"this experiment cannot run: {problems[0]}", show=False,
                     hint="Experiment.validate() lists what is wrong")
    return value


# -- 6.1 ------------------------------------------------------------------------------

# ThreadPool(2).map(time.sleep, SLEEPS_6_1): 5 items on 2 workers make chunks of one item
# (divmod(5, 2 * 4) rounded up), so a worker takes the next item whenever it is free.
SLEEPS_6_1 = [0.7, 0.1, 0.1, 0.1, 0.1]
FINISH_ORDER_6_1 = [1, 2, 3, 4, 0]


@exercise("6.1", "Who takes the next item?")
def ex6_1(same_worker_as_0: Any, finish_order: Any) -> str:
    items = _items(same_worker_as_0, "same_worker_as_0", "[0, 3]")
    order = _items(finish_order, "finish_order", "[4, 3, 2, 1, 0]")
    others = sorted(set(items) - {0})  # with or without item 0 itself
    if others:
        if others == [2, 4]:
            hint = ("the pool does not deal the items out in turn: a worker takes the next "
                    "item from the queue when it is free, and item 0 keeps its worker busy "
                    "for 0.7 s")
        elif others == [1, 2]:
            hint = ("map does not cut the list into one part per worker: 5 items on 2 "
                    "workers go out one at a time (chunks of 1), each to whichever worker "
                    "is free")
        else:
            hint = ("item 0 keeps its worker busy for 0.7 s: by then, has the other worker "
                    "left any item for it?")
        raise NotYet(f"same_worker_as_0 = {shown(same_worker_as_0)} is not right yet",
                     hint=hint, show=False)
    if order != FINISH_ORDER_6_1:
        if sorted(order) != sorted(FINISH_ORDER_6_1):
            hint = "list each of the items 0 to 4 once, the first to finish first"
        elif order == [0, 1, 2, 3, 4]:
            hint = ("that is the order of map's results (input order); the items finish "
                    "when their sleeps end, and item 0 sleeps 0.7 s")
        elif order[-1] != 0:
            hint = ("one worker runs items 1 to 4 one after another, 0.1 s each: does it "
                    "finish them before item 0's 0.7 s are over?")
        else:
            hint = "the items 1 to 4 run one after another on one worker, in the queue's order"
        raise NotYet(f"finish_order = {shown(finish_order)} is not right yet", hint=hint,
                     show=False)
    return ("item 0 kept its worker busy for 0.7 s; the other worker took each next item "
            "as soon as it was free: 1, 2, 3 and 4.")


# -- 6.2 ------------------------------------------------------------------------------

# Experiment(workers=4, tasks=10, duration=0.1, chunksize=4): chunks 0-3, 4-7 and 8-9.
LAST_CHUNK_6_2 = [8, 9]
_HINTS_6_2 = {
    "a": "a worker runs one item at a time: the items of its chunk run one after another",
    "c": "all 4 workers start with the pool, before anything is submitted (notebook 01): "
         "the fourth is there, with nothing to take",
    "d": "these tasks sleep, and a sleeping thread lets go of the GIL: the fourth worker "
         "has no task at all",
}


@exercise("6.2", "What chunksize=4 changes")
def ex6_2(last_chunk: Any, why: Any) -> str:
    items = sorted(_items(last_chunk, "last_chunk", "[3, 4]"))
    if items != LAST_CHUNK_6_2:
        if any(i > 9 for i in items):
            hint = "there are only 10 items, 0 to 9: the last chunk holds what is left"
        elif items and items != list(range(items[0], items[0] + len(items))):
            hint = ("a chunk is a run of neighbouring items (a slice of the list), not "
                    "every fourth item")
        elif items == [6, 7, 8, 9]:
            hint = ("map cuts chunks of 4 from the start of the list, in order: the last "
                    "one holds what is left")
        else:
            hint = "map cuts the list into chunks of 4 items from the start: which are left?"
        raise NotYet(f"last_chunk = {shown(last_chunk)} is not right yet", hint=hint,
                     show=False)
    expect_letter(why, "b", _HINTS_6_2)
    return ("3 chunks (0-3, 4-7, 8-9), each one task for one worker, which runs its items "
            "one after another: the fourth worker finds the queue empty.")


# -- 6.3 ------------------------------------------------------------------------------

@exercise("6.3", "Chunks of three")
def ex6_3(fixed: Any) -> str:
    if isinstance(fixed, Experiment) and fixed.method in APPLY and fixed.chunksize is not None:
        raise NotYet(f"{fixed.method} takes no chunksize: it sends one task per call",
                     show=False, hint="which methods take a chunksize? map, starmap, imap "
                                      "and their variants")
    e = _experiment(fixed, "fixed")
    expect((e.workers, e.tasks), (4, 12), message="workers and tasks are not right yet",
           hint="keep workers=4 and tasks=12")
    if e.method in APPLY:
        raise NotYet(f"{e.method} sends one task per call: its chunks are always of 1",
                     show=False, hint="switch to a method that takes a chunksize (map, "
                                      "map_async, imap, ...) and pass chunksize=3")
    expect(e.chunk, 3, message="the chunksize the pool uses is not right yet",
           hint="pass chunksize=3")
    return f"{e.method} with chunksize=3 sends the 12 items as 4 chunks of 3."


# -- 6.4 ------------------------------------------------------------------------------

@exercise("6.4", "Drop six tasks")
def ex6_4(answer: Any) -> str:
    e = _experiment(answer, "answer")
    expect((e.workers, e.tasks), (4, 10), message="workers and tasks are not right yet",
           hint="keep workers=4 and tasks=10; change how the tasks are sent and the pool shut down")
    if e.duration > 0.5:
        raise NotYet("keep the tasks short", expected="duration <= 0.5", got=e.duration,
                     hint="0.1 s is plenty", show=True)
    if e.method not in ASYNC:
        raise NotYet(f"{e.method} waits for its results, so nothing is pending at shutdown",
                     show=False, hint="submit with apply_async, map_async or starmap_async")
    if e.shutdown == "close-join":
        raise NotYet("close() + join() lets every queued task run", show=False,
                     hint="shut the pool down with terminate, or leave a with-block")
    # The run shuts down once the first wave is running; a worker must not finish its
    # task before that (a loaded machine can stall the caller for a tenth of a second),
    # so the check runs the tasks for at least RUN_SECONDS: what the shutdown drops does
    # not depend on how long the tasks are.
    probe = dataclasses.replace(e, duration=max(e.duration, RUN_SECONDS))
    dropped = run(probe).count(NEVER_STARTED)
    expect(dropped, 6, message="the number of tasks that never started is not right yet",
           hint="terminate() lets each of the 4 workers finish what it is running; with a "
                "chunksize above 1 a running chunk takes several items with it")
    way = "leaving the with-block" if e.shutdown == "with" else "terminate()"
    return (f"{way} came while 4 tasks were running and 6 were queued: the 6 never ran, "
            "and the 4 results were discarded.")
