"""The checks of 02-Submit-and-Block.ipynb: right answers pass, wrong ones get a hint,
nothing raises."""

from __future__ import annotations

import time
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope.checks import nb02
from poolscope.trace import FINISHED, Task, Trace

from check_helpers import garbage_everywhere_never_raises, not_yet, run

GARBAGE = [None, "page 1", 4 + 2j, ValueError("boom"), [1, "a", None], float("nan"), True,
           object()]
CHECKS = [nb02.ex2_1, nb02.ex2_2, nb02.ex2_3, nb02.ex2_4]


def trace_of(call: str, spans: list[tuple[float, float]]) -> Trace:
    """A trace of one task per (start, end), all from one call (no pool needed)."""
    tasks = [Task(0, call, 0 if call.endswith("map") else i, i, f"w{i}", i, 0.0, a, b,
                  FINISHED, caller="MainThread") for i, (a, b) in enumerate(spans)]
    return Trace.from_records(tasks)


PARALLEL = [(0.0, 0.1)] * 4
ONE_AT_A_TIME = [(0.0, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4)]


def fetch(page):
    time.sleep(0.01)
    return f"page {page}"


def area(width, height):
    return width * height


# --- 2.1 the order of the results ---------------------------------------------------------

def test_ex2_1_right(capsys):
    ok, out = run(nb02.ex2_1, capsys, [0.2, 0.3, 0.1], [2, 0, 1])
    assert ok is True and "solved!" in out
    assert nb02.ex2_1((0.2, 0.3, 0.1), (2, 0, 1), quiet=True)


@pytest.mark.parametrize("results, order, hint", [
    ([0.1, 0.2, 0.3], [2, 0, 1], "in the order of its input"),
    ([1, 2, 3], [2, 0, 1], "one result per item"),
    ([0.2, 0.3, 0.1], [0, 1, 2], "the shortest nap finishes first"),
    ([0.2, 0.3, 0.1], [0.1, 0.2, 0.3], "item *indexes*"),
    ([0.2, 0.3, 0.1], [1, 0, 2], "all start together"),
    ("0.2, 0.3, 0.1", [2, 0, 1], "write a list"),
    ([0.2, 0.3, 0.1], 2, "write a list"),
])
def test_ex2_1_wrong(capsys, results, order, hint):
    ok, out = run(nb02.ex2_1, capsys, results, order)
    assert ok is False and not_yet(out, hint), out


# --- 2.2 the default chunksize ------------------------------------------------------------

def test_ex2_2_right(capsys):
    ok, out = run(nb02.ex2_2, capsys, 3, 10)
    assert ok is True and "solved!" in out and "rounded up to 3" in out


@pytest.mark.parametrize("chunksize, chunks, hint", [
    (10, 3, "four chunks per worker"),
    (2, 15, "rounded up"),
    (5, 6, "divmod(30, 3 * 4)"),
    (3, 9, "chunks of 3 items"),
    ("3", 10, "divmod(30, 3 * 4)"),
])
def test_ex2_2_wrong(capsys, chunksize, chunks, hint):
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


# --- 2.3 one map instead of a loop of apply -------------------------------------------------

def test_ex2_3_right_with_synthetic_trace(capsys):
    ok, out = run(nb02.ex2_3, capsys, list(nb02.PAGES_2_3), trace_of("map", PARALLEL))
    assert ok is True and "4 tasks ran at the same time" in out


def test_ex2_3_right_with_a_real_pool(capsys):
    with poolscope.record() as trace:
        with ThreadPool(4) as pool:
            results = pool.map(fetch, [1, 2, 3, 4])
    ok, out = run(nb02.ex2_3, capsys, results, trace)
    assert ok is True and "solved!" in out


def test_ex2_3_the_loop_of_apply_is_not_solved(capsys):
    with poolscope.record() as trace:
        with ThreadPool(4) as pool:
            results = [pool.apply(fetch, (page,)) for page in [1, 2, 3, 4]]
    ok, out = run(nb02.ex2_3, capsys, results, trace)
    assert ok is False and not_yet(out, "still calls apply")


@pytest.mark.parametrize("results, trace, hint", [
    (nb02.PAGES_2_3, trace_of("map", ONE_AT_A_TIME), "one at a time"),
    (nb02.PAGES_2_3, trace_of("map", []), "pool.map(fetch, pages)"),
    (nb02.PAGES_2_3[::-1], trace_of("map", PARALLEL), "in the order of the pages"),
    (nb02.PAGES_2_3[:3], trace_of("map", PARALLEL), "one result per page"),
    (nb02.PAGES_2_3, None, "%%timeline --out ex2_3_trace"),
    (nb02.PAGES_2_3, "ex2_3_trace", "%%timeline --out ex2_3_trace"),
])
def test_ex2_3_wrong(capsys, results, trace, hint):
    ok, out = run(nb02.ex2_3, capsys, results, trace)
    assert ok is False and not_yet(out, hint), out


# --- 2.4 a starmap call ----------------------------------------------------------------------

def test_ex2_4_right_with_a_real_pool(capsys):
    rooms = [(3, 4), (5, 2), (6, 6)]
    with poolscope.record() as trace:
        with ThreadPool(3) as pool:
            areas = pool.starmap(area, rooms)
    ok, out = run(nb02.ex2_4, capsys, areas, trace)
    assert ok is True and "solved!" in out


def test_ex2_4_map_with_unpacking_is_not_starmap(capsys):
    rooms = [(3, 4), (5, 2), (6, 6)]
    with poolscope.record() as trace:
        with ThreadPool(3) as pool:
            areas = pool.map(lambda room: area(*room), rooms)
    ok, out = run(nb02.ex2_4, capsys, areas, trace)
    assert ok is False and not_yet(out, "starmap unpacks")


@pytest.mark.parametrize("areas, trace, hint", [
    ([10, 12, 36], trace_of("starmap", PARALLEL[:3]), "keep the order of rooms"),
    ([7, 7, 12], trace_of("starmap", PARALLEL[:3]), "area(3, 4) is 12"),
    ([12, 10, 36], trace_of("starmap", []), "inside the with block"),
    ([12, 10, 36], 42, "%%timeline --out ex2_4_trace"),
])
def test_ex2_4_wrong(capsys, areas, trace, hint):
    ok, out = run(nb02.ex2_4, capsys, areas, trace)
    assert ok is False and not_yet(out, hint), out


# --- every check: the stub's ... and garbage -----------------------------------------------

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


def test_quiet_prints_nothing(capsys):
    assert nb02.ex2_2(3, 10, quiet=True) is True
    assert nb02.ex2_2(4, 10, quiet=True) is False
    assert capsys.readouterr().out == ""


def test_most_at_once():
    assert nb02.most_at_once(trace_of("map", PARALLEL).tasks) == 4
    assert nb02.most_at_once(trace_of("map", ONE_AT_A_TIME).tasks) == 1  # end == next start
    assert nb02.most_at_once([]) == 0
