"""Checks for the exercises of ``06-Playground.ipynb``.

    >>> ok = ex6_1(3, 0.3)
    Exercise 6.1 - Waves of equal tasks: solved!
      10 tasks on 4 workers: waves of 4, 4 and 2, each 0.1 s long.
    >>> ex6_1(2, 0.25)
    Exercise 6.1 - Waves of equal tasks: not solved yet.
      waves is not right yet
      expected: 3
      got:      2
      hint: 2 waves of 4 workers hold only 8 tasks; the 9th and 10th need one more
    False

Exercises 6.3 and 6.4 take an :class:`~poolscope.tutorial.playground.Experiment`; 6.4 runs it
(in a pool of its own, in about half a second) and counts what the shutdown dropped.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from .._experiment import APPLY, ASYNC, Experiment, run
from ...trace import NEVER_STARTED
from . import NotYet, exercise, expect

_TOLERANCE = 0.02  # seconds: a makespan prediction within this counts as right
RUN_SECONDS = 0.5  # the shortest tasks exercise 6.4 runs (see ex6_4)


def _number(value: Any, name: str, example: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise NotYet(f"{name} should be a number", expected=example, got=value,
                     hint=f"write a number, like {example}")
    return value


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

@exercise("6.1", "Waves of equal tasks")
def ex6_1(waves: Any, makespan: Any) -> str:
    waves = _number(waves, "waves", "3")
    makespan = _number(makespan, "makespan", "0.3")
    hints = {2: "2 waves of 4 workers hold only 8 tasks; the 9th and 10th need one more",
             10: "that is one task at a time; 4 workers run 4 tasks at once",
             2.5: "a wave is a round of tasks that run side by side: count whole rounds"}
    if waves != 3:
        raise NotYet("waves is not right yet", expected=3, got=waves,
                     hint=hints.get(waves, "divide the tasks by the workers and round up"))
    if abs(makespan - 0.25) < 1e-9:
        raise NotYet("makespan is not right yet", expected=0.3, got=makespan,
                     hint="the last wave has only 2 tasks, but each still takes 0.1 s")
    if abs(makespan - 0.3) > _TOLERANCE:
        raise NotYet("makespan is not right yet", expected=0.3, got=makespan,
                     hint="each wave takes as long as one task: 0.1 s")
    return "10 tasks on 4 workers: waves of 4, 4 and 2, each 0.1 s long."


# -- 6.2 ------------------------------------------------------------------------------

@exercise("6.2", "Chunks and idle workers")
def ex6_2(makespan: Any, idle: Any) -> str:
    makespan = _number(makespan, "makespan", "0.4")
    idle = _number(idle, "idle", "2")
    if abs(makespan - 0.2) < _TOLERANCE:
        raise NotYet("makespan is not right yet", expected=0.4, got=makespan,
                     hint="that is 2 waves of 4 single tasks; with chunksize=4 a worker "
                          "takes 4 items at once and runs them one after another")
    if abs(makespan - 0.4) > _TOLERANCE:
        raise NotYet("makespan is not right yet", expected=0.4, got=makespan,
                     hint="8 items in chunks of 4: how many items does one worker run in a row?")
    expect(idle, 2, message="idle is not right yet",
           hint="8 items in chunks of 4 make 2 chunks, and a chunk goes to one worker")
    return ("2 chunks of 4: two workers run 4 tasks each in a row (0.4 s), two get nothing. "
            "map's default here would be chunksize 1 (divmod(8, 4 * 4) rounded up).")


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
