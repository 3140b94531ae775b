"""The checks of 08-Callbacks-and-Deadlocks.ipynb: right answers pass, wrong ones get a
hint naming the mistake, nothing raises.

The wrong-answer corpus runs the learners' answers for real: the cells of 8.2 and 8.3 as
source text, with the notebook's own ``lookup`` and ``size_of``, recorded as
``%%timeline --out NAME`` records them.
"""

from __future__ import annotations

import multiprocessing
import textwrap
import time
from multiprocessing.pool import ThreadPool
from pathlib import Path

import nbformat
import pytest

import poolscope
from poolscope.tutorial.checks import nb08
from poolscope.trace import Event, PoolInfo, Task, Trace, Worker

from check_helpers import (empty_trace, every_check_tests, not_yet, noted_thread_deaths, run,
                           says_replace_the_dots, uncommented_stub)
from corpus import corpus_test, right, wrong

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "08-Callbacks-and-Deadlocks.ipynb"
GARBAGE = [None, "ready", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb08.ex8_1, 1), (nb08.ex8_2, 3), (nb08.ex8_3, 2)]


@pytest.fixture
def quiet_thread_deaths():
    with noted_thread_deaths() as died:
        yield died


def shut_down_broken(pool: ThreadPool) -> None:
    """terminate() + join() for a pool whose result handler may have died."""
    try:
        pool.terminate()
    except AssertionError:  # "Cannot have cache with result_handler not alive"
        pass
    pool.join()


# --- the notebook's own code -------------------------------------------------------------

def notebook_namespace(*names: str) -> dict:
    """A namespace with the notebook's own definitions of ``names`` (and its imports)."""
    ns = {"ThreadPool": ThreadPool, "time": time, "multiprocessing": multiprocessing}
    for cell in nbformat.read(NOTEBOOK, as_version=4).cells:
        if cell.cell_type == "code" and cell.source.startswith(
                tuple(f"def {name}(" for name in names)):
            exec(cell.source, ns)
    assert all(name in ns for name in names), f"the notebook defines no {names}"
    return ns


def buggy_code(grade_id: str) -> str:
    """The commented-out code of an exercise's stub, uncommented (as a learner would)."""
    cell = next(c for c in nbformat.read(NOTEBOOK, as_version=4).cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return uncommented_stub(cell.source, grade_id)


def run_cell(code: str, uses: str, answers: tuple[str, ...]) -> tuple:
    """Run a learner's answer cell for real, recorded as ``%%timeline --out`` records it,
    with the notebook's own definition of ``uses``: ``(*answers, trace)``.

    A cell that raises leaves its variables as they were (the learner sees a traceback,
    then runs the check cell); the cell's pool is shut down afterwards.
    """
    ns = notebook_namespace(uses)
    with noted_thread_deaths(), poolscope.record() as trace:
        try:
            exec(textwrap.dedent(code), ns)
        except Exception:  # what the learner would see as a traceback
            pass
        finally:
            for pool in (ns.get("pool"), ns.get("inner_pool")):
                if isinstance(pool, ThreadPool):
                    shut_down_broken(pool)
    return (*(ns.get(name, ...) for name in answers), trace)


# --- the learners' answers ---------------------------------------------------------------

LOOKUP_CELL = """
    parsed, problems = [], []
    with ThreadPool(3) as pool:
        results = [pool.apply_async(lookup, (page,), callback=parse) for page in [1, 2, 3]]
        texts = [result.get(timeout=1) for result in results]
"""


def cell_8_2(parse: str, rest: str = LOOKUP_CELL) -> tuple:
    """The cell of exercise 8.2 with the learner's ``parse`` (source), run for real."""
    return run_cell(textwrap.dedent(parse) + textwrap.dedent(rest), "lookup",
                    ("parsed", "problems"))


PARSE_RIGHT = """
    def parse(text):
        try:
            parsed.append(int(text))
        except ValueError:
            problems.append(text)
"""
PARSE_ISDIGIT = """
    def parse(text):
        if text.isdigit():
            parsed.append(int(text))
        else:
            problems.append(text)
"""
PARSE_KEEPS_THE_ERROR = """
    def parse(text):
        try:
            parsed.append(int(text))
        except ValueError as error:
            problems.append(error)
"""
PARSE_FORGETS_PROBLEMS = """
    def parse(text):
        try:
            parsed.append(int(text))
        except ValueError:
            pass
"""
PARSE_WITHOUT_INT = """
    def parse(text):
        parsed.append(text)      # no int(), so nothing raises
"""
# The bug left in parse(), and the error caught where get() is called instead.
CATCH_AT_GET = """
    def parse(text):
        parsed.append(int(text))

    parsed, problems = [], []
    with ThreadPool(3) as pool:
        results = [pool.apply_async(lookup, (page,), callback=parse) for page in [1, 2, 3]]
        texts = []
        for result in results:
            try:
                texts.append(result.get(timeout=1))
            except ValueError as error:
                problems.append(str(error))
"""


def cell_8_3(code: str) -> tuple:
    """The cell of exercise 8.3, run for real with the notebook's size_of."""
    return run_cell(code, "size_of", ("totals",))


TOTAL_DIRECT = """
    def total(pages):
        return sum(size_of(page) for page in pages)

    with ThreadPool(2) as pool:
        totals = pool.map(total, [[1, 2], [3, 4]])
"""
TOTAL_SECOND_POOL = """
    def total(pages):
        return sum(inner_pool.map_async(size_of, pages).get(timeout=2))

    with ThreadPool(2) as pool, ThreadPool(2) as inner_pool:
        totals = pool.map(total, [[1, 2], [3, 4]])
"""
TOTAL_FLAT = """
    with ThreadPool(2) as pool:
        sizes = pool.map(size_of, [1, 2, 3, 4])
    totals = [sizes[0] + sizes[1], sizes[2] + sizes[3]]
"""
TOTAL_BIGGER_POOL = """
    def total(pages):
        sizes = pool.map_async(size_of, pages).get(timeout=2)
        return sum(sizes)

    with ThreadPool(4) as pool:
        totals = pool.map(total, [[1, 2], [3, 4]])
"""
TOTAL_IN_ONE_CHUNK = """
    def total(pages):
        sizes = pool.map_async(size_of, pages).get(timeout=2)
        return sum(sizes)

    with ThreadPool(2) as pool:
        totals = pool.map(total, [[1, 2], [3, 4]], chunksize=2)
"""
TOTAL_IMAP = """
    def total(pages):
        return sum(pool.imap(size_of, pages))

    with ThreadPool(3) as pool:
        totals = pool.map(total, [[1, 2], [3, 4]])
"""

CORPUS = [
    # 8.1 (predict): ready after the callback raised
    right("8.1", "the measured answer", ([True, False, False],), praise="nobody delivers"),
    right("8.1", "as a tuple", ((True, False, False),)),
    wrong("8.1", "only the failing callback's result lost", ([True, False, True],),
          hint="which thread hands its result over"),
    wrong("8.1", "callbacks cannot stop results", ([True, True, True],),
          hint="before its result is marked ready"),
    wrong("8.1", "the failing callback's result is delivered", ([True, True, False],),
          hint="before its result is marked ready"),
    wrong("8.1", "nothing is delivered at all", ([False, False, False],),
          hint="came before the callback broke"),
    # 8.2 (fix): a callback that never raises
    right("8.2", "try/except ValueError in parse", lambda: cell_8_2(PARSE_RIGHT),
          praise="every result was delivered"),
    right("8.2", "isdigit() in parse", lambda: cell_8_2(PARSE_ISDIGIT)),
    right("8.2", "the ValueError noted in problems", lambda: cell_8_2(PARSE_KEEPS_THE_ERROR)),
    wrong("8.2", "the stub, uncommented", lambda: cell_8_2("", buggy_code("ex8_2")),
          hint="catch the ValueError that int() raises"),
    wrong("8.2", "the error caught around get()", lambda: cell_8_2("", CATCH_AT_GET),
          hint="catch the ValueError that int() raises"),
    wrong("8.2", "the except block forgets problems", lambda: cell_8_2(PARSE_FORGETS_PROBLEMS),
          hint="append the text to problems"),
    wrong("8.2", "int() dropped, texts kept", lambda: cell_8_2(PARSE_WITHOUT_INT),
          hint="parse() appends int(text)"),
    # 8.3 (fix): no task waits for its own pool
    right("8.3", "size_of called directly", lambda: cell_8_3(TOTAL_DIRECT),
          praise="no task waits for its own pool"),
    right("8.3", "a second pool for the inner work", lambda: cell_8_3(TOTAL_SECOND_POOL)),
    right("8.3", "one map of every page, summed in the caller", lambda: cell_8_3(TOTAL_FLAT)),
    wrong("8.3", "a bigger pool", lambda: cell_8_3(TOTAL_BIGGER_POOL),
          hint="only while the pool has spare workers"),
    wrong("8.3", "both totals in one chunk", lambda: cell_8_3(TOTAL_IN_ONE_CHUNK),
          hint="only while the pool has spare workers"),
    wrong("8.3", "imap of its own pool in the task", lambda: cell_8_3(TOTAL_IMAP),
          hint="only while the pool has spare workers"),
]
test_corpus = corpus_test(nb08, CORPUS)


# --- 8.1: the answer is measured; feedback does not give it away --------------------------

def test_ex8_1_the_answer_is_what_the_pool_does(quiet_thread_deaths):
    """The notebook's exercise, run: the expected answer is measured, not assumed."""
    def keep_small(value):
        if value > 20:
            raise OverflowError(value)

    def task(x, seconds):
        time.sleep(seconds)
        return x * 10

    pool = ThreadPool(3)
    try:
        results = [pool.apply_async(task, (x, seconds), callback=keep_small)
                   for x, seconds in [(1, 0.1), (3, 0.2), (4, 0.3)]]
        time.sleep(0.4)
        assert [r.ready() for r in results] == nb08.EXPECTED_8_1
        assert quiet_thread_deaths == ["OverflowError"]
    finally:
        shut_down_broken(pool)


@pytest.mark.parametrize("ready", [a.arguments()[0] for a in CORPUS
                                   if a.exercise == "8.1" and not a.solved])
def test_ex8_1_wrong_does_not_give_the_answer_away(capsys, ready):
    ok, out = run(nb08.ex8_1, capsys, ready)
    assert ok is False and "[True, False, False]" not in out


@pytest.mark.parametrize("ready, hint", [
    ((True, False), "three True/False values"),
    ([1, 0, 0], "three True/False values"),
    ("True, False, False", "write a list"),
])
def test_ex8_1_not_three_booleans(capsys, ready, hint):
    ok, out = run(nb08.ex8_1, capsys, ready)
    assert ok is False and not_yet(out, hint), out


# --- 8.2: shapes of traces the corpus does not reach ------------------------------------

def test_ex8_2_no_callback(capsys):
    lookup = notebook_namespace("lookup")["lookup"]
    with poolscope.record() as trace:
        with ThreadPool(3) as pool:
            texts = pool.map(lookup, [1, 2, 3])
    parsed = [int(t) for t in texts if t != "n/a"]
    ok, out = run(nb08.ex8_2, capsys, parsed, ["n/a"], trace)
    assert ok is False and not_yet(out, "keep callback=parse"), out


def test_ex8_2_no_pool(capsys):
    with poolscope.record() as trace:
        pass
    ok, out = run(nb08.ex8_2, capsys, [100, 300], ["n/a"], trace)
    assert ok is False and not_yet(out, "keep the with block"), out


def test_ex8_2_callbacks_that_did_not_all_run(capsys):
    # Only two of the three results collected: the trace has two callbacks.
    tasks = [Task(0, "apply_async", k, 0, f"w{k}", k, 0.0, 0.0, 0.1, "finished")
             for k in range(3)]
    events = [Event("callback", 0, "Thread-9 (_handle_results)", 0.1, 0.1, "ok", k)
              for k in range(2)]
    trace = Trace.from_records(tasks, events, [Worker(0, k, f"w{k}", 0.0) for k in range(3)],
                               [PoolInfo(0, "ThreadPool", 3, 0.0)])
    ok, out = run(nb08.ex8_2, capsys, [100, 300], ["n/a"], trace)
    assert ok is False and not_yet(out, "collect the three results"), out


# --- 8.3 ------------------------------------------------------------------------------------

def test_ex8_3_the_stub_as_written_is_named(capsys):
    # Uncommented, the stub raises before it sets totals (still ...): the note says why.
    totals, trace = cell_8_3(buggy_code("ex8_3"))
    assert totals is ...
    ok, out = run(nb08.ex8_3, capsys, totals, trace)
    assert ok is False and "replace the ... with your answer" in out, out
    assert "stopped before it set totals" in out and "TimeoutError" in out, out
    assert "busy waiting too" in out, out


def test_ex8_3_the_plain_stub_has_no_note(capsys):
    ok, out = run(nb08.ex8_3, capsys, ..., empty_trace())
    assert ok is False and "stopped" not in out, out


def test_ex8_3_submitting_without_waiting_is_fine():
    # A task may hand work to its own pool; only waiting for it is the problem.
    totals, trace = cell_8_3("""
        def total(pages):
            pool.apply_async(size_of, (0,))
            return sum(size_of(page) for page in pages)

        with ThreadPool(2) as pool:
            totals = pool.map(total, [[1, 2], [3, 4]])
            pool.close()
            pool.join()
    """)
    assert totals == nb08.EXPECTED_8_3
    assert nb08.ex8_3(totals, trace, quiet=True) is True


def test_ex8_3_a_bigger_pool_works_by_luck():
    # The corpus's "bigger pool" is wrong although it gives the right totals.
    totals, _ = cell_8_3(TOTAL_BIGGER_POOL)
    assert totals == nb08.EXPECTED_8_3


def test_ex8_3_wrong_totals(capsys):
    totals, trace = cell_8_3(TOTAL_DIRECT)
    ok, out = run(nb08.ex8_3, capsys, [300, 300], trace)
    assert ok is False and not_yet(out, "total(pages) is the sum"), out


def test_ex8_3_no_pool(capsys):
    totals, trace = cell_8_3("totals = [sum(size_of(p) for p in pages) "
                             "for pages in [[1, 2], [3, 4]]]")
    assert totals == nb08.EXPECTED_8_3
    ok, out = run(nb08.ex8_3, capsys, totals, trace)
    assert ok is False and not_yet(out, "keep pool.map(total"), out


# --- every check: the stub, garbage, quiet -----------------------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE)


def test_the_stub_with_a_recorded_trace_says_replace_the_dots(capsys):
    # In the notebook the answer cell's stub records an empty trace and leaves `...`.
    says_replace_the_dots(capsys, nb08.ex8_2, ..., ..., empty_trace())
    says_replace_the_dots(capsys, nb08.ex8_3, ..., empty_trace())


def test_garbage_next_to_a_right_trace_never_raises(capsys):
    *_, trace_8_2 = cell_8_2(PARSE_RIGHT)
    _, trace_8_3 = cell_8_3(TOTAL_DIRECT)
    for garbage in GARBAGE:
        for args in ((garbage, garbage, trace_8_2), ([100, 300], garbage, trace_8_2),
                     (garbage, ["n/a"], trace_8_2)):
            ok, out = run(nb08.ex8_2, capsys, *args)
            assert ok is False and "not solved yet." in out and out.isascii()
        ok, out = run(nb08.ex8_3, capsys, garbage, trace_8_3)
        assert ok is False and "not solved yet." in out and out.isascii()


def test_quiet_prints_nothing(capsys):
    assert nb08.ex8_1([True, False, False], quiet=True) is True
    assert nb08.ex8_1([True, True, True], quiet=True) is False
    assert capsys.readouterr().out == ""


# --- the stubs' bugs are what the exercises say they are ---------------------------------

def test_the_stub_of_8_2_gives_up_and_breaks_the_with_block(quiet_thread_deaths):
    # "as written, get(timeout=1) gives up (and leaving the with block raises AssertionError)"
    # (up to 3.15: the notebook says so).
    ns = notebook_namespace("lookup")
    with pytest.raises(AssertionError) as raised:
        exec(buggy_code("ex8_2"), ns)
    assert isinstance(raised.value.__context__, multiprocessing.TimeoutError)
    assert quiet_thread_deaths == ["ValueError"]  # int("n/a") killed the result handler
    ns["pool"].join()


def test_the_stub_of_8_3_times_out():
    # "As written, it raises multiprocessing.TimeoutError after 0.5 s."
    ns = notebook_namespace("size_of")
    with pytest.raises(multiprocessing.TimeoutError):
        exec(buggy_code("ex8_3"), ns)
    ns["pool"].join()
