"""The checks of 02-Submit-and-Block.ipynb: right answers pass, wrong ones get a hint
naming the mistake, nothing raises."""

from __future__ import annotations

import time
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope.tutorial.checks import nb02
from poolscope.tutorial.checks._traces import most_at_once
from poolscope.trace import FINISHED, Task, Trace

from check_helpers import (NASTY, NASTY_IDS, garbage_everywhere_never_raises,
                           nasty_answers_never_raise, not_yet, recorded, run)
from corpus import corpus_test, right, wrong

GARBAGE = [None, "page 1", 4 + 2j, ValueError("boom"), [1, "a", None], float("nan"), True,
           object()]
CHECKS = [nb02.ex2_1, nb02.ex2_2, nb02.ex2_3, nb02.ex2_4]
PAGES = [1, 2, 3, 4]
ROOMS = [(3, 4), (5, 2), (6, 6)]


def fetch(page):
    time.sleep(0.02)  # the notebook's 0.1 s: the checks never judge times
    return f"page {page}"


def area(width, height):
    time.sleep(0.01)
    return width * height


# --- the learners' cells for exercises 2.3 and 2.4, run for real ----------------------------

def one_map(size=4, **options):
    def cell():
        with ThreadPool(size) as pool:
            return pool.map(fetch, PAGES, **options)
    return cell


def the_loop_of_apply():  # the exercise's code, unchanged
    with ThreadPool(4) as pool:
        results = []
        for page in PAGES:
            results.append(pool.apply(fetch, (page,)))
    return results


def apply_async_then_get():
    with ThreadPool(4) as pool:
        pending = [pool.apply_async(fetch, (page,)) for page in PAGES]
        return [result.get(timeout=5) for result in pending]


def apply_async_get_each():
    with ThreadPool(4) as pool:
        return [pool.apply_async(fetch, (page,)).get(timeout=5) for page in PAGES]


def builtin_map_in_the_block():
    with ThreadPool(4):
        return list(map(fetch, PAGES))


def starmap(call="starmap"):
    def cell():
        with ThreadPool(3) as pool:
            if call == "starmap_async":
                return pool.starmap_async(area, ROOMS).get(timeout=5)
            return pool.starmap(area, ROOMS)
    return cell


def map_with_unpacking():
    with ThreadPool(3) as pool:
        return pool.map(lambda room: area(*room), ROOMS)


def loop_of_apply_unpacked():
    with ThreadPool(3) as pool:
        return [pool.apply(area, room) for room in ROOMS]


def starmap_per_room():
    with ThreadPool(3) as pool:
        return [pool.starmap(area, [room])[0] for room in ROOMS]


CORPUS = [
    right("2.1", "input order; 2 finishes first", ([0.2, 0.3, 0.1], [2, 0, 1]),
          praise="in input order"),
    wrong("2.1", "results sorted by finishing", ([0.1, 0.2, 0.3], [2, 0, 1]),
          hint="in the order of its input"),
    wrong("2.1", "finish in input order", ([0.2, 0.3, 0.1], [0, 1, 2]),
          hint="the shortest nap finishes first"),
    wrong("2.1", "finish order as seconds", ([0.2, 0.3, 0.1], [0.1, 0.2, 0.3]),
          hint="item *indexes*"),
    right("2.2", "3 and 10", (3, 10), praise="rounded up to 3"),
    wrong("2.2", "one chunk per worker", (10, 3), hint="four chunks per worker"),
    wrong("2.2", "the remainder dropped", (2, 15), hint="rounded up"),
    wrong("2.2", "chunks counted wrong", (3, 9), hint="chunks of 3 items"),
    right("2.3", "one pool.map", lambda: recorded(one_map()), praise="one map call"),
    right("2.3", "apply_async, then get", lambda: recorded(apply_async_then_get),
          praise="before it waited"),
    wrong("2.3", "the loop of apply, unchanged", lambda: recorded(the_loop_of_apply),
          hint="still calls apply"),
    wrong("2.3", "ThreadPool(2).map", lambda: recorded(one_map(2)),
          hint="keep ThreadPool(4)"),
    wrong("2.3", "map with chunksize=2", lambda: recorded(one_map(chunksize=2)),
          hint="chunksize=2 puts 2 pages in one chunk"),
    wrong("2.3", "map with chunksize=4", lambda: recorded(one_map(chunksize=4)),
          hint="chunksize=4 puts 4 pages in one chunk"),
    wrong("2.3", "apply_async(...).get() per page", lambda: recorded(apply_async_get_each),
          hint="waited for one page's result before it sent the next"),
    wrong("2.3", "the built-in map", lambda: recorded(builtin_map_in_the_block),
          hint="fetch ran outside the pool"),
    right("2.4", "pool.starmap", lambda: recorded(starmap()), praise="area(3, 4)"),
    right("2.4", "starmap_async().get()", lambda: recorded(starmap("starmap_async"))),
    wrong("2.4", "map with a lambda that unpacks", lambda: recorded(map_with_unpacking),
          hint="starmap unpacks"),
    wrong("2.4", "a loop of apply", lambda: recorded(loop_of_apply_unpacked),
          hint="your cell used apply, not starmap"),
    wrong("2.4", "one starmap per room", lambda: recorded(starmap_per_room),
          hint="one call does every room"),
]
test_corpus = corpus_test(nb02, CORPUS)


def trace_of(call: str, spans: list[tuple[float, float]]) -> Trace:
    """A trace of one task per (start, end), all from one call (no pool needed)."""
    tasks = [Task(0, call, 0 if call.endswith("map") else i, i, f"w{i}", i, 0.0, a, b,
                  FINISHED, caller="MainThread") for i, (a, b) in enumerate(spans)]
    return Trace.from_records(tasks)


PARALLEL = [(0.0, 0.1)] * 4
ONE_AT_A_TIME = [(0.0, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4)]


# --- answers of other forms and traces of other shapes ----------------------------------------

@pytest.mark.parametrize("results, order, hint", [
    ([1, 2, 3], [2, 0, 1], "one result per item"),
    ([0.2, 0.3, 0.1], [1, 0, 2], "all start together"),
    ("0.2, 0.3, 0.1", [2, 0, 1], "write a list"),
    ([0.2, 0.3, 0.1], 2, "write a list"),
])
def test_ex2_1_other_wrong_answers(capsys, results, order, hint):
    ok, out = run(nb02.ex2_1, capsys, results, order)
    assert ok is False and not_yet(out, hint), out


@pytest.mark.parametrize("chunksize, chunks, hint", [
    (5, 6, "divmod(30, 3 * 4)"),
    ("3", 10, "divmod(30, 3 * 4)"),
])
def test_ex2_2_other_wrong_answers(capsys, chunksize, chunks, hint):
    ok, out = run(nb02.ex2_2, capsys, chunksize, chunks)
    assert ok is False and not_yet(out, hint), out


def test_ex2_2_agrees_with_the_pool():
    # The answer the check expects is what a real pool does.
    with poolscope.record() as trace:
        with ThreadPool(3) as pool:
            pool.map(abs, range(30))
    sizes = {}
    for task in trace.tasks:
        sizes[task.chunk] = sizes.get(task.chunk, 0) + 1
    assert len(sizes) == 10 and set(sizes.values()) == {3}


def test_ex2_2_a_huge_int_is_feedback(capsys):
    ok, out = run(nb02.ex2_2, capsys, 10 ** 5000, 1)
    assert ok is False and "<an int of about 5000 digits>" in out


def test_ex2_3_does_not_judge_times(capsys):
    # One map on 4 workers whose tasks a loaded machine ran one after another: the cell
    # did the right thing, and the verdict does not depend on the machine's load.
    ok, out = run(nb02.ex2_3, capsys, [f"page {p}" for p in PAGES],
                  trace_of("map", ONE_AT_A_TIME))
    assert ok is True, out


@pytest.mark.parametrize("results, trace, hint", [
    (nb02.PAGES_2_3, trace_of("map", []), "pool.map(fetch, pages)"),
    (nb02.PAGES_2_3[::-1], trace_of("map", PARALLEL), "in the order of the pages"),
    (nb02.PAGES_2_3[:3], trace_of("map", PARALLEL), "one result per page"),
    (nb02.PAGES_2_3, None, "%%timeline --out ex2_3_trace"),
    (nb02.PAGES_2_3, "ex2_3_trace", "%%timeline --out ex2_3_trace"),
])
def test_ex2_3_wrong_shapes(capsys, results, trace, hint):
    ok, out = run(nb02.ex2_3, capsys, results, trace)
    assert ok is False and not_yet(out, hint), out


@pytest.mark.parametrize("areas, trace, hint", [
    ([10, 12, 36], trace_of("starmap", PARALLEL[:3]), "keep the order of rooms"),
    ([7, 7, 12], trace_of("starmap", PARALLEL[:3]), "area(3, 4) is 12"),
    ([12, 10, 36], trace_of("starmap", []), "inside the with block"),
    ([12, 10, 36], 42, "%%timeline --out ex2_4_trace"),
])
def test_ex2_4_wrong_shapes(capsys, areas, trace, hint):
    ok, out = run(nb02.ex2_4, capsys, areas, trace)
    assert ok is False and not_yet(out, hint), out


# --- every check: the stub's ..., garbage and nasty answers ---------------------------------

@pytest.mark.parametrize("check", CHECKS)
def test_ellipsis_asks_for_an_answer(capsys, check):
    ok, out = run(check, capsys, ..., ...)
    assert ok is False and "(replace the ... with your answer)" in out
    ok, out = run(check, capsys, [1], ...)  # one answer given, one still a stub
    assert ok is False and "(replace the ... with your answer)" in out


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("junk", GARBAGE, ids=repr)
def test_garbage_never_raises(capsys, check, junk):
    garbage_everywhere_never_raises(capsys, check, junk)


RIGHT = [(nb02.ex2_1, ([0.2, 0.3, 0.1], [2, 0, 1])), (nb02.ex2_2, (3, 10)),
         (nb02.ex2_3, (nb02.PAGES_2_3, trace_of("map", PARALLEL))),
         (nb02.ex2_4, (nb02.AREAS_2_4, trace_of("starmap", PARALLEL[:3])))]


@pytest.mark.parametrize("check, right", RIGHT, ids=["2.1", "2.2", "2.3", "2.4"])
@pytest.mark.parametrize("junk", NASTY, ids=NASTY_IDS)
def test_nasty_answers_never_raise(capsys, check, right, junk):
    assert check(*right, quiet=True) is True
    nasty_answers_never_raise(capsys, check, junk, right)


def test_quiet_prints_nothing(capsys):
    assert nb02.ex2_2(3, 10, quiet=True) is True
    assert nb02.ex2_2(4, 10, quiet=True) is False
    assert capsys.readouterr().out == ""


def test_most_at_once():
    assert most_at_once(trace_of("map", PARALLEL).tasks) == 4
    assert most_at_once(trace_of("map", ONE_AT_A_TIME).tasks) == 1  # end == next start
    assert most_at_once([]) == 0
