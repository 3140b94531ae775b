"""The checks of 04-Wait-for-Results.ipynb: right answers pass, wrong ones get a hint,
nothing raises.

Exercises 4.1 and 4.2 take a function: the corpus holds the functions a learner writes,
and each check runs them for real on results of its own (see checks/_held.py).
"""

from __future__ import annotations

import multiprocessing
import time

import pytest

from poolscope.tutorial.checks import nb04

from check_helpers import every_check_tests, not_yet, run
from corpus import corpus_test, right, wrong

GARBAGE = [None, "gave up", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb04.ex4_1, 1), (nb04.ex4_2, 1), (nb04.ex4_3, 2), (nb04.ex4_4, 1)]


# --- 4.1 catch the right TimeoutError: what learners write -------------------------------

def fetch_right(result):
    try:
        return result.get(timeout=0.1)
    except multiprocessing.TimeoutError:
        return "gave up"


def fetch_either(result):  # both classes: fine, the task's own errors still get through
    try:
        return result.get(timeout=0.1)
    except (TimeoutError, multiprocessing.TimeoutError):
        return "gave up"


def fetch_wait_first(result):
    result.wait(0.1)
    if not result.ready():
        return "gave up"
    return result.get()


def fetch_builtin(result):  # the notebook's stub: the tutorial mistake
    try:
        return result.get(timeout=0.1)
    except TimeoutError:
        return "gave up"


def fetch_exception(result):  # catches too much: the task's own ValueError too
    try:
        return result.get(timeout=0.1)
    except Exception:
        return "gave up"


def fetch_bare(result):
    try:
        return result.get(timeout=0.1)
    except:  # noqa: E722 (the learner's mistake under test)
        return "gave up"


def fetch_waits(result):  # no timeout: waits for the slow task
    try:
        return result.get()
    except multiprocessing.TimeoutError:
        return "gave up"


def fetch_none(result):
    try:
        return result.get(timeout=0.1)
    except multiprocessing.TimeoutError:
        return None


def fetch_slowly(result):
    try:
        return result.get(timeout=0.3)
    except multiprocessing.TimeoutError:
        return "gave up"


def fetch_without_waiting(result):
    if not result.ready():
        return "gave up"
    return result.get()


# --- 4.2 wait with a deadline: what learners write ----------------------------------------

def ready_by_right(results, seconds):
    deadline = time.monotonic() + seconds
    for result in results:
        result.wait(max(0, deadline - time.monotonic()))
    return [result.ready() for result in results]


def ready_by_polling(results, seconds):  # no wait() at all, but one deadline: fine
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(r.ready() for r in results):
        time.sleep(0.01)
    return [result.ready() for result in results]


def ready_by_get(results, seconds):  # get(timeout) instead of wait(), caught correctly
    deadline = time.monotonic() + seconds
    for result in results:
        try:
            result.get(max(0, deadline - time.monotonic()))
        except multiprocessing.TimeoutError:
            pass
    return tuple(result.ready() for result in results)


def ready_by_share(results, seconds):  # an equal split of the budget
    for result in results:
        result.wait(seconds / len(results))
    return [result.ready() for result in results]


def ready_by_last(results, seconds):  # waits only on the last result
    results[-1].wait(seconds)
    return [result.ready() for result in results]


def ready_by_each(results, seconds):  # a new timeout per result
    for result in results:
        result.wait(seconds)
    return [result.ready() for result in results]


def ready_by_forever(results, seconds):  # ignores seconds
    for result in results:
        result.wait()
    return [result.ready() for result in results]


def ready_by_sleeping(results, seconds):  # always uses up the whole budget
    time.sleep(seconds)
    return [result.ready() for result in results]


def ready_by_not_waiting(results, seconds):
    return [result.ready() for result in results]


def ready_by_nothing(results, seconds):  # forgets the return
    deadline = time.monotonic() + seconds
    for result in results:
        result.wait(max(0, deadline - time.monotonic()))


def ready_by_builtin(results, seconds):  # get(timeout) with the built-in TimeoutError
    deadline = time.monotonic() + seconds
    for result in results:
        try:
            result.get(max(0, deadline - time.monotonic()))
        except TimeoutError:
            pass
    return [result.ready() for result in results]


CORPUS = [
    right("4.1", "except multiprocessing.TimeoutError", (fetch_right,),
          praise="except TimeoutError alone lets it through"),
    right("4.1", "except (TimeoutError, multiprocessing.TimeoutError)", (fetch_either,)),
    right("4.1", "wait(0.1), then ready() and get()", (fetch_wait_first,)),
    wrong("4.1", "except TimeoutError (the built-in)", (fetch_builtin,),
          hint="write `except multiprocessing.TimeoutError`"),
    wrong("4.1", "except Exception", (fetch_exception,),
          hint="`except Exception:` (or a bare `except:`) also catches the task's own "
               "exception"),
    wrong("4.1", "a bare except", (fetch_bare,), hint="catch only multiprocessing.TimeoutError"),
    wrong("4.1", "get() without a timeout", (fetch_waits,), hint="pass timeout=0.1 to get()"),
    wrong("4.1", "returns None on a timeout", (fetch_none,), hint="exactly that string"),
    wrong("4.1", "get(timeout=0.3)", (fetch_slowly,), hint="give up after 0.1 s"),
    wrong("4.1", "gives up without waiting", (fetch_without_waiting,),
          hint="wait 0.1 s first"),

    right("4.2", "one deadline, wait() what is left", (ready_by_right,),
          praise="one deadline for all the waits"),
    right("4.2", "one deadline, polling ready()", (ready_by_polling,)),
    right("4.2", "one deadline, get(timeout) in try, a tuple", (ready_by_get,)),
    wrong("4.2", "an equal share of the budget per result", (ready_by_share,),
          hint="an equal share (seconds / len(results)"),
    wrong("4.2", "waits only on the last result", (ready_by_last,),
          hint="wait for every result in turn"),
    wrong("4.2", "wait(seconds) per result", (ready_by_each,),
          hint="a wait(seconds) per result starts a new 0.3 s each time"),
    wrong("4.2", "wait() without a timeout", (ready_by_forever,),
          hint="wait() without a timeout waits for good"),
    wrong("4.2", "sleeps the whole budget", (ready_by_sleeping,),
          hint="stop waiting as soon as every result is ready"),
    wrong("4.2", "does not wait", (ready_by_not_waiting,), hint="wait for every result in turn"),
    wrong("4.2", "forgets to return the list", (ready_by_nothing,), hint="write a list"),
    wrong("4.2", "get(timeout) with the built-in TimeoutError", (ready_by_builtin,),
          hint="result.wait(timeout) never raises"),

    right("4.3", "[3] and []", ([3], []), praise="nothing is skipped"),
    right("4.3", "a set and a tuple", ({3}, ())),
    wrong("4.3", "item 2 counted as never started", ([2, 3], []),
          hint="item 2 is not one of them"),
    wrong("4.3", "item 2 counted with chunks of 3", ([3], [2]), hint="item 2 is not one of them"),
    wrong("4.3", "every later item skipped", ([3, 4, 5, 6, 7], []),
          hint="map still runs every other chunk"),
    wrong("4.3", "nothing skipped with chunks of 4", ([], []),
          hint="chunks of 4 are [0, 1, 2, 3] and [4, 5, 6, 7]"),
    wrong("4.3", "item 3 skipped with chunks of 3", ([3], [3]),
          hint="chunks of 3 are [0, 1, 2], [3, 4, 5] and [6, 7]"),

    right("4.4", "[0, 10, 'ValueError']", ([0, 10, "ValueError"],),
          praise="the iterator is finished"),
    wrong("4.4", "as with chunksize=1", ([0, 10, "ValueError", 30, 40, 50],),
          hint="that is imap with chunksize=1"),
    wrong("4.4", "the last chunk still handed over", ([0, 10, "ValueError", 40, 50],),
          hint="one exception ends the whole iterator"),
    wrong("4.4", "only the error", (["ValueError"],),
          hint="items 0 and 1 are in an earlier chunk"),
    wrong("4.4", "the error not appended", ([0, 10],), hint="appends \"ValueError\""),
    wrong("4.4", "the items instead of the results", ([0, 1, "ValueError"],),
          hint="chunks of 2 are [0, 1], [2, 3] and [4, 5]"),
]
test_corpus = corpus_test(nb04, CORPUS)


# --- what the corpus does not cover: answers of the wrong kind -----------------------------

@pytest.mark.parametrize("fetch, hint", [
    (lambda: "gave up", "call result.get(timeout=0.1) inside try"),
    ("fetch", "define it with def fetch(result):"),
])
def test_ex4_1_not_a_fetch_function(capsys, fetch, hint):
    ok, out = run(nb04.ex4_1, capsys, fetch)
    assert ok is False and not_yet(out, hint), out


def test_ex4_1_lets_the_tasks_own_exception_through_unchanged(capsys):
    def fetch_rewraps(result):
        try:
            return result.get(timeout=0.1)
        except multiprocessing.TimeoutError:
            return "gave up"
        except ValueError as error:
            raise RuntimeError("failed") from error

    ok, out = run(nb04.ex4_1, capsys, fetch_rewraps)
    assert ok is False and not_yet(out, "let the task's own exception through unchanged"), out


@pytest.mark.parametrize("ready_by, hint", [
    (lambda results: [], "the check could not use your answer"),
    (lambda results, seconds: [True] * 4, "return one result.ready() per result"),
])
def test_ex4_2_answers_of_the_wrong_shape(capsys, ready_by, hint):
    ok, out = run(nb04.ex4_2, capsys, ready_by)
    assert ok is False and not_yet(out, hint), out


def test_ex4_2_leaves_no_thread_behind():
    import threading

    before = threading.active_count()
    assert nb04.ex4_2(ready_by_last, quiet=True) is False
    assert nb04.ex4_2(ready_by_right, quiet=True) is True
    # every pool is joined and every timer cancelled before the check returns
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() == before


def test_ex4_4_a_string_is_not_a_list(capsys):
    ok, out = run(nb04.ex4_4, capsys, "0, 10, ValueError")
    assert ok is False and not_yet(out, "write a list"), out


# --- every check: the stub, garbage, quiet -----------------------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE)


def test_quiet_prints_nothing(capsys):
    assert nb04.ex4_4([0, 10, "ValueError"], quiet=True) is True
    assert nb04.ex4_4([0], quiet=True) is False
    assert capsys.readouterr().out == ""
