"""The checks of 05-Shut-Down.ipynb: right answers pass, wrong ones get a hint,
nothing raises.

The answers to exercises 5.3 and 5.4 are the learner's cell, run for real and recorded
(the notebook's ``%%timeline --out NAME`` does the same with ``poolscope.record()``).
"""

from __future__ import annotations

import time
from multiprocessing.pool import ThreadPool

import poolscope
from poolscope.tutorial.checks import nb05

from check_helpers import (empty_trace, every_check_tests, letter_question_tests, not_yet, run,
                           says_replace_the_dots)
from corpus import corpus_test, right, wrong

GARBAGE = [None, "d", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb05.ex5_1, 1), (nb05.ex5_2, 2), (nb05.ex5_3, 2), (nb05.ex5_4, 2)]


def task(x, seconds=0.2):
    """The notebook's task: wait like I/O, then return x * 10."""
    time.sleep(seconds)
    return x * 10


# --- 5.3 a with block that loses results: learners' cells ---------------------------------

def collect_inside():
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            results = [pool.apply_async(task, (x,)) for x in range(4)]
            collected = [r.get() for r in results]
    return collected, trace


def close_and_join_inside():
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            results = [pool.apply_async(task, (x,)) for x in range(4)]
            pool.close()
            pool.join()
        collected = [r.get(timeout=1) for r in results]
    return collected, trace


def map_inside():
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            collected = pool.map(task, range(4))
    return collected, trace


def no_block_but_close_and_join():
    with poolscope.record() as trace:
        pool = ThreadPool(2)
        results = [pool.apply_async(task, (x,)) for x in range(4)]
        pool.close()
        pool.join()
        collected = [r.get() for r in results]
    return collected, trace


def no_block_no_shutdown():  # the with block removed: the pool is never shut down
    with poolscope.record() as trace:
        pool = ThreadPool(2)
        results = [pool.apply_async(task, (x,)) for x in range(4)]
        collected = [r.get() for r in results]
    pool.close()  # the test's own cleanup, after the recording
    pool.join()
    return collected, trace


def ready_after_the_block():  # the bug kept, its TimeoutError dodged with ready()
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            results = [pool.apply_async(task, (x,)) for x in range(4)]
        collected = [r.ready() for r in results]
    return collected, trace


def sleep_inside():  # waits "long enough" instead of waiting for the results
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            results = [pool.apply_async(task, (x,)) for x in range(4)]
            time.sleep(1.0)
        collected = [r.get(timeout=1) for r in results]
    return collected, trace


def wait_inside():  # wait() instead of get(): the values are never fetched
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            results = [pool.apply_async(task, (x,)) for x in range(4)]
            collected = [r.wait() for r in results]
    return collected, trace


# --- 5.4 close() and join() without a with block: learners' cells -------------------------

def close_join_get():
    with poolscope.record() as trace:
        pool = ThreadPool(3)
        pending = [pool.apply_async(task, (x,)) for x in range(6)]
        pool.close()
        pool.join()
        answers = [r.get() for r in pending]
    return answers, trace


def get_then_close_join():  # collects first, shuts down after: also right
    with poolscope.record() as trace:
        pool = ThreadPool(3)
        pending = [pool.apply_async(task, (x,)) for x in range(6)]
        answers = [r.get() for r in pending]
        pool.close()
        pool.join()
    return answers, trace


def close_without_join():
    with poolscope.record() as trace:
        pool = ThreadPool(3)
        pending = [pool.apply_async(task, (x,)) for x in range(6)]
        pool.close()
        answers = [r.get() for r in pending]
    pool.join()  # the test's own cleanup
    return answers, trace


def terminate_then_join():
    with poolscope.record() as trace:
        pool = ThreadPool(3)
        pending = [pool.apply_async(task, (x,)) for x in range(6)]
        pool.terminate()
        pool.join()
        answers = [r.ready() for r in pending]
    return answers, trace


def close_terminate_join():
    with poolscope.record() as trace:
        pool = ThreadPool(3)
        pending = [pool.apply_async(task, (x,)) for x in range(6)]
        pool.close()
        pool.terminate()
        pool.join()
        answers = [r.ready() for r in pending]
    return answers, trace


def with_map():
    with poolscope.record() as trace:
        pool = ThreadPool(3)
        answers = pool.map(task, range(6))
        pool.close()
        pool.join()
    return answers, trace


def reversed_order():
    with poolscope.record() as trace:
        pool = ThreadPool(3)
        pending = [pool.apply_async(task, (x,)) for x in range(6)]
        pool.close()
        pool.join()
        answers = [r.get() for r in reversed(pending)]
    return answers, trace


CORPUS = [
    right("5.1", "(d) it raises", ("d",), praise="Pool is still running"),
    wrong("5.1", "(a) returns at once", ("a",), hint="it does not return quietly"),
    wrong("5.1", "(b) waits for the queue", ("b",), hint="what join() does after close()"),
    wrong("5.1", "(c) waits forever", ("c",), hint="it does not hang"),

    right("5.2", "3 started, 0 ready", (3, 0), praise="terminate() discarded them all"),
    wrong("5.2", "all five started", (5, 0), hint="drops the tasks still in the queue"),
    wrong("5.2", "terminate() stops the running ones", (0, 0),
          hint="terminate() cannot stop a thread"),
    wrong("5.2", "the three results ready", (3, 3), hint="terminate() discards their results"),
    wrong("5.2", "two started", (2, 0), hint="three workers, five tasks"),

    right("5.3", "get() inside the block", collect_inside,
          praise="collected inside the block, before its terminate()"),
    right("5.3", "close() and join() inside the block", close_and_join_inside,
          praise="close() and join() let every task finish"),
    right("5.3", "map inside the block", map_inside),
    right("5.3", "no with block, close() and join()", no_block_but_close_and_join),
    wrong("5.3", "with block removed, never shut down", no_block_no_shutdown,
          hint="the pool was never shut down"),
    wrong("5.3", "ready() after the block", ready_after_the_block,
          hint="the with block ends with terminate()"),
    wrong("5.3", "a sleep inside the block", sleep_inside, hint="a sleep is a guess"),
    wrong("5.3", "wait() instead of get()", wait_inside,
          hint="collected = [r.get() for r in results]"),

    right("5.4", "close(), join(), then get()", close_join_get,
          praise="close() let the queued tasks run"),
    right("5.4", "get(), then close() and join()", get_then_close_join),
    wrong("5.4", "close() without join()", close_without_join, hint="call pool.join()"),
    wrong("5.4", "terminate() then join()", terminate_then_join, hint="first pool.close()"),
    wrong("5.4", "close(), terminate(), join()", close_terminate_join,
          hint="terminate() drops work"),
    wrong("5.4", "map instead of apply_async", with_map, hint="pool.apply_async(task, (x,))"),
    wrong("5.4", "results in reverse order", reversed_order, hint="in the order of submission"),
]
test_corpus = corpus_test(nb05, CORPUS)


# --- 5.1: every spelling of the letter, and no wrong answer gives it away -----------------

test_ex5_1_right, test_ex5_1_wrong_does_not_give_the_letter_away = letter_question_tests(
    nb05.ex5_1, "d", "Pool is still running", [
        ("a", "it does not return quietly"),
        ("b", "what join() does after close()"),
        ("c", "it does not hang"),
        ("e", "one of the letters"),
        (4, "write the letter as a string"),
    ], giveaways=["'d'"])


# --- what the corpus does not cover ------------------------------------------------------

def test_ex5_2_strings_are_not_numbers(capsys):
    ok, out = run(nb05.ex5_2, capsys, "3", "0")
    assert ok is False and not_yet(out, "three workers, five tasks"), out


def test_ex5_3_no_pool(capsys):
    with poolscope.record() as trace:
        collected = [task(x, 0) for x in range(4)]
    ok, out = run(nb05.ex5_3, capsys, collected, trace)
    assert ok is False and not_yet(out, "keep the with block"), out


def test_ex5_3_names_what_was_lost(capsys):
    ok, out = run(nb05.ex5_3, capsys, *ready_after_the_block())
    # which calls were running when the block ended is up to the machine; each is named
    assert "call 3: never started" in out or "call 3: abandoned" in out, out


def test_ex5_3_terminate_after_collecting_is_fine(capsys):
    # terminate() (or the block's end) after get() on every result drops nothing
    with poolscope.record() as trace:
        pool = ThreadPool(2)
        results = [pool.apply_async(task, (x, 0.02)) for x in range(4)]
        collected = [r.get() for r in results]
        pool.terminate()
        pool.join()
    ok, out = run(nb05.ex5_3, capsys, collected, trace)
    assert ok is True, out


# --- every check: the stub, garbage, quiet -----------------------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE, right=[(nb05.ex5_1, "d")])


def test_the_stub_with_a_recorded_trace_says_replace_the_dots(capsys):
    # In the notebook the answer cell's stub records an empty trace and leaves `...`.
    for check in (nb05.ex5_3, nb05.ex5_4):
        says_replace_the_dots(capsys, check, ..., empty_trace())


def test_quiet_prints_nothing(capsys):
    assert nb05.ex5_2(3, 0, quiet=True) is True
    assert nb05.ex5_2(5, 0, quiet=True) is False
    assert capsys.readouterr().out == ""
