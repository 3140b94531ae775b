"""Checks for the exercises of ``10-Shared-State.ipynb``.

    >>> ok = ex10_1(200)
    Exercise 10.1 - How many words survive?: solved!
      two rounds of three tasks: in each round all three read the same number and wrote it plus 100, so each round added 100 words, not 300.
    >>> ex10_1(600)
    Exercise 10.1 - How many words survive?: not solved yet.
      words is not right yet
      expected: 200
      got:      600
      hint: that is what a correct count gives; here three tasks read stats['words'] at the same moment, before any of them wrote
    False

Exercise 10.2 runs the learner's ``add_words`` in
:func:`poolscope.tutorial.shared_state.race_test`, which forces the worst interleaving
and notes who held the lock at each read and write of ``stats``: a racy answer loses
words every time, and a right one never does, however busy the machine is. Exercise 10.3
reads the trace of the learner's cell and calls the learner's ``count_page`` (with the
notebook's globals watched: a task that changes them is found, and they are put back).
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from types import CodeType
from typing import Any

from .. import shared_state as ss
from . import NotYet, exercise, expect, expect_true
from ._traces import recorded_tasks, whole

# -- 10.1 ------------------------------------------------------------------------------

_HINTS_10_1 = {
    600: "that is what a correct count gives; here three tasks read stats['words'] at the "
         "same moment, before any of them wrote",
    100: "a worker takes its next page only after its write: the second three tasks read "
         "the 100 the first three wrote",
    300: "the three tasks of one round all read the same number, so together they add 100, "
         "not 300: count the rounds",
}


@exercise("10.1", "How many words survive?")
def ex10_1(words: Any) -> str:
    got = whole(words, "words", "300")
    hint = _HINTS_10_1.get(got, "six pages on three workers run in two rounds of three; "
                                "in a round, all three tasks read the same stats['words']")
    return expect(got, 200, message="words is not right yet", hint=hint,
                  explain="two rounds of three tasks: in each round all three read the same "
                          "number and wrote it plus 100, so each round added 100 words, not "
                          "300.")


# -- 10.2 ------------------------------------------------------------------------------

def _code_objects(code: CodeType) -> Iterator[CodeType]:
    """``code`` and the code of the functions and comprehensions inside it."""
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _code_objects(const)


def _names(func: Any) -> set[str]:
    """The global and attribute names ``func``'s code uses (empty when it has no code)."""
    code = getattr(func, "__code__", None)
    if not isinstance(code, CodeType):
        return set()
    return {name for c in _code_objects(code) for name in c.co_names}


_LOCKS = (type(threading.Lock()), type(threading.RLock()))


def _lock_names(func: Any) -> list[str]:
    """The global locks (Lock or RLock) that ``func`` uses by name."""
    found = getattr(func, "__globals__", None) or {}
    return sorted(n for n in _names(func) if isinstance(found.get(n), _LOCKS))


def _unprotected_hint(func: Any, report: ss.RaceReport) -> str:
    names = _names(func)
    if names & {"Lock", "RLock"}:
        return ("a lock made inside add_words is a new lock on every call, so no task ever "
                "waits for another: use the global lock, made once, outside the function")
    if names & {"Semaphore", "BoundedSemaphore", "Condition"}:
        return "use the global lock (a threading.Lock) with `with lock:`"
    if not _lock_names(func) and report.waited_between:
        return ("nothing protects the update, and the += reads stats['words'] before "
                "fetch() waits and writes after it: fetch first, then do the update "
                "inside `with lock:`")
    if not _lock_names(func):
        return ("nothing protects the update: put it inside `with lock:`. With the GIL a "
                "bare += seldom loses an update, but it is not atomic: a free-threaded "
                "build, or a thread switch at the wrong moment, loses them, as the race "
                "test just did")
    return ("the read and the write of stats['words'] must both be inside one `with lock:` "
            "block: a lock taken for the read alone, or the write alone, lets another task "
            "in between")


def _race(add_words: Any) -> ss.RaceReport:
    if not callable(add_words) or not isinstance(getattr(add_words, "__globals__", None), dict):
        raise NotYet("add_words should be a function", expected="def add_words(page): ...",
                     got=add_words, hint="define add_words(page) in the answer cell, and "
                                         "run the cell")
    try:
        return ss.race_test(add_words)
    except ValueError as exc:  # no global dict stats
        raise NotYet(str(exc), hint="keep stats = {'words': 0} at the top of the answer "
                                    "cell", show=False) from None


@exercise("10.2", "No lost words, no turns")
def ex10_2(add_words: Any) -> str:
    report = _race(add_words)
    stuck = [e for e in report.errors if e.startswith("LockNeverReleased")]
    expect_true(not stuck, "a task of the race test waited for the lock, but the task "
                "that acquired it never released it",
                hint="use `with lock:`, which releases the lock at the end of the block, "
                     "even when the block raises")
    if report.errors:
        raise NotYet(f"add_words raised {report.errors[0]}", show=False,
                     hint="add_words(page) should add the words of one page, like 'home', "
                          "to stats['words']: run your cell, then try add_words('home')")
    expect_true(report.fetches >= report.tasks, "add_words did not fetch its page",
                hint="keep ss.fetch(page): the words to count are in the page's text")
    lost = "" if report.lost in (0, None) else f": the race test lost {report.lost} of " \
                                                f"{report.expected} words"
    expect_true(report.unprotected == 0,
                f"stats was read or written without holding the lock in "
                f"{report.unprotected} of {report.tasks} tasks{lost}",
                hint=_unprotected_hint(add_words, report))
    expect_true(report.fetched_locked == 0,
                f"no word was lost, but {report.fetched_locked} of {report.tasks} tasks held "
                "the lock while fetch() waited: the tasks took turns, one fetch at a time",
                hint="fetch the page first, outside the lock; hold the lock only to update "
                     "stats['words']")
    return expect(report.got, report.expected,
                  message="stats['words'] is not the number of words of the pages",
                  hint="add the number of words of the page: len(text.split())",
                  explain="every read and write of stats held the lock, and no task held it "
                          "while fetching: nothing lost, and the pages still download at the "
                          "same time.")


# -- 10.3 ------------------------------------------------------------------------------

EXPECTED_10_3 = sum((Counter(ss.text(p).split()) for p in ss.PAGES), Counter())
_PROBE = "home"  # the page the check asks count_page for, twice


def _shared_values(func: Any) -> dict[str, Any]:
    """Copies of the notebook globals ``func`` uses by name that a task could change:
    containers, numbers, strings."""
    found = getattr(func, "__globals__", None) or {}
    kinds = (dict, list, set, int, float, str)
    return {n: copy.copy(found[n]) for n in _names(func)
            if n in found and type(found[n]) in (*kinds, Counter)}


def _changed(func: Any, before: dict[str, Any]) -> list[str]:
    """The globals of ``func`` that differ from ``before``; each is put back as it was."""
    found = func.__globals__
    changed = []
    for name, old in before.items():
        now = found.get(name)
        try:
            same = type(now) is type(old) and now == old
        except Exception:
            same = False
        if same:
            continue
        changed.append(name)
        if isinstance(now, (dict, list, set)) and type(now) is type(old):
            now.clear()  # the same object, its old contents back
            (now.extend if isinstance(now, list) else now.update)(old)
        else:
            found[name] = old
    return changed


def _call(count_page: Callable[[str], Any]) -> Any:
    try:
        return count_page(_PROBE)
    except Exception as exc:
        raise NotYet(f"count_page({_PROBE!r}) raised {type(exc).__name__}: {exc}",
                     hint="count_page(page) should return a Counter of the page's words",
                     show=False) from None


def _judge_count_page(count_page: Any) -> None:
    if not callable(count_page) or not isinstance(getattr(count_page, "__globals__", None),
                                                  dict):
        raise NotYet("count_page should be a function", expected="def count_page(page): ...",
                     got=count_page, hint="define count_page(page) in the answer cell")
    before = _shared_values(count_page)
    first, second = _call(count_page), _call(count_page)
    changed = _changed(count_page, before)
    expect_true(not changed, f"count_page changes the global {', '.join(changed)} (the "
                "check called it, then put it back): tasks that change a shared object "
                "race with each other",
                hint="let count_page return a new Counter for its page, change nothing "
                     "else, and merge the results in the caller")
    expected = Counter(ss.text(_PROBE).split())
    expect_true(first is not None, f"count_page({_PROBE!r}) returned None",
                hint="return the counts: return Counter(text.split())")
    expect_true(isinstance(first, dict), f"count_page({_PROBE!r}) should return a Counter "
                f"of the page's words, not {_a(type(first).__name__)}",
                hint="Counter(text.split()) counts each word of text")
    expect_true(first is not second, "count_page returns the same object on every call",
                hint="make a new Counter in each call: Counter(ss.fetch(page).split())")
    expect(first, expected, message=f"count_page({_PROBE!r}) is not the count of that "
                                    "page's words", hint="Counter(ss.fetch(page).split())")


def _judge_trace(trace: Any) -> None:
    tasks = recorded_tasks(trace, "ex10_3_trace")
    pages = len(ss.PAGES)
    expect_true(tasks, "your cell ran no tasks on a pool",
                hint="with ThreadPool(8) as pool: per_page = pool.map(count_page, ss.PAGES)")
    done = sum(t.outcome == "finished" for t in tasks)
    expect_true(done == pages, f"the pool finished {done} tasks, not {pages} (one per page)",
                hint="pool.map(count_page, ss.PAGES): one task per page")


def _a(noun: str) -> str:
    """``noun`` with its indefinite article: "an int", "a list"."""
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _merged_by_dict_update(counts: Any) -> bool:
    merged: dict = {}
    for page in ss.PAGES:
        merged.update(Counter(ss.text(page).split()))
    return dict(counts) == merged


@exercise("10.3", "Counts returned, merged by the caller")
def ex10_3(count_page: Any, word_counts: Any, trace: Any) -> str:
    if isinstance(word_counts, (list, tuple)):
        raise NotYet(f"word_counts is a {type(word_counts).__name__} of "
                     f"{len(word_counts)} items, not one Counter",
                     hint="merge the per-page Counters in the caller: "
                          "sum(per_page, Counter()), or update one Counter with each",
                     show=False)
    expect_true(isinstance(word_counts, dict), "word_counts should be a Counter (a count "
                f"for each word), not {_a(type(word_counts).__name__)}",
                hint="word_counts = sum(per_page, Counter())")
    counts = dict(word_counts)  # judged as the learner's cell left it
    _judge_trace(trace)
    _judge_count_page(count_page)
    if counts != EXPECTED_10_3 and _merged_by_dict_update(counts):
        raise NotYet("word_counts holds the counts of the last page with each word, not "
                     "their sums", hint="dict.update replaces a word's count; "
                                        "Counter.update (or +) adds them", show=False)
    return expect(counts, dict(EXPECTED_10_3), message="word_counts is not right yet",
                  hint="add the Counters of all 8 pages: sum(per_page, Counter())",
                  explain="each task returned the counts of its page and the caller added "
                          "them up: nothing shared, so no lock and nothing to lose.")
