"""The checks of 13-Big-Inputs-and-Results.ipynb: right answers pass, wrong ones get a
hint that names the mistake, nothing raises.

Exercise 13.1's answers are feeders, which the check itself runs (on its own pool and a
counting input). Exercise 13.2's are the learner's cell, run for real: measured with
``big_inputs.peak_memory()`` and recorded with ``poolscope.record()``, as the notebook's
``%%timeline --out ex13_2_trace`` does.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections import deque
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope.tutorial import big_inputs
from poolscope.tutorial.big_inputs import CountedInput, Workload
from poolscope.tutorial.checks import nb13

from check_helpers import (NASTY, NASTY_IDS, empty_trace, every_check_tests,
                           letter_question_tests, nasty_answers_never_raise, not_yet, run,
                           says_replace_the_dots)
from corpus import corpus_test, right, wrong

GARBAGE = [None, "c", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb13.ex13_1, 1), (nb13.ex13_2, 3), (nb13.ex13_3, 1)]


# --- 13.1 a feeder that stays N items ahead: what learners write ---------------------------

def window(pool, func, items, ahead):  # the solution: a window, in input order
    items = iter(items)
    pending = deque(pool.apply_async(func, (item,)) for item in itertools.islice(items, ahead))
    while pending:
        yield pending.popleft().get()
        for item in itertools.islice(items, 1):
            pending.append(pool.apply_async(func, (item,)))


def completion_order(pool, func, items, ahead):  # callbacks fill a queue
    done = queue.SimpleQueue()
    items = iter(items)
    in_flight = 0
    for item in itertools.islice(items, ahead):
        pool.apply_async(func, (item,), callback=done.put)
        in_flight += 1
    while in_flight:
        yield done.get()
        in_flight -= 1
        for item in itertools.islice(items, 1):
            pool.apply_async(func, (item,), callback=done.put)
            in_flight += 1


def semaphore_gate(pool, func, items, ahead):  # imap_unordered reads through a gate
    slots = threading.Semaphore(ahead)
    end = object()

    def gated():
        while True:
            slots.acquire()  # before pulling: at most `ahead` pulled and not taken
            item = next(items, end)
            if item is end:
                return
            yield item

    for result in pool.imap_unordered(func, gated()):
        yield result
        slots.release()


def eager(pool, func, items, ahead):  # "imap_unordered is lazy"
    yield from pool.imap_unordered(func, items)


def eager_chunks(pool, func, items, ahead):  # "chunksize bounds it"
    yield from pool.imap(func, items, chunksize=ahead)


def batches(pool, func, items, ahead):  # the page's own batches
    items = iter(items)
    while batch := list(itertools.islice(items, ahead)):
        yield from pool.imap_unordered(func, batch)


def pull_before_yield(pool, func, items, ahead):  # the natural loop: one too many ahead
    pending = deque()
    for item in items:
        if len(pending) == ahead:
            yield pending.popleft().get()
        pending.append(pool.apply_async(func, (item,)))
    while pending:
        yield pending.popleft().get()


def one_at_a_time(pool, func, items, ahead):
    for item in items:
        yield pool.apply(func, (item,))


def pull_in_callback(pool, func, items, ahead):  # refills when a task finishes
    done = queue.SimpleQueue()
    lock = threading.Lock()
    counts = {"submitted": 0}

    def submit_next(value=None):
        if value is not None:
            done.put(value)
        with lock:
            for item in itertools.islice(items, 1):
                counts["submitted"] += 1
                pool.apply_async(func, (item,), callback=submit_next)

    for _ in range(ahead):
        submit_next()
    taken = 0
    while True:
        with lock:
            if taken == counts["submitted"]:
                return
        yield done.get()
        taken += 1


def drops_last_batch(pool, func, items, ahead):  # stops at the first short batch
    items = iter(items)
    while True:
        batch = list(itertools.islice(items, ahead))
        if len(batch) < ahead:
            return
        yield from pool.imap_unordered(func, batch)


def in_the_caller(pool, func, items, ahead):  # bounded, but the pool never runs a task
    items = iter(items)
    while batch := list(itertools.islice(items, ahead)):
        yield from map(func, batch)


def async_results(pool, func, items, ahead):  # yields the AsyncResult, not its value
    items = iter(items)
    pending = deque(pool.apply_async(func, (item,)) for item in itertools.islice(items, ahead))
    while pending:
        result = pending.popleft()
        result.wait()
        yield result
        for item in itertools.islice(items, 1):
            pending.append(pool.apply_async(func, (item,)))


def slices_with_len(pool, func, items, ahead):  # treats the input as a list
    for start in range(0, len(items), ahead):
        yield from pool.map(func, items[start:start + ahead])


def no_yield(pool, func, items, ahead):  # a function, not a generator
    return None


# --- 13.2 a job that keeps every page: learners' cells ---------------------------------

PAGE = nb13.PAGE


def download(n):
    """The notebook's download: 0.1 s, then 1 MB of 10,000 lines."""
    time.sleep(0.1)
    return (b"x" * 99 + b"\n") * 10_000


def count_lines(n):
    return download(n).count(b"\n")


def measured(job):
    """Run ``job`` as the answer cell does: ``(lines, memory, trace)``."""
    def answer():
        with poolscope.record() as trace:
            with big_inputs.peak_memory() as memory:
                lines = job()
        return lines, memory, trace
    return answer


@measured
def count_in_the_task():
    with ThreadPool(4) as pool:
        return sum(pool.map(count_lines, range(20)))


@measured
def pages_as_they_come():
    with ThreadPool(4) as pool:
        return sum(page.count(b"\n") for page in pool.imap_unordered(download, range(20)))


@measured
def pop_each_result():
    with ThreadPool(4) as pool:
        pending = [pool.apply_async(download, (n,)) for n in range(20)]
        lines = 0
        while pending:
            lines += pending.pop(0).get().count(b"\n")
        return lines


@measured
def unchanged():
    with ThreadPool(4) as pool:
        pending = [pool.apply_async(download, (n,)) for n in range(20)]
        return sum(result.get().count(b"\n") for result in pending)


@measured
def del_after_the_sum():
    with ThreadPool(4) as pool:
        pending = [pool.apply_async(download, (n,)) for n in range(20)]
        lines = sum(result.get().count(b"\n") for result in pending)
        del pending
        return lines


@measured
def map_instead():
    with ThreadPool(4) as pool:
        return sum(page.count(b"\n") for page in pool.map(download, range(20)))


@measured
def list_of_imap_unordered():
    with ThreadPool(4) as pool:
        pages = list(pool.imap_unordered(download, range(20)))
    return sum(page.count(b"\n") for page in pages)


@measured
def without_the_pool():
    return sum(download(n).count(b"\n") for n in range(3))  # (3 pages: the test is quick)


@measured
def counts_bytes():
    with ThreadPool(4) as pool:
        return sum(pool.map(lambda n: len(download(n)), range(20)))


CORPUS = [
    right("13.1", "a window, in input order", (window,), praise="results in input order"),
    right("13.1", "a window in completion order (callbacks)", (completion_order,),
          praise="results in completion order"),
    right("13.1", "imap_unordered reading through a semaphore", (semaphore_gate,),
          praise="never more than 4 items pulled ahead"),
    wrong("13.1", "imap_unordered on the whole input", (eager,),
          hint="read their whole input at once"),
    wrong("13.1", "imap with chunksize=ahead", (eager_chunks,),
          hint="read their whole input at once"),
    wrong("13.1", "batches with islice", (batches,), hint="it waits for a whole batch"),
    wrong("13.1", "pulls the next item before the yield", (pull_before_yield,),
          hint="pull it after the yield"),
    wrong("13.1", "one apply() at a time", (one_at_a_time,), hint="one task at a time"),
    wrong("13.1", "refills in the callback", (pull_in_callback,),
          hint="never when a task finishes"),
    wrong("13.1", "drops the last, shorter batch", (drops_last_batch,),
          hint="the last items are missing"),
    wrong("13.1", "runs func in the caller", (in_the_caller,),
          hint="the task ran in the caller's thread"),
    wrong("13.1", "yields AsyncResults", (async_results,), hint="yield result.get()"),
    wrong("13.1", "uses len() of the input", (slices_with_len,), hint="it has no len()"),
    wrong("13.1", "forgets yield", (no_yield,), hint="feed should be a generator"),

    right("13.2", "count the lines in the task", count_in_the_task,
          praise="no page outlived its count"),
    right("13.2", "imap_unordered, page by page", pages_as_they_come),
    right("13.2", "pop each AsyncResult as it is counted", pop_each_result),
    wrong("13.2", "unchanged: a list of AsyncResults", unchanged,
          hint="each AsyncResult keeps its page"),
    wrong("13.2", "del pending after the sum", del_after_the_sum,
          hint="del after the sum comes too late"),
    wrong("13.2", "pool.map of the pages", map_instead,
          hint="map keeps every page until it returns the whole list"),
    wrong("13.2", "list() of imap_unordered", list_of_imap_unordered,
          hint="something kept the pages (a list?)"),
    wrong("13.2", "downloads in the caller, no pool", without_the_pool, hint="keep the pool"),
    wrong("13.2", "counts bytes, not lines", counts_bytes, hint="lines is the number of"),

    right("13.3", "(c) the traceback grew", ("c",), praise="the same exception object"),
    wrong("13.3", "(a) the caller's frames only", ("a",), hint="the task's own object"),
    wrong("13.3", "(b) the same as the first time", ("b",), hint="start its traceback afresh"),
    wrong("13.3", "(d) the worker's frames only", ("d",),
          hint="the frames it passes through on the way out"),
]
test_corpus = corpus_test(nb13, CORPUS)


# --- 13.1: what the counts are, and the paths the corpus does not take --------------------

def test_the_counting_input_counts_what_a_window_does():
    items = CountedInput(range(6))
    with ThreadPool(2) as pool:
        for _ in window(pool, Workload(), items, 3):
            items.took()
    assert (items.pulled, items.taken, items.first_result_after) == (6, 6, 3)
    assert items.ahead == [1, 2, 3, 3, 3, 3]


def test_the_workload_notes_its_threads():
    work = Workload()
    with ThreadPool(2) as pool:
        assert pool.map(work, [1, 2]) == [10, 20]
    assert work.threads and threading.get_ident() not in work.threads


def test_ex13_1_a_feeder_that_never_finishes_is_reported(capsys, monkeypatch):
    monkeypatch.setattr(nb13, "TIMEOUT", 0.5)
    release = threading.Event()

    def waits_forever(pool, func, items, ahead):
        release.wait(30)  # a result that never comes (released at the end of the test)
        yield from ()

    try:
        ok, out = run(nb13.ex13_1, capsys, waits_forever)
    finally:
        release.set()
    assert ok is False and not_yet(out, "did not finish within 0.5 s"), out


def test_ex13_1_a_pool_blocked_in_the_input_is_reported(capsys, monkeypatch):
    # A gate that is never opened again: the pool's task handler stays blocked in the
    # generator, and terminate() (which joins that thread) cannot return.
    monkeypatch.setattr(nb13, "SHUTDOWN_TIMEOUT", 0.5)
    gate = threading.Semaphore(2)
    released = threading.Event()

    def stuck_gate(pool, func, items, ahead):
        def gated():
            for item in items:
                if not gate.acquire(timeout=30) or released.is_set():
                    return
                yield item
        results = pool.imap_unordered(func, gated())
        yield next(results)  # one result, then stop: the handler waits at the gate

    try:
        ok, out = run(nb13.ex13_1, capsys, stuck_gate)
    finally:
        released.set()
        gate.release()  # let the task handler out, so that no pool thread outlives the test
    assert ok is False and not_yet(out, "could not be shut down"), out


def test_ex13_1_too_few_in_flight(capsys):
    def two_ahead(pool, func, items, ahead):
        yield from window(pool, func, items, 2)

    ok, out = run(nb13.ex13_1, capsys, two_ahead)
    assert ok is False and not_yet(out, "never had more than 2 items in flight"), out


def test_ex13_1_a_feeder_that_raises(capsys):
    def raises(pool, func, items, ahead):
        yield func(next(items)) / 0

    ok, out = run(nb13.ex13_1, capsys, raises)
    assert ok is False and not_yet(out, "your feeder raised ZeroDivisionError"), out


def test_ex13_1_wrong_signature(capsys):
    def two_arguments(pool, func):
        yield from ()

    ok, out = run(nb13.ex13_1, capsys, two_arguments)
    assert ok is False and "your feeder raised TypeError" in out, out


# --- 13.2: the peak and the trace ----------------------------------------------------------

def test_ex13_2_memory_must_be_measured(capsys):
    lines, _, trace = count_in_the_task()
    ok, out = run(nb13.ex13_2, capsys, lines, 123, trace)
    assert ok is False and not_yet(out, "keep the peak_memory() block"), out


def test_ex13_2_an_empty_block(capsys):
    lines, _, trace = count_in_the_task()
    with big_inputs.peak_memory() as memory:
        pass
    ok, out = run(nb13.ex13_2, capsys, lines, memory, trace)
    assert ok is False and not_yet(out, "keep the pool code inside the block"), out


def test_peak_memory_counts_from_the_start_of_the_block():
    kept = bytes(5_000_000)  # allocated before the block: not part of its peak
    with big_inputs.peak_memory() as memory:
        page = bytes(PAGE)
        del page
    assert PAGE <= memory.peak < 2 * PAGE
    del kept


# --- 13.3: every spelling of the letter, and no wrong answer gives it away ----------------

test_ex13_3_right, test_ex13_3_wrong_does_not_give_the_letter_away = letter_question_tests(
    nb13.ex13_3, "c", "the same exception object", [
        ("a", "the task's own object"),
        ("b", "start its traceback afresh"),
        ("d", "on the way out"),
        ("e", "one of the letters"),
        (3, "write the letter as a string"),
    ], giveaways=["'c'", "(c)"])


def test_ex13_3_the_claim_holds_here():
    # The behaviour the exercise asks about, on the running Python.
    import traceback

    def parse(page):
        raise ValueError(f"page {page} is not HTML")

    def crawl(page):
        return parse(page)

    names = []
    with ThreadPool(2) as pool:
        result = pool.apply_async(crawl, (3,))
        for _ in range(2):
            try:
                result.get(timeout=10)
            except ValueError as error:
                names.append([f.name for f in traceback.extract_tb(error.__traceback__)])
    assert names[0][-3:] == ["worker", "crawl", "parse"] and names[0][-4] == "get"
    assert names[1] == names[0][:2] + names[0]


# --- every check: the stub, garbage, nasty answers, quiet --------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE, right=[(nb13.ex13_3, "c")])


def test_the_stub_with_a_recorded_trace_says_replace_the_dots(capsys):
    # The answer cell's stub records an empty trace and leaves `...` for the answers.
    says_replace_the_dots(capsys, nb13.ex13_2, ..., ..., empty_trace())


@pytest.mark.parametrize("junk", NASTY, ids=NASTY_IDS)
def test_nasty_answers_beside_right_ones_never_raise(capsys, junk):
    nasty_answers_never_raise(capsys, nb13.ex13_2, junk, right=count_in_the_task_once())


_RIGHT_13_2: list = []


def count_in_the_task_once():
    """One run of a right 13.2 answer, shared by the nasty-answer tests (0.5 s each)."""
    if not _RIGHT_13_2:
        _RIGHT_13_2.extend(count_in_the_task())
    return _RIGHT_13_2


def test_quiet_prints_nothing(capsys):
    assert nb13.ex13_3("c", quiet=True) is True
    assert nb13.ex13_3("a", quiet=True) is False
    assert nb13.ex13_1(batches, quiet=True) is False
    assert capsys.readouterr().out == ""
