"""The checks of 06-Playground.ipynb: right answers pass, wrong ones get a hint, nothing raises.

Exercise 6.4's check runs the learner's Experiment (in a pool of its own) and counts.
"""

from __future__ import annotations

import pytest

from poolscope.tutorial.checks import nb06
from poolscope.tutorial.playground import Experiment

from check_helpers import run
from corpus import corpus_test, right, wrong

GARBAGE = [None, "3", 3 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]


def fix(**changes):
    """The learner's fix of exercise 6.3's experiment (apply_async, chunksize=3)."""
    settings = dict(workers=4, tasks=12, duration=0.1, method="apply_async", chunksize=3)
    return (Experiment(**{**settings, **changes}),)


CORPUS = [
    right("6.1", "3 waves, 0.3 s", (3, 0.3), praise="waves of 4, 4 and 2"),
    right("6.1", "3.0 waves, 0.31 s", (3.0, 0.31)),
    wrong("6.1", "2 waves (10 // 4)", (2, 0.2), hint="hold only 8 tasks"),
    wrong("6.1", "one task at a time", (10, 1.0), hint="one task at a time"),
    wrong("6.1", "2.5 waves (10 / 4)", (2.5, 0.25), hint="count whole rounds"),
    wrong("6.1", "the short last wave counted as half", (3, 0.25),
          hint="the last wave has only 2 tasks"),
    wrong("6.1", "4 waves", (4, 0.4), hint="divide the tasks by the workers and round up"),

    right("6.2", "0.4 s, 2 idle", (0.4, 2), praise="two get nothing"),
    wrong("6.2", "as if chunksize were 1", (0.2, 0), hint="takes 4 items at once"),
    wrong("6.2", "all 8 in a row", (0.8, 2),
          hint="how many items does one worker run in a row"),
    wrong("6.2", "no worker idle", (0.4, 0), hint="make 2 chunks"),
    wrong("6.2", "two waves of single tasks", (0.2, 2), hint="that is 2 waves of 4 single tasks"),

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


def test_ex6_1_each_wave_takes_one_task_length(capsys):
    ok, out = run(nb06.ex6_1, capsys, 3, 1.0)
    assert ok is False and "each wave takes as long as one task" in out


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
    assert ok is False and "cannot run: workers must be at least 1" in out
