"""The checks of 00-Overview.ipynb: right answers pass, wrong ones get a hint, nothing raises."""

from __future__ import annotations

import time
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope.checks import nb00
from poolscope.trace import FINISHED, Task

from check_helpers import garbage_in_each_place_never_raises, on_one_pool, run

GARBAGE = [None, "4", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]


def fetch(page):
    time.sleep(0.01)
    return f"page {page}"


def synthetic(size=3, call="map", pages=range(1, 7)):
    """A trace like a pool of ``size`` running ``call`` over ``pages`` (no threads)."""
    tasks = [Task(0, call, 0 if call == "map" else i, i, f"w{i % size}", i % size,
                  0.0, 0.2 * (i // size), 0.2 * (i // size) + 0.2, FINISHED,
                  caller="MainThread") for i, _ in enumerate(pages)]
    return on_one_pool(tasks, size)


# --- 0.1 read a timeline -----------------------------------------------------------------

def test_ex0_1_right(capsys):
    ok, out = run(nb00.ex0_1, capsys, 4, 0.5, 5)
    assert ok is True and "solved!" in out
    assert nb00.ex0_1(4.0, 0.52, 5, quiet=True)


@pytest.mark.parametrize("answer, hint", [
    ((5, 0.5, 5), "`55` is one task"),
    ((6, 0.5, 5), "different items"),
    ((4, 0.4, 5), "caller's `=` ends"),
    ((4, 0.5, 3), "started last"),
    ((4.5, 0.5, 5), "whole number"),
])
def test_ex0_1_wrong(capsys, answer, hint):
    ok, out = run(nb00.ex0_1, capsys, *answer)
    assert ok is False
    assert "not solved yet" in out and hint in out


def test_ex0_1_ellipsis(capsys):
    ok, out = run(nb00.ex0_1, capsys, ..., ..., ...)
    assert ok is False and "(replace the ... with your answer)" in out
    ok, out = run(nb00.ex0_1, capsys, 4, ..., 5)
    assert ok is False and "(replace the ... with your answer)" in out


# --- 0.2 the makespan ------------------------------------------------------------------

def test_ex0_2_right(capsys):
    ok, out = run(nb00.ex0_2, capsys, 0.6)
    assert ok is True and "3 waves" in out


@pytest.mark.parametrize("answer, hint", [
    (0.5, "cannot be split"), (2.0, "one task after another"), (0.2, "only 4 tasks"),
    (1, "how many rounds"), (0.8, "how many rounds"),
])
def test_ex0_2_wrong(capsys, answer, hint):
    ok, out = run(nb00.ex0_2, capsys, answer)
    assert ok is False and "not solved yet" in out and hint in out


def test_ex0_2_ellipsis(capsys):
    ok, out = run(nb00.ex0_2, capsys, ...)
    assert ok is False and "(replace the ... with your answer)" in out


# --- 0.3 map over a pool ---------------------------------------------------------------

PAGES = [f"page {n}" for n in range(1, 7)]


def test_ex0_3_right_with_a_real_recording(capsys):
    with poolscope.record() as trace:
        with ThreadPool(3) as pool:
            pages = pool.map(fetch, range(1, 7))
    ok, out = run(nb00.ex0_3, capsys, pages, trace)
    assert ok is True and "solved!" in out


def test_ex0_3_builtin_map(capsys):
    with poolscope.record() as trace:
        pages = list(map(fetch, range(1, 7)))
    ok, out = run(nb00.ex0_3, capsys, pages, trace)
    assert ok is False and "built-in map()" in out


@pytest.mark.parametrize("pages, trace, hint", [
    (PAGES, synthetic(size=2), "pool of 3 workers"),
    (PAGES, synthetic(call="apply"), "use pool.map"),
    (PAGES[:3], synthetic(), "range(1, 7)"),
    (PAGES[::-1], synthetic(), "range(1, 7)"),
])
def test_ex0_3_wrong(capsys, pages, trace, hint):
    ok, out = run(nb00.ex0_3, capsys, pages, trace)
    assert ok is False and "not solved yet" in out and hint in out


def test_ex0_3_ellipsis(capsys):
    ok, out = run(nb00.ex0_3, capsys, ..., synthetic())
    assert ok is False and "(replace the ... with your answer)" in out


def test_ex0_3_needs_the_trace(capsys):
    ok, out = run(nb00.ex0_3, capsys, PAGES, None)
    assert ok is False and "%%timeline --out" in out


# --- garbage never raises ----------------------------------------------------------------

CASES = [(nb00.ex0_1, (4, 0.5, 5)), (nb00.ex0_2, (0.6,)), (nb00.ex0_3, (PAGES, synthetic()))]


@pytest.mark.parametrize("check, right", CASES, ids=["0.1", "0.2", "0.3"])
@pytest.mark.parametrize("junk", GARBAGE, ids=repr)
def test_garbage_never_raises(capsys, check, right, junk):
    garbage_in_each_place_never_raises(capsys, check, right, junk)


def test_quiet_prints_nothing(capsys):
    assert nb00.ex0_2(0.6, quiet=True) is True
    assert nb00.ex0_2(0.5, quiet=True) is False
    assert capsys.readouterr().out == ""
