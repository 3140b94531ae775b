"""The checks of 10-Shared-State.ipynb, and the race test behind exercise 10.2: right
answers pass, wrong ones get a hint that names the mistake, nothing raises.

The answers to 10.2 are learners' functions, run for real by the check's race test (it
puts a ``stats`` and a ``lock`` of its own in place of this module's globals while it
runs). The answers to 10.3 are learners' cells, run for real and recorded with
``poolscope.record()`` as the notebook's ``%%timeline --out ex10_3_trace`` does.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope.tutorial import shared_state as ss
from poolscope.tutorial.checks import nb10

from check_helpers import (empty_trace, every_check_tests, nasty_answers_never_raise, NASTY,
                           NASTY_IDS, not_yet, run, says_replace_the_dots)
from corpus import corpus_test, right, wrong

GARBAGE = [None, "d", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb10.ex10_1, 1), (nb10.ex10_2, 1), (nb10.ex10_3, 3)]

# The notebook's globals, as the learner's functions below use them by name. The race
# test replaces both while it runs, and puts these back.
stats = {"words": 0}
lock = threading.Lock()
rlock = threading.RLock()
shared_counts: Counter = Counter()


# --- 10.2 no lost words, no turns: learners' add_words ------------------------------------

def fetch_then_lock(page):  # the solution
    words = len(ss.fetch(page).split())
    with lock:
        stats["words"] += words


def acquire_release(page):
    words = len(ss.fetch(page).split())
    lock.acquire()
    try:
        stats["words"] = stats["words"] + words
    finally:
        lock.release()


def with_an_rlock(page):
    words = len(ss.fetch(page).split())
    with rlock:
        stats.update(words=stats.get("words", 0) + words)


def unchanged(page):  # the stub
    stats["words"] += len(ss.fetch(page).split())


def fetch_first_no_lock(page):  # seldom loses with the GIL, still racy
    words = len(ss.fetch(page).split())
    stats["words"] += words


def whole_line_locked(page):  # right total, but the tasks take turns
    with lock:
        stats["words"] += len(ss.fetch(page).split())


def lock_made_inside(page):
    words = len(ss.fetch(page).split())
    with threading.Lock():
        stats["words"] += words


def read_locked_write_not(page):
    words = len(ss.fetch(page).split())
    with lock:
        current = stats["words"]
    stats["words"] = current + words


def acquire_never_release(page):
    words = len(ss.fetch(page).split())
    lock.acquire()
    stats["words"] += words


def counts_pages(page):  # one per page instead of the page's words
    ss.fetch(page)
    with lock:
        stats["words"] += 1


def no_fetch(page):  # every page has 100 words, so why fetch?
    with lock:
        stats["words"] += 100


# --- 10.3 counts returned, merged by the caller: learners' cells ---------------------------

def recorded(cell):
    """Run ``cell`` while recording: ``(count_page, word_counts, trace)``."""
    with poolscope.record() as trace:
        count_page, word_counts = cell()
    return count_page, word_counts, trace


def count_page_right(page):
    return Counter(ss.fetch(page).split())


def sum_of_counters():
    with ThreadPool(4) as pool:
        per_page = pool.map(count_page_right, ss.PAGES)
    return count_page_right, sum(per_page, Counter())


def update_in_a_loop():
    word_counts = Counter()
    with ThreadPool(4) as pool:
        for counts in pool.imap_unordered(count_page_right, ss.PAGES):
            word_counts.update(counts)
    return count_page_right, word_counts


def count_into_shared(page):  # the habit the page replaces: a shared Counter
    shared_counts.update(ss.fetch(page).split())


def shared_counter():
    shared_counts.clear()
    with ThreadPool(4) as pool:
        pool.map(count_into_shared, ss.PAGES)
    return count_into_shared, shared_counts


def count_and_return_shared(page):
    shared_counts.update(ss.fetch(page).split())
    return shared_counts


def returns_the_shared_counter():
    shared_counts.clear()
    with ThreadPool(4) as pool:
        pool.map(count_and_return_shared, ss.PAGES)
    return count_and_return_shared, shared_counts


def merged_with_dict_update():
    word_counts = {}
    with ThreadPool(4) as pool:
        for counts in pool.map(count_page_right, ss.PAGES):
            word_counts.update(counts)
    return count_page_right, word_counts


def not_merged():
    with ThreadPool(4) as pool:
        per_page = pool.map(count_page_right, ss.PAGES)
    return count_page_right, per_page


def words_per_page(page):
    return len(ss.fetch(page).split())


def total_not_counts():
    with ThreadPool(4) as pool:
        return words_per_page, sum(pool.map(words_per_page, ss.PAGES))


def no_pool():
    return count_page_right, sum((count_page_right(p) for p in ss.PAGES), Counter())


def count_letters(page):  # forgot split(): counts characters
    return Counter(ss.fetch(page))


def letters_not_words():
    with ThreadPool(4) as pool:
        return count_letters, sum(pool.map(count_letters, ss.PAGES), Counter())


CORPUS = [
    right("10.1", "two rounds, 100 each", (200,), praise="two rounds of three tasks"),
    right("10.1", "200.0", (200.0,)),
    wrong("10.1", "no race: 600", (600,), hint="what a correct count gives"),
    wrong("10.1", "one write survives: 100", (100,),
          hint="takes its next page only after its write"),
    wrong("10.1", "half lost: 300", (300,), hint="count the rounds"),
    wrong("10.1", "400", (400,), hint="in a round, all three tasks read the same"),

    right("10.2", "fetch, then with lock: +=", (fetch_then_lock,),
          praise="no task held it while fetching"),
    right("10.2", "acquire / try / finally release", (acquire_release,)),
    right("10.2", "an RLock and stats.update", (with_an_rlock,)),
    wrong("10.2", "unchanged", (unchanged,), hint="reads stats['words'] before fetch() waits"),
    wrong("10.2", "fetch first, no lock", (fetch_first_no_lock,),
          hint="it is not atomic: a free-threaded build"),
    wrong("10.2", "the whole += under the lock", (whole_line_locked,),
          hint="fetch the page first, outside the lock"),
    wrong("10.2", "a lock made inside the task", (lock_made_inside,),
          hint="a new lock on every call"),
    wrong("10.2", "the read locked, the write not", (read_locked_write_not,),
          hint="must both be inside one `with lock:`"),
    wrong("10.2", "acquire() without release()", (acquire_never_release,),
          hint="use `with lock:`"),
    wrong("10.2", "adds 1 per page", (counts_pages,), hint="add the number of words"),
    wrong("10.2", "adds 100 without fetching", (no_fetch,), hint="keep ss.fetch(page)"),

    right("10.3", "sum of the Counters", lambda: recorded(sum_of_counters),
          praise="the caller added them up"),
    right("10.3", "Counter.update in a loop over imap_unordered",
          lambda: recorded(update_in_a_loop)),
    wrong("10.3", "a shared Counter updated by the tasks", lambda: recorded(shared_counter),
          hint="let count_page return a new Counter"),
    wrong("10.3", "the shared Counter returned", lambda: recorded(returns_the_shared_counter),
          hint="let count_page return a new Counter"),
    wrong("10.3", "merged with dict.update", lambda: recorded(merged_with_dict_update),
          hint="dict.update replaces a word's count"),
    wrong("10.3", "the list of Counters, not merged", lambda: recorded(not_merged),
          hint="merge the per-page Counters in the caller"),
    wrong("10.3", "the number of words, not their counts", lambda: recorded(total_not_counts),
          hint="word_counts = sum(per_page, Counter())"),
    wrong("10.3", "no pool", lambda: recorded(no_pool), hint="pool.map(count_page, ss.PAGES)"),
    wrong("10.3", "letters, not words", lambda: recorded(letters_not_words),
          hint="Counter(ss.fetch(page).split())"),
]
test_corpus = corpus_test(nb10, CORPUS)


# --- what the corpus does not cover -------------------------------------------------------

def test_ex10_2_the_feedback_shows_the_words_lost(capsys):
    ok, out = run(nb10.ex10_2, capsys, unchanged)
    assert ok is False and "the race test lost 300 of 400 words" in out, out


def test_ex10_2_turns_names_how_many_tasks_held_the_lock(capsys):
    ok, out = run(nb10.ex10_2, capsys, whole_line_locked)
    assert ok is False and "4 of 4 tasks held the lock while fetch() waited" in out, out


def test_ex10_2_a_task_that_raises_is_feedback(capsys):
    def wrong_signature():
        pass

    ok, out = run(nb10.ex10_2, capsys, wrong_signature)
    assert ok is False and not_yet(out, "try add_words('home')") and "TypeError" in out, out


def test_ex10_2_a_semaphore_gets_its_own_hint(capsys):
    def with_a_semaphore(page):
        words = len(ss.fetch(page).split())
        with threading.Semaphore(1):
            stats["words"] += words

    ok, out = run(nb10.ex10_2, capsys, with_a_semaphore)
    assert ok is False and not_yet(out, "use the global lock"), out


def test_ex10_2_without_a_global_stats(capsys):
    def elsewhere(page):
        return page

    saved = globals().pop("stats")
    try:
        ok, out = run(nb10.ex10_2, capsys, elsewhere)
    finally:
        globals()["stats"] = saved
    assert ok is False and not_yet(out, "keep stats = {'words': 0}"), out


def test_ex10_2_verdicts_hold_while_threads_compete_for_the_gil():
    # Busy threads in this process make every task slow to get the GIL: the race test's
    # verdicts do not rest on timing, so they stay the same.
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            pass

    hogs = [threading.Thread(target=spin, daemon=True) for _ in range(2)]
    for hog in hogs:
        hog.start()
    try:
        verdicts = {f.__name__: nb10.ex10_2(f, quiet=True)
                    for f in (fetch_then_lock, unchanged, fetch_first_no_lock,
                              whole_line_locked)}
    finally:
        stop.set()
        for hog in hogs:
            hog.join()
    assert verdicts == {"fetch_then_lock": True, "unchanged": False,
                        "fetch_first_no_lock": False, "whole_line_locked": False}


def test_ex10_3_count_page_is_judged_even_when_word_counts_is_right(capsys):
    # A right word_counts from the caller's own loop, and a count_page that updates a
    # global: the shared update is the mistake, and the global is put back.
    shared_counts.clear()
    shared_counts["before"] = 1
    _, word_counts, trace = recorded(sum_of_counters)
    ok, out = run(nb10.ex10_3, capsys, count_and_return_shared, word_counts, trace)
    assert ok is False and "changes the global shared_counts" in out, out
    assert shared_counts == Counter(before=1)


def test_ex10_3_the_same_object_twice(capsys):
    cache = {}

    def cached_count(page):
        if page not in cache:
            cache[page] = Counter(ss.fetch(page).split())
        return cache[page]

    _, word_counts, trace = recorded(sum_of_counters)
    ok, out = run(nb10.ex10_3, capsys, cached_count, word_counts, trace)
    assert ok is False and not_yet(out, "make a new Counter in each call"), out


def test_ex10_3_a_count_page_that_raises(capsys):
    def broken(page):
        raise KeyError(page)

    _, word_counts, trace = recorded(sum_of_counters)
    ok, out = run(nb10.ex10_3, capsys, broken, word_counts, trace)
    assert ok is False and "count_page('home') raised KeyError" in out, out


# --- the race test itself --------------------------------------------------------------------

def test_the_race_test_puts_the_globals_back():
    ours_stats, ours_lock = stats, lock
    ss.race_test(unchanged)
    assert stats is ours_stats and lock is ours_lock and stats == {"words": 0}


def test_the_race_test_counts_right_and_wrong():
    racy, right_, turns = (ss.race_test(f) for f in (unchanged, fetch_then_lock,
                                                     whole_line_locked))
    assert (racy.lost, racy.unprotected, racy.fetched_locked) == (300, 4, 0)
    assert (right_.lost, right_.unprotected, right_.fetched_locked) == (0, 0, 0)
    assert (turns.lost, turns.unprotected, turns.fetched_locked) == (0, 0, 4)
    assert "300 lost" in str(racy) and "none lost" in str(right_)


def test_a_lock_never_released_is_reported_at_once():
    start = time.monotonic()
    report = ss.race_test(acquire_never_release)
    assert any(e.startswith("LockNeverReleased") for e in report.errors), report
    assert time.monotonic() - start < ss.STUCK  # the waiters saw the lock abandoned


def test_the_race_test_refuses_what_it_cannot_run():
    with pytest.raises(TypeError, match="a function defined in the notebook"):
        ss.race_test(len)
    saved = globals().pop("stats")
    try:
        with pytest.raises(ValueError, match="global dict stats"):
            ss.race_test(unchanged)
    finally:
        globals()["stats"] = saved


def test_pages_are_fixed_and_fetch_checks_its_arguments():
    assert ss.text("home").split()[:4] == ["queue", "pool", "lock", "wait"]
    assert all(len(ss.text(p).split()) == ss.PAGE_WORDS for p in ss.PAGES)
    assert len({ss.text(p) for p in ss.PAGES}) == len(ss.PAGES)
    assert sum(nb10.EXPECTED_10_3.values()) == 8 * ss.PAGE_WORDS
    with pytest.raises(TypeError, match="a page name"):
        ss.fetch(3)
    with pytest.raises(ValueError, match="from 0 to 10"):
        ss.fetch("home", seconds=-1)


# --- every check: the stub, garbage, quiet -----------------------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE)


def test_the_stub_with_a_recorded_trace_says_replace_the_dots(capsys):
    # In the notebook the answer cell's stub records an empty trace and leaves `...`.
    says_replace_the_dots(capsys, nb10.ex10_3, ..., ..., empty_trace())


def test_the_stub_of_10_2_is_not_solved(capsys):
    # The student edition keeps the racy add_words of the stub: the check must fail.
    ok, out = run(nb10.ex10_2, capsys, unchanged)
    assert ok is False and "not solved yet." in out


@pytest.fixture(scope="module")
def right_10_3():
    """A right answer to 10.3, run once for the tests that put junk beside it."""
    return list(recorded(sum_of_counters))


@pytest.mark.parametrize("junk", NASTY, ids=NASTY_IDS)
def test_nasty_answers_next_to_right_ones_never_raise(capsys, junk, right_10_3):
    nasty_answers_never_raise(capsys, nb10.ex10_3, junk, right=right_10_3)


def test_quiet_prints_nothing(capsys):
    assert nb10.ex10_1(200, quiet=True) is True
    assert nb10.ex10_1(600, quiet=True) is False
    assert capsys.readouterr().out == ""
