"""The checks of 06-Playground.ipynb: right answers pass, wrong ones get a hint, nothing raises.

Exercise 6.4's check runs the learner's Experiment (in a pool of its own) and counts.
"""

from __future__ import annotations

import threading
import time
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope.tutorial.checks import nb06
from poolscope.tutorial.playground import Experiment
from poolscope.tutorial.playground import run as run_experiment

from check_helpers import not_yet, run
from corpus import corpus_test, right, wrong

GARBAGE = [None, "3", 3 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]


def fix(**changes):
    """The learner's fix of exercise 6.3's experiment (apply_async, chunksize=3)."""
    settings = dict(workers=4, tasks=12, duration=0.1, method="apply_async", chunksize=3)
    return (Experiment(**{**settings, **changes}),)


CORPUS = [
    # 6.1: ThreadPool(2).map(time.sleep, [0.7, 0.1, 0.1, 0.1, 0.1]) - run for real below
    right("6.1", "item 0 alone; 1, 2, 3, 4, then 0", ([0], [1, 2, 3, 4, 0]),
          praise="took each next item as soon as it was free"),
    right("6.1", "no other item (an empty list), as a tuple", ([], (1, 2, 3, 4, 0))),
    wrong("6.1", "items dealt out in turn", ([0, 2, 4], [1, 3, 0, 2, 4]),
          hint="does not deal the items out in turn"),
    wrong("6.1", "the list cut in two halves", ([0, 1, 2], [3, 4, 0, 1, 2]),
          hint="does not cut the list into one part per worker"),
    wrong("6.1", "item 0's worker takes the last item", ([0, 4], [1, 2, 3, 0, 4]),
          hint="has the other worker left any item for it?"),
    wrong("6.1", "finished in input order", ([0], [0, 1, 2, 3, 4]),
          hint="that is the order of map's results"),
    wrong("6.1", "item 0 before the last short one", ([0], [1, 2, 3, 0, 4]),
          hint="does it finish them before item 0's 0.7 s are over?"),
    wrong("6.1", "an item missing from the order", ([0], [1, 2, 3, 4]),
          hint="list each of the items 0 to 4 once"),

    # 6.2: Experiment(workers=4, tasks=10, duration=0.1, chunksize=4)
    right("6.2", "8 and 9; one task per chunk", ([8, 9], "b"), praise="0-3, 4-7, 8-9"),
    right("6.2", "9 and 8, (B)", ((9, 8), "(B)")),
    wrong("6.2", "a full chunk of 4 past the end", ([8, 9, 10, 11], "b"),
          hint="only 10 items"),
    wrong("6.2", "the last four items", ([6, 7, 8, 9], "b"), hint="from the start of the list"),
    wrong("6.2", "every fourth item", ([3, 7], "b"), hint="not every fourth item"),
    wrong("6.2", "a worker runs its chunk's items at once", ([8, 9], "a"),
          hint="the items of its chunk run one after another"),
    wrong("6.2", "one worker per chunk is started", ([8, 9], "c"),
          hint="all 4 workers start with the pool"),
    wrong("6.2", "the idle worker waits for the GIL", ([8, 9], "d"),
          hint="a sleeping thread lets go of the GIL"),

    right("6.3", "map_async, chunksize=3", fix(method="map_async"), praise="4 chunks of 3"),
    right("6.3", "map, chunksize=3", fix(method="map")),
    right("6.3", "imap, chunksize=3", fix(method="imap")),
    wrong("6.3", "left as it was", fix(), hint="takes no chunksize"),
    wrong("6.3", "chunksize removed, still apply_async", fix(chunksize=None),
          hint="switch to a method that takes a chunksize"),
    wrong("6.3", "map with its default chunksize", fix(method="map", chunksize=None),
          hint="pass chunksize=3"),
    wrong("6.3", "chunksize=4", fix(method="map", chunksize=4), hint="pass chunksize=3"),
    wrong("6.3", "3 workers", fix(method="map", workers=3), hint="keep workers=4 and tasks=12"),

    right("6.4", "apply_async, with block",
          (Experiment(workers=4, tasks=10, duration=0.1, method="apply_async",
                      shutdown="with"),), praise="the 6 never ran"),
    right("6.4", "map_async, terminate",
          (Experiment(workers=4, tasks=10, duration=0.05, method="map_async",
                      shutdown="terminate"),)),
    right("6.4", "starmap_async with callbacks, with block",
          (Experiment(workers=4, tasks=10, duration=0.05, method="starmap_async",
                      shutdown="with", callbacks=True),)),
    wrong("6.4", "map (blocking), terminate",
          (Experiment(workers=4, tasks=10, method="map", shutdown="terminate"),),
          hint="submit with apply_async"),
    wrong("6.4", "map_async, close and join",
          (Experiment(workers=4, tasks=10, method="map_async"),),
          hint="shut the pool down with terminate"),
    wrong("6.4", "map_async in chunks of 2, with block",
          (Experiment(workers=4, tasks=10, duration=0.05, method="map_async", chunksize=2,
                      shutdown="with"),), hint="a running chunk takes several items with it"),
    wrong("6.4", "12 tasks, so that 8 are dropped",
          (Experiment(workers=4, tasks=12, method="map_async", shutdown="with"),),
          hint="keep workers=4"),
    wrong("6.4", "long tasks",
          (Experiment(workers=4, tasks=10, duration=2.0, method="map_async", shutdown="with"),),
          hint="0.1 s is plenty"),
]
test_corpus = corpus_test(nb06, CORPUS)


@pytest.mark.parametrize("check, arity", [(nb06.ex6_1, 2), (nb06.ex6_2, 2), (nb06.ex6_3, 1),
                                          (nb06.ex6_4, 1)])
def test_unanswered_and_garbage_never_raise(check, arity, capsys):
    ok, out = run(check, capsys, *[...] * arity)
    assert ok is False and "not solved yet (replace the ... with your answer)" in out
    for junk in GARBAGE:
        ok, out = run(check, capsys, *[junk] * arity)
        assert ok is False and "not solved yet." in out and out.isascii()


def test_ex6_1_the_right_answer_is_what_a_real_pool_does():
    # The notebook's cell, with item 0 held until items 1 to 4 have run (an Event rather
    # than a long sleep, so that a loaded machine cannot change who takes what): a pool
    # that dealt items out in turn would leave item 2 behind item 0, and time out.
    short_ones_done = threading.Event()
    done = []

    def nap(item):
        if item == 0:
            assert short_ones_done.wait(10), "items 1-4 did not all run meanwhile"
            time.sleep(0.2)  # item 4's finish is recorded when it returns, just after
        else:
            done.append(item)
            if len(done) == 4:
                short_ones_done.set()
        return item

    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            pool.map(nap, range(len(nb06.SLEEPS_6_1)))
    by_worker = {}
    for task in trace.tasks:
        by_worker.setdefault(task.worker, []).append(task.index)
    same = next(items for items in by_worker.values() if 0 in items)
    order = [t.index for t in sorted(trace.tasks, key=lambda t: t.finished)]
    assert nb06.ex6_1(same, order, quiet=True), (same, order)


def test_ex6_2_the_right_answer_is_what_the_experiment_runs():
    trace = run_experiment(Experiment(workers=4, tasks=10, duration=0.01, chunksize=4))
    chunks = {}
    for task in trace.tasks:
        chunks.setdefault(task.chunk, []).append(task.index)
    last = max(chunks.values(), key=max)
    assert sorted(map(sorted, chunks.values())) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len({t.worker for t in trace.tasks}) == 3  # a fourth worker had nothing
    assert nb06.ex6_2(last, "b", quiet=True)


@pytest.mark.parametrize("answer, hint", [
    (([0], [1, 2, 3, 4, 0.5]), "each item of finish_order should be a whole number"),
    (("0", [1, 2, 3, 4, 0]), "same_worker_as_0 should be a list"),
    (([8, 9], "e"), "one of the letters"),
])
def test_answers_of_other_forms(capsys, answer, hint):
    check = nb06.ex6_2 if answer[0] == [8, 9] else nb06.ex6_1
    ok, out = run(check, capsys, *answer)
    assert ok is False and not_yet(out, hint), out


@pytest.mark.parametrize("letter", ["a", "c", "d"])
def test_ex6_2_a_wrong_letter_does_not_give_the_right_one_away(capsys, letter):
    ok, out = run(nb06.ex6_2, capsys, [8, 9], letter)
    assert ok is False and "(b)" not in out and "'b'" not in out, out


@pytest.mark.parametrize("method", ["starmap", "starmap_async", "imap_unordered"])
def test_ex6_3_every_method_with_a_chunksize(method, capsys):
    ok, out = run(nb06.ex6_3, capsys, *fix(method=method))
    assert ok and "4 chunks of 3" in out


def test_ex6_3_right_chunks_but_wrong_workers(capsys):
    # map's default for 12 items on 1 worker is divmod(12, 4) = 3: right, but keep workers=4
    ok, out = run(nb06.ex6_3, capsys, Experiment(workers=1, tasks=12))
    assert ok is False and "keep workers=4" in out


def test_ex6_4_cannot_run(capsys):
    ok, out = run(nb06.ex6_4, capsys, Experiment(workers=0, tasks=10))
    assert ok is False and "cannot run: workers must be a whole number from 1 to 64 (got 0)" in out
