"""The checks of 12-Progress-and-Stopping.ipynb: right answers pass, wrong ones get a hint
that names the mistake, nothing raises.

The answers to 12.1 and 12.2 are the learner's cell, run for real and recorded (the
notebook's ``%%timeline --out NAME`` does the same with ``poolscope.record()``); the
answers to 12.4 are the learner's function, which the check runs itself.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from contextlib import contextmanager
from multiprocessing.pool import ThreadPool

import pytest
from tqdm import tqdm

import poolscope
from poolscope.tutorial import progress
from poolscope.tutorial.checks import nb12
from poolscope.tutorial.progress import LINES, PAGES, WORD, download, read_line

from check_helpers import (empty_trace, every_check_tests, nasty_answers_never_raise, not_yet,
                           run, says_replace_the_dots)
from corpus import corpus_test, right, wrong

GARBAGE = [None, "3", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb12.ex12_1, 2), (nb12.ex12_2, 4), (nb12.ex12_3, 2), (nb12.ex12_4, 1)]


# --- 12.1 a bar that moves: learners' cells ------------------------------------------------

def check_link(site, page):
    """The notebook's check_link, faster: the check does not depend on the times."""
    time.sleep(0.2 if (site, page) == ("docs", 0) else 0.02)
    return f"{site}/{page}: ok"


LINKS = [(site, page) for site in ("docs", "blog") for page in range(4)]


def check_one(link):
    return check_link(*link)


def recorded(cell):
    """``(bar, trace)`` of a learner's cell (a function returning its bar)."""
    with poolscope.record() as trace:
        bar = cell()
    return bar, trace


def bar_over_imap_unordered():
    with ThreadPool(3) as pool:
        bar = tqdm(pool.imap_unordered(check_one, LINKS), total=len(LINKS))
        list(bar)
    return bar


def bar_with_a_lambda():
    with ThreadPool(3) as pool:
        bar = tqdm(pool.imap_unordered(lambda link: check_link(*link), LINKS), total=len(LINKS))
        for _ in bar:
            pass
    return bar


def bar_updated_by_hand():
    with ThreadPool(3) as pool, tqdm(total=len(LINKS)) as bar:
        for _ in pool.imap_unordered(check_one, LINKS):
            bar.update()
    return bar


def bar_over_imap():
    with ThreadPool(3) as pool:
        bar = tqdm(pool.imap(check_one, LINKS), total=len(LINKS))
        list(bar)
    return bar


def bar_without_total():
    with ThreadPool(3) as pool:
        bar = tqdm(pool.imap_unordered(check_one, LINKS))
        list(bar)
    return bar


def bar_over_starmap():  # the old code, wrapped
    with ThreadPool(3) as pool:
        bar = tqdm(pool.starmap(check_link, LINKS))
        list(bar)
    return bar


def bar_over_the_input():
    with ThreadPool(3) as pool:
        bar = tqdm(LINKS)
        list(pool.imap_unordered(check_one, bar))
    return bar


def imap_unordered_without_unpacking():  # starmap's function, one tuple per call
    with ThreadPool(3) as pool:
        bar = tqdm(pool.imap_unordered(check_link, LINKS), total=len(LINKS))
        try:
            list(bar)
        except TypeError:  # what the learner's cell raises
            pass
    return bar


def bar_in_chunks():
    with ThreadPool(3) as pool:
        bar = tqdm(pool.imap_unordered(check_one, LINKS, chunksize=4), total=len(LINKS))
        list(bar)
    return bar


# --- 12.2 running pages read on: learners' cells -------------------------------------------

@contextmanager
def lines_of(seconds):
    """Slower lines, for wrong answers whose verdict needs a task still running when the
    pool is terminated: the margin grows with the line (0.3 s here)."""
    saved = progress.LINE_SECONDS
    progress.LINE_SECONDS = seconds
    try:
        yield
    finally:
        progress.LINE_SECONDS = saved


def searcher(stop, at_start=True, between_lines=True, sets=True):
    """A learner's search(page): which looks at the flag where, and whether it sets it."""
    def search(page):
        if at_start and stop.is_set():
            return None
        download(page)
        for n in range(LINES[page]):
            if between_lines and stop.is_set():
                return None
            if WORD in read_line(page, n):
                if sets:
                    stop.set()
                return page
        return None
    return search


def search_cell(search, stop, how="close-join"):
    """The learner's cell: ``(found, search, stop, trace)``."""
    found = None
    with poolscope.record() as trace:
        if how == "close-join":
            pool = ThreadPool(3)
            for page in pool.imap_unordered(search, PAGES):
                if page is not None:
                    found = page
                    break
            pool.close()
            pool.join()
        else:  # a with block: the caller sets the flag and leaves
            with ThreadPool(3) as pool:
                for page in pool.imap_unordered(search, PAGES):
                    if page is not None:
                        found = page
                        stop.set()
                        break
            if how == "with-join":
                pool.join()
    if how == "with":
        pool.join()  # the test's own cleanup, after the recording
    return found, search, stop, trace


def fixed():
    stop = threading.Event()
    return search_cell(searcher(stop), stop)


def fixed_caller_sets_with_join():
    stop = threading.Event()
    return search_cell(searcher(stop, sets=False), stop, how="with-join")


def only_at_the_start():  # the notebook's search, unchanged
    stop = threading.Event()
    return search_cell(searcher(stop, between_lines=False), stop)


def only_between_lines():  # the start check moved into the loop
    stop = threading.Event()
    return search_cell(searcher(stop, at_start=False), stop)


def never_set():  # looks at the flag, but nobody sets it
    stop = threading.Event()
    return search_cell(searcher(stop, sets=False), stop)


def with_block_no_join():
    stop = threading.Event()
    with lines_of(0.5):
        return search_cell(searcher(stop, sets=False), stop, how="with")


# --- 12.4 which worker waits where: learners' functions ------------------------------------

def names_by_ident():
    return {t.ident: t.name for t in threading.enumerate()}


def busy_workers():
    names = names_by_ident()
    found = {}
    for ident, frame in sys._current_frames().items():
        name = names.get(ident, "")
        if name.endswith("(worker)"):
            found[name] = [call.name for call in traceback.extract_stack(frame)]
    return found


def busy_workers_innermost_first():  # FrameSummary objects, innermost first
    names = names_by_ident()
    return {names[i]: traceback.extract_stack(f)[::-1] for i, f in sys._current_frames().items()
            if names.get(i, "").endswith("(worker)")}


def busy_workers_innermost_name():  # only the frame's own function
    names = names_by_ident()
    return {names[i]: f.f_code.co_name for i, f in sys._current_frames().items()
            if names.get(i, "").endswith("(worker)")}


def busy_workers_own_stack():  # extract_stack() without the frame
    names = names_by_ident()
    return {names[i]: [c.name for c in traceback.extract_stack()]
            for i in sys._current_frames() if names.get(i, "").endswith("(worker)")}


def busy_workers_by_ident():
    return {i: [c.name for c in traceback.extract_stack(f)]
            for i, f in sys._current_frames().items()}


def busy_workers_by_native_id():
    names = {t.native_id: t.name for t in threading.enumerate()}
    return {names[i]: [c.name for c in traceback.extract_stack(f)]
            for i, f in sys._current_frames().items() if i in names}


def busy_workers_named_worker():
    names = names_by_ident()
    return {names[i]: [c.name for c in traceback.extract_stack(f)]
            for i, f in sys._current_frames().items() if names.get(i) == "worker"}


CORPUS = [
    right("12.1", "tqdm around imap_unordered", lambda: recorded(bar_over_imap_unordered),
          praise="in the order they finish"),
    right("12.1", "a lambda to unpack", lambda: recorded(bar_with_a_lambda)),
    right("12.1", "bar.update() in the loop", lambda: recorded(bar_updated_by_hand)),
    wrong("12.1", "imap", lambda: recorded(bar_over_imap), hint="results in input order"),
    wrong("12.1", "no total", lambda: recorded(bar_without_total), hint="pass total=len(links)"),
    wrong("12.1", "starmap's list wrapped", lambda: recorded(bar_over_starmap),
          hint="starmap returns only when every link is checked"),
    wrong("12.1", "the input wrapped", lambda: recorded(bar_over_the_input),
          hint="a bar around the input"),
    wrong("12.1", "check_link given the tuple", lambda: recorded(imap_unordered_without_unpacking),
          hint="with each item as ONE argument"),
    wrong("12.1", "chunksize=4", lambda: recorded(bar_in_chunks), hint="leave chunksize at 1"),

    right("12.2", "a look before each line", fixed, praise="stops after the line it is reading"),
    right("12.2", "the caller sets it, with block, join()", fixed_caller_sets_with_join),
    wrong("12.2", "a look at the start only", only_at_the_start,
          hint="check stop.is_set() before each line too"),
    wrong("12.2", "a look before each line only", only_between_lines,
          hint="look at the flag first, before download(page)"),
    wrong("12.2", "the flag never set", never_set, hint="stop.set() when the word is found"),
    wrong("12.2", "a with block, no join()", with_block_no_join,
          hint="call pool.join() after it"),

    right("12.3", "3 run on, 1 never starts", (3, 1), praise="task 6 was still queued"),
    wrong("12.3", "Ctrl-C stops the tasks", (0, 4), hint="cannot stop a thread"),
    wrong("12.3", "all the rest run, as without with", (4, 0),
          hint="leaving the with block calls terminate()"),
    wrong("12.3", "the queued task runs too", (3, 0), hint="drops the task still in the queue"),
    wrong("12.3", "every task", (7, 0), hint="leaving the with block calls terminate()"),
    wrong("12.3", "four never start", (3, 4), hint="three tasks had finished"),

    right("12.4", "names, outermost first", (busy_workers,),
          praise="the stuck worker was in wait_for_reply()"),
    right("12.4", "FrameSummary objects, innermost first", (busy_workers_innermost_first,)),
    wrong("12.4", "the innermost function only", (busy_workers_innermost_name,),
          hint="the innermost call of a waiting thread is threading's wait()"),
    wrong("12.4", "extract_stack() without the frame", (busy_workers_own_stack,),
          hint="pass each thread's frame"),
    wrong("12.4", "keyed by ident", (busy_workers_by_ident,), hint="your keys are thread idents"),
    wrong("12.4", "names by native_id", (busy_workers_by_native_id,),
          hint="look its frame up by thread.ident"),
    wrong("12.4", "threads named exactly worker", (busy_workers_named_worker,),
          hint="whose name ends in (worker)"),
]
test_corpus = corpus_test(nb12, CORPUS)


# --- what the corpus does not cover ------------------------------------------------------

def test_ex12_1_no_tqdm_bar(capsys):
    with poolscope.record() as trace:
        with ThreadPool(3) as pool:
            statuses = list(pool.imap_unordered(check_one, LINKS))
    ok, out = run(nb12.ex12_1, capsys, statuses, trace)
    assert ok is False and not_yet(out, "bar = tqdm(pool.imap_unordered(...)"), out


def test_ex12_1_a_bar_not_gone_through(capsys):
    def cell():
        with ThreadPool(3) as pool:
            bar = tqdm(pool.imap_unordered(check_one, LINKS), total=len(LINKS))
            next(iter(bar))
            list(pool.imap_unordered(check_one, LINKS))  # the rest, without the bar
        return bar
    ok, out = run(nb12.ex12_1, capsys, *recorded(cell))
    assert ok is False and not_yet(out, "go through the whole bar"), out


def test_ex12_2_a_search_that_raises_is_feedback(capsys):
    found, search, stop, trace = fixed()

    def broken(page):
        raise KeyError(page)
    ok, out = run(nb12.ex12_2, capsys, found, broken, stop, trace)
    assert ok is False and not_yet(out, "search(3) raised KeyError"), out
    assert stop.is_set()  # left as the learner's cell left it


def test_ex12_2_a_search_that_never_returns_does_not_hang(capsys, monkeypatch):
    monkeypatch.setattr(nb12, "GIVE_UP", 0.2)
    found, search, stop, trace = fixed()
    release = threading.Event()
    ok, out = run(nb12.ex12_2, capsys, found, lambda page: release.wait(), stop, trace)
    release.set()
    assert ok is False and not_yet(out, "had not returned after 0.2 s"), out


def test_ex12_2_pool_never_shut_down(capsys):
    stop = threading.Event()
    search = searcher(stop)
    with poolscope.record() as trace:
        pool = ThreadPool(3)
        found = next(p for p in pool.imap_unordered(search, PAGES) if p is not None)
    pool.close()  # the test's own cleanup
    pool.join()
    ok, out = run(nb12.ex12_2, capsys, found, search, stop, trace)
    assert ok is False and not_yet(out, "the pool was never shut down"), out


def test_ex12_3_other_numbers_get_a_hint(capsys):
    ok, out = run(nb12.ex12_3, capsys, 2, 1)
    assert ok is False and not_yet(out, "which were running at 0.4 s"), out
    ok, out = run(nb12.ex12_3, capsys, "3", "1")
    assert ok is False and "should be a number" in out, out


def test_ex12_4_a_function_that_raises_is_feedback(capsys):
    ok, out = run(nb12.ex12_4, capsys, lambda: 1 / 0)
    assert ok is False and not_yet(out, "busy_workers() raised ZeroDivisionError"), out


def test_ex12_4_a_list_instead_of_a_dict(capsys):
    ok, out = run(nb12.ex12_4, capsys, lambda: list(busy_workers().items()))
    assert ok is False and not_yet(out, "return a dict"), out


# --- every check: the stub, garbage, nasty answers, quiet ---------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE)


def test_the_stubs_in_the_notebook_say_replace_the_dots(capsys):
    # The answer cells' stubs record an empty trace and leave `...`; 12.2's check then
    # still gets the search() and stop of the page's example.
    stop = threading.Event()
    says_replace_the_dots(capsys, nb12.ex12_1, ..., empty_trace())
    says_replace_the_dots(capsys, nb12.ex12_2, ..., searcher(stop, between_lines=False),
                          stop, empty_trace())
    says_replace_the_dots(capsys, nb12.ex12_4, ...)


@pytest.mark.parametrize("check, answers", [
    (nb12.ex12_2, fixed), (nb12.ex12_4, lambda: (busy_workers,))], ids=["12.2", "12.4"])
def test_nasty_answers_beside_right_ones_never_raise(capsys, check, answers):
    from check_helpers import NASTY
    right_ones = answers()
    for junk in NASTY[:6]:
        nasty_answers_never_raise(capsys, check, junk, right_ones)


def test_quiet_prints_nothing(capsys):
    assert nb12.ex12_3(3, 1, quiet=True) is True
    assert nb12.ex12_3(0, 4, quiet=True) is False
    assert capsys.readouterr().out == ""
