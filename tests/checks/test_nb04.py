"""The checks of 04-Wait-for-Results.ipynb: right answers pass, wrong ones get a hint,
nothing raises."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from poolscope.checks import nb04

from check_helpers import every_check_tests, not_yet, run

GARBAGE = [None, "gave up", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb04.ex4_1, 1), (nb04.ex4_2, 1), (nb04.ex4_3, 2), (nb04.ex4_4, 1)]


# --- 4.1 catch the right TimeoutError ----------------------------------------------------

def fetch_right(result):
    try:
        return result.get(timeout=0.1)
    except multiprocessing.TimeoutError:
        return "gave up"


def fetch_builtin(result):  # the notebook's stub: the tutorial mistake
    try:
        return result.get(timeout=0.1)
    except TimeoutError:
        return "gave up"


def fetch_waits(result):
    try:
        return result.get()
    except multiprocessing.TimeoutError:
        return "gave up"


def fetch_wrong_word(result):
    try:
        return result.get(timeout=0.1)
    except multiprocessing.TimeoutError:
        return None


def fetch_always_gives_up(result):
    time.sleep(0.1)
    return "gave up"


def fetch_slowly(result):
    try:
        return result.get(timeout=0.28)
    except multiprocessing.TimeoutError:
        return "gave up"


def test_ex4_1_right(capsys):
    ok, out = run(nb04.ex4_1, capsys, fetch_right)
    assert ok is True and "solved!" in out


@pytest.mark.parametrize("fetch, hint", [
    (fetch_builtin, "write `except multiprocessing.TimeoutError`"),
    (fetch_waits, "pass timeout=0.1 to get()"),
    (fetch_wrong_word, "exactly that string"),
    (fetch_always_gives_up, "return what result.get(timeout=0.1) returns"),
    (fetch_slowly, "give up after 0.1 s"),
    (lambda: "gave up", "call result.get(timeout=0.1) inside try"),
])
def test_ex4_1_wrong(capsys, fetch, hint):
    ok, out = run(nb04.ex4_1, capsys, fetch)
    assert ok is False and not_yet(out, hint), out


# --- 4.2 wait with a deadline ------------------------------------------------------------

def ready_by_right(results, seconds):
    deadline = time.monotonic() + seconds
    for result in results:
        result.wait(max(0, deadline - time.monotonic()))
    return [result.ready() for result in results]


def ready_by_each(results, seconds):  # a new timeout per result
    for result in results:
        result.wait(seconds)
    return [result.ready() for result in results]


def ready_by_sleeping(results, seconds):  # always uses up the whole budget
    time.sleep(seconds)
    return [result.ready() for result in results]


def ready_by_not_waiting(results, seconds):
    return [result.ready() for result in results]


def ready_by_nothing(results, seconds):
    deadline = time.monotonic() + seconds
    for result in results:
        result.wait(max(0, deadline - time.monotonic()))


def test_ex4_2_right(capsys):
    ok, out = run(nb04.ex4_2, capsys, ready_by_right)
    assert ok is True and "solved!" in out


def test_ex4_2_a_tuple_is_fine(capsys):
    ok, out = run(nb04.ex4_2, capsys, lambda rs, s: tuple(ready_by_right(rs, s)))
    assert ok is True and "solved!" in out


@pytest.mark.parametrize("ready_by, hint", [
    (ready_by_each, "deadline = time.monotonic() + seconds"),
    (ready_by_sleeping, "stop waiting as soon as every result is ready"),
    (ready_by_not_waiting, "after 0.3 s the first two are ready"),
    (ready_by_nothing, "write a list"),
    (lambda results: [], "the check could not use your answer"),
])
def test_ex4_2_wrong(capsys, ready_by, hint):
    ok, out = run(nb04.ex4_2, capsys, ready_by)
    assert ok is False and "not solved yet." in out and hint in out, out


# --- 4.3 which items never started -------------------------------------------------------

def test_ex4_3_right(capsys):
    ok, out = run(nb04.ex4_3, capsys, [3], [])
    assert ok is True and "solved!" in out and "nothing is skipped" in out


def test_ex4_3_sets_and_tuples_are_fine(capsys):
    assert nb04.ex4_3({3}, (), quiet=True) is True


@pytest.mark.parametrize("four, three, hint", [
    ([2, 3], [], "item 2 is not one of them"),
    ([3], [2], "item 2 is not one of them"),
    ([3, 4, 5, 6, 7], [], "map still runs every other chunk"),
    ([], [], "chunks of 4 are [0, 1, 2, 3] and [4, 5, 6, 7]"),
    ([3], [3], "chunks of 3 are [0, 1, 2], [3, 4, 5] and [6, 7]"),
    (3, [], "write a list"),
])
def test_ex4_3_wrong(capsys, four, three, hint):
    ok, out = run(nb04.ex4_3, capsys, four, three)
    assert ok is False and not_yet(out, hint), out


# --- 4.4 what imap yields with chunks ----------------------------------------------------

def test_ex4_4_right(capsys):
    ok, out = run(nb04.ex4_4, capsys, [0, 10, "ValueError"])
    assert ok is True and "solved!" in out


@pytest.mark.parametrize("got, hint", [
    ([0, 10, "ValueError", 30, 40, 50], "that is imap with chunksize=1"),
    ([0, 10, "ValueError", 40, 50], "one exception ends the whole iterator"),
    (["ValueError"], "items 0 and 1 are in an earlier chunk"),
    ([0, 10], "appends \"ValueError\""),
    ([0, 1, "ValueError"], "chunks of 2 are [0, 1], [2, 3] and [4, 5]"),
    ([[0], {}], "chunks of 2"),
    ("0, 10, ValueError", "write a list"),
])
def test_ex4_4_wrong(capsys, got, hint):
    ok, out = run(nb04.ex4_4, capsys, got)
    assert ok is False and not_yet(out, hint), out


# --- every check: the stub, garbage, quiet -----------------------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE)


def test_quiet_prints_nothing(capsys):
    assert nb04.ex4_4([0, 10, "ValueError"], quiet=True) is True
    assert nb04.ex4_4([0], quiet=True) is False
    assert capsys.readouterr().out == ""
