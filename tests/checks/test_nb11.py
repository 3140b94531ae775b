"""The checks of 11-Per-Thread-Resources.ipynb: right answers pass, wrong ones get a hint
naming the mistake, nothing raises.

The answers to exercises 11.2 and 11.3 are learners' cells, run for real as source text
against a stand-in database of their own (shorter waits than the notebook's, so the tests
stay quick), recorded as ``%%timeline --out NAME`` records them. The notebook's own
solutions and its buggy stub are read from the notebook itself.
"""

from __future__ import annotations

import textwrap
import threading
from multiprocessing.pool import ThreadPool
from pathlib import Path

import nbformat
import pytest

import poolscope
from poolscope.tutorial.checks import nb11
from poolscope.tutorial.per_thread import Database

from check_helpers import (NASTY, NASTY_IDS, empty_trace, every_check_tests,
                           nasty_answers_never_raise, not_yet, run, says_replace_the_dots,
                           uncommented_stub)
from corpus import corpus_test, right, wrong

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "11-Per-Thread-Resources.ipynb"
GARBAGE = [None, "10", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb11.ex11_1, 2), (nb11.ex11_2, 3), (nb11.ex11_3, 3)]
# The notebook's waits are 0.2 s and 0.1 s; these keep the tasks overlapping, and quick.
CONNECT, QUERY = 0.05, 0.02
RIGHT = [x * 10 for x in range(9)]


def lookup(conn, x):
    """The notebook's lookup: one query through conn."""
    return conn.execute("SELECT value FROM items WHERE id = ?", (x,)).fetchone()[0]


def run_cell(code: str) -> tuple:
    """Run a learner's answer cell for real, as the notebook would after its first cells
    (``db``, ``lookup``, ``results = ...``), recorded as ``%%timeline --out`` records it:
    ``(results, trace, db)``.

    A cell that raises leaves ``results`` as it was (the learner sees a traceback, then
    runs the check cell); every pool the cell left running is shut down afterwards.
    """
    db = Database(connect_time=CONNECT, query_time=QUERY)
    ns = {"ThreadPool": ThreadPool, "threading": threading, "db": db, "lookup": lookup,
          "results": ...}
    with poolscope.record() as trace:
        try:
            exec(textwrap.dedent(code), ns)
        except Exception:  # what the learner would see as a traceback
            pass
        finally:
            for value in list(ns.values()):
                if isinstance(value, ThreadPool):
                    value.terminate()
                    value.join()
    return ns["results"], trace, db


def cell(code: str):
    """A corpus answer: the cell ``code``, run when the corpus asks for it."""
    return lambda: run_cell(code)


def _answer_cell(grade_id: str) -> str:
    return next(c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def solution(grade_id: str) -> str:
    """The notebook's own solution of an exercise (its %%timeline line left out)."""
    source = _answer_cell(grade_id)
    return source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]


def buggy_code(grade_id: str) -> str:
    """The commented-out code of an exercise's stub, uncommented (as a learner would)."""
    return uncommented_stub(_answer_cell(grade_id), grade_id)


# --- 11.2 an initializer with threading.local: learners' cells ----------------------------

WITH_BLOCK = """
here = threading.local()

def connect_to(database):
    here.conn = database.connect()

def value_of(x):
    return lookup(here.conn, x)

with ThreadPool(3, initializer=connect_to, initargs=(db,)) as pool:
    results = pool.map(value_of, range(9))
"""

NO_INITARGS = """
here = threading.local()

def connect_to():
    here.conn = db.connect()

def value_of(x):
    return lookup(here.conn, x)

pool = ThreadPool(3, initializer=connect_to)
results = pool.map(value_of, range(9))
pool.close()
pool.join()
"""

PER_TASK_2 = """
def value_of(x):
    conn = db.connect()
    try:
        return lookup(conn, x)
    finally:
        conn.close()

pool = ThreadPool(3)
results = pool.map(value_of, range(9))
pool.close()
pool.join()
"""

LAZY_2 = """
here = threading.local()

def value_of(x):
    if not hasattr(here, "conn"):
        here.conn = db.connect()
    return lookup(here.conn, x)

pool = ThreadPool(3)
results = pool.map(value_of, range(9))
pool.close()
pool.join()
"""

INIT_AND_TASK = """
here = threading.local()

def connect_to(database):
    here.conn = database.connect()

def value_of(x):
    here.conn = db.connect()           # a fresh one, to be safe
    return lookup(here.conn, x)

pool = ThreadPool(3, initializer=connect_to, initargs=(db,))
results = pool.map(value_of, range(9))
pool.close()
pool.join()
"""

GLOBAL_UNCHECKED = """
conn = None

def connect_to(database):
    global conn
    conn = database.connect(check_same_thread=False)

def value_of(x):
    return lookup(conn, x)

pool = ThreadPool(3, initializer=connect_to, initargs=(db,))
results = pool.map(value_of, range(9))
pool.close()
pool.join()
"""

CALLERS_IN_INITIALIZER = """
here = threading.local()
conn = db.connect(check_same_thread=False)

def connect_to(database):
    here.conn = conn

def value_of(x):
    return lookup(here.conn, x)

pool = ThreadPool(3, initializer=connect_to, initargs=(db,))
results = pool.map(value_of, range(9))
pool.close()
pool.join()
"""

# These raise in the learner's cell, so results stays ... (tested below the corpus).
GLOBAL = GLOBAL_UNCHECKED.replace("database.connect(check_same_thread=False)",
                                  "database.connect()")
NO_INITIALIZER_PASSED = NO_INITARGS.replace("ThreadPool(3, initializer=connect_to)",
                                            "ThreadPool(3)")


# --- 11.3 fix a shared connection: learners' cells ----------------------------------------

LAZY_3 = """
mine = threading.local()
made = []

def fetch(x):
    if not hasattr(mine, "conn"):
        mine.conn = db.connect(check_same_thread=False)
        made.append(mine.conn)
    return lookup(mine.conn, x)

with ThreadPool(3) as pool:
    results = pool.map(fetch, range(9))
for c in made:
    c.close()
"""

SHARED_UNCHECKED = """
conn = db.connect(check_same_thread=False)

def fetch(x):
    return lookup(conn, x)

with ThreadPool(3) as pool:
    results = pool.map(fetch, range(9))
"""

SHARED_WITH_LOCK = """
conn = db.connect(check_same_thread=False)
lock = threading.Lock()

def fetch(x):
    with lock:
        return lookup(conn, x)

with ThreadPool(3) as pool:
    results = pool.map(fetch, range(9))
conn.close()
"""

PER_TASK_3 = """
def fetch(x):
    conn = db.connect()
    try:
        return lookup(conn, x)
    finally:
        conn.close()

with ThreadPool(3) as pool:
    results = pool.map(fetch, range(9))
"""

LEFT_OPEN = """
mine = threading.local()

def connect_here():
    mine.conn = db.connect()

def fetch(x):
    return lookup(mine.conn, x)

pool = ThreadPool(3, initializer=connect_here)
results = pool.map(fetch, range(9))
pool.close()
pool.join()
"""

CLOSED_FROM_THE_CALLER = """
mine = threading.local()
made = []

def connect_here():
    mine.conn = db.connect()
    made.append(mine.conn)

def fetch(x):
    return lookup(mine.conn, x)

pool = ThreadPool(3, initializer=connect_here)
results = pool.map(fetch, range(9))
pool.close()
pool.join()
for conn in made:
    conn.close()                        # sqlite3 refuses: made in another thread
"""

CLOSED_IN_THE_INITIALIZER = """
mine = threading.local()
made = []

def connect_here():
    mine.conn = db.connect(check_same_thread=False)
    made.append(mine.conn)

def fetch(x):
    return lookup(mine.conn, x)

pool = ThreadPool(3, initializer=connect_here)
for conn in made:
    conn.close()                        # too early: the tasks still need them
results = pool.map(fetch, range(9))
pool.close()
pool.join()
"""


CORPUS = [
    right("11.1", "10 and 4", (10, 4), praise="whether or not the worker gets a task"),
    right("11.1", "floats", (10.0, 4.0)),
    wrong("11.1", "one per worker for both", (4, 4), hint="connects inside the task"),
    wrong("11.1", "only the workers that got a task", (10, 2),
          hint="whether or not that worker then gets a task"),
    wrong("11.1", "one for the pool", (10, 1), hint="not once per pool"),
    wrong("11.1", "three", (10, 3), hint="ThreadPool(4) starts 4 worker threads"),

    right("11.2", "the notebook's solution", cell(solution("ex11_2")),
          praise="3 connections for 3 worker threads"),
    right("11.2", "in a with block", cell(WITH_BLOCK)),
    right("11.2", "without initargs", cell(NO_INITARGS)),
    wrong("11.2", "a connection per task", cell(PER_TASK_2),
          hint="this exercise asks for an initializer"),
    wrong("11.2", "made lazily, no initializer", cell(LAZY_2),
          hint="this exercise asks for an initializer"),
    wrong("11.2", "in the initializer and again in each task", cell(INIT_AND_TASK),
          hint="in the initializer and again in the tasks"),

    right("11.3", "the notebook's solution", cell(solution("ex11_3")),
          praise="closed once the workers were done"),
    right("11.3", "made lazily in each thread, closed after the block", cell(LAZY_3)),
    wrong("11.3", "a lock around the shared connection", cell(SHARED_WITH_LOCK),
          hint="the threads share it"),
    wrong("11.3", "a connection per task", cell(PER_TASK_3), hint="connected 3 times"),
    wrong("11.3", "per thread, left open", cell(LEFT_OPEN), hint="were left open"),
    wrong("11.3", "per thread, closed by the caller without check_same_thread=False",
          cell(CLOSED_FROM_THE_CALLER), hint="check_same_thread=False"),
]
test_corpus = corpus_test(nb11, CORPUS)


# --- what the corpus does not cover: cells that raise before they set results --------------

# Queries that run at the same time through one shared connection (check_same_thread=False)
# can fail or return another query's row: measured on 3.12 and 3.13, not on 3.11. Such a
# cell may then raise before it sets results, so the mistake is named either in the verdict
# or in the note next to "replace the ...": both must name the sharing.
@pytest.mark.parametrize("check, code, says", [
    (nb11.ex11_2, GLOBAL_UNCHECKED, "each initializer stored its connection in the same"),
    (nb11.ex11_2, CALLERS_IN_INITIALIZER, "made in MainThread"),
    (nb11.ex11_3, SHARED_UNCHECKED, "check_same_thread=False only turns sqlite3's check off"),
], ids=["11.2 a global variable, check_same_thread=False",
        "11.2 the caller's connection, handed out by the initializer",
        "11.3 check_same_thread=False on the shared connection"])
def test_a_shared_connection_is_named_whatever_its_queries_did(capsys, check, code, says):
    results, trace, db = run_cell(code)
    ok, out = run(check, capsys, results, trace, db)
    assert ok is False and "solved!" not in out, out
    assert "the threads share it" in out and says in out, out
    assert ("not solved yet." in out) or (results is ... and "stopped before" in out), out


@pytest.mark.parametrize("code, note", [
    (GLOBAL, "not in a global variable"),
    (NO_INITIALIZER_PASSED, "pass the initializer to the pool"),
], ids=["global variable", "initializer not passed"])
def test_ex11_2_a_cell_that_raised_is_named(capsys, code, note):
    results, trace, db = run_cell(code)
    assert results is ...
    ok, out = run(nb11.ex11_2, capsys, results, trace, db)
    assert ok is False and "replace the ... with your answer" in out, out
    assert "your cell stopped before it set results" in out and note in out, out


def test_ex11_3_the_stub_as_written_is_named(capsys):
    results, trace, db = run_cell(buggy_code("ex11_3"))
    assert results is ...
    ok, out = run(nb11.ex11_3, capsys, results, trace, db)
    assert ok is False and "ProgrammingError: SQLite objects created in a thread" in out, out
    assert "the caller's?" in out, out


def test_ex11_3_closing_too_early_is_named(capsys):
    results, trace, db = run_cell(CLOSED_IN_THE_INITIALIZER)
    # Closed right after ThreadPool(...) returned: what the initializers had made by
    # then (usually nothing yet, as connecting takes a while) is closed, so the tasks
    # raise "Cannot operate on a closed database", or the rest is left open.
    ok, out = run(nb11.ex11_3, capsys, results, trace, db)
    assert ok is False and ("left open" in out or "closed database" in out), out


def test_ex11_2_a_cell_without_a_pool(capsys):
    with poolscope.record() as trace:
        results = RIGHT
    ok, out = run(nb11.ex11_2, capsys, results, trace, Database(0, 0))
    assert ok is False and not_yet(out, "pool = ThreadPool(3, ...)"), out


def test_ex11_2_tasks_that_do_not_query(capsys):
    results, trace, db = run_cell("""
        def connect_to(database):
            pass

        with ThreadPool(3, initializer=connect_to, initargs=(db,)) as pool:
            results = pool.map(lambda x: x * 10, range(9))
    """)
    ok, out = run(nb11.ex11_2, capsys, results, trace, db)
    assert ok is False and "each task should query" in out, out


def test_ex11_2_wrong_database(capsys):
    results, trace, _ = run_cell(solution("ex11_2"))
    ok, out = run(nb11.ex11_2, capsys, results, trace, "db")
    assert ok is False and "stand-in database" in out, out


def test_ex11_3_results_out_of_order(capsys):
    results, trace, db = run_cell(solution("ex11_3"))
    ok, out = run(nb11.ex11_3, capsys, list(reversed(results)), trace, db)
    assert ok is False and "in input order" in out, out


def test_the_verdict_comes_from_the_connections_not_the_results(capsys):
    # The right results with a per-task cell's records: still wrong.
    _, trace, db = run_cell(PER_TASK_3)
    ok, out = run(nb11.ex11_3, capsys, RIGHT, trace, db)
    assert ok is False and "connected 3 times" in out, out


# --- every check: the stub, garbage, quiet -----------------------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE)


def test_the_stub_with_a_recorded_trace_says_replace_the_dots(capsys):
    # In the notebook the answer cell's stub records an empty trace and leaves `...`.
    for check in (nb11.ex11_2, nb11.ex11_3):
        says_replace_the_dots(capsys, check, ..., empty_trace(), Database(0, 0))
        assert "stopped" not in capsys.readouterr().out


@pytest.mark.parametrize("junk", NASTY, ids=NASTY_IDS)
def test_nasty_answers_next_to_right_ones_never_raise(capsys, junk):
    nasty_answers_never_raise(capsys, nb11.ex11_1, junk, right=(10, 4))
    results, trace, db = RIGHT_RUN
    nasty_answers_never_raise(capsys, nb11.ex11_3, junk, right=(results, trace, db))


RIGHT_RUN = run_cell(solution("ex11_3"))


def test_quiet_prints_nothing(capsys):
    assert nb11.ex11_1(10, 4, quiet=True) is True
    assert nb11.ex11_1(10, 2, quiet=True) is False
    assert capsys.readouterr().out == ""


# --- the stand-in database and the set-up timeline (poolscope.tutorial.per_thread) ---------

def test_each_connection_notes_its_threads():
    db = Database(connect_time=0, query_time=0)
    conn = db.connect(check_same_thread=False)
    with ThreadPool(2) as pool:
        assert pool.map(lambda x: lookup(conn, x), [1, 2]) == [10, 20]
    conn.close()
    assert conn.made_in == "MainThread" and conn.closed_in == "MainThread"
    assert len(conn.used_in) == 2 and "MainThread" not in conn.used_in
    assert db.made == [conn]


def test_a_refused_query_or_close_is_noted_as_refused():
    import sqlite3

    db = Database(connect_time=0, query_time=0)
    made = ThreadPool(1)
    try:
        conn = made.apply(db.connect)  # made in a worker thread
        with pytest.raises(sqlite3.ProgrammingError):
            lookup(conn, 1)
        with pytest.raises(sqlite3.ProgrammingError):
            conn.close()
        assert conn.used_in == [] and conn.close_refused_in == "MainThread"
        assert not conn.closed
        made.apply(conn.close)
        assert conn.closed
    finally:
        made.close()
        made.join()


@pytest.mark.parametrize("settings, message", [
    ({"connect_time": -1}, "connect_time must be"),
    ({"query_time": float("nan")}, "query_time must be"),
    ({"rows": 0}, "rows must be"),
    ({"rows": True}, "rows must be"),
])
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        Database(**settings)


def test_connect_makes_its_own_kind_of_connection():
    with pytest.raises(TypeError, match="leave out factory="):
        Database(0, 0).connect(factory=object)


def _traced(initializer, items, workers=2):
    with poolscope.record() as trace:
        pool = ThreadPool(workers, initializer=initializer)
        pool.map(time_sleep, items)
        pool.close()
        pool.join()
    return trace


def time_sleep(seconds):
    import time

    time.sleep(seconds)


def test_the_set_up_timeline_draws_every_initializer():
    from poolscope.tutorial.per_thread import setup_timeline

    text = setup_timeline(_traced(lambda: time_sleep(0.2), [0.1] * 2, workers=4))
    rows = [line for line in text.splitlines() if line.startswith("worker")]
    assert len(rows) == 4 and all(row.split()[2].startswith("ii") for row in rows), text
    assert sorted(row.split()[2] for row in rows) == ["ii", "ii", "ii0", "ii1"], text


def test_the_set_up_timeline_without_initializer_or_pool():
    from poolscope.tutorial.per_thread import setup_timeline

    text = setup_timeline(_traced(None, [0.1] * 4))
    assert "i" not in "".join(line.split()[-1] for line in text.splitlines()
                              if line.startswith("worker")), text
    assert sorted(line.split()[-1] for line in text.splitlines()
                  if line.startswith("worker")) == ["02", "13"], text
    assert setup_timeline(empty_trace()) == "no ThreadPool recorded"
    with pytest.raises(ValueError, match="tick must be"):
        setup_timeline(empty_trace(), tick=0)
    with pytest.raises(ValueError, match="pass a larger tick"):
        setup_timeline(_traced(None, [0.01]), tick=1e-9)
