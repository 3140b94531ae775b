"""The checks of 07-Errors-and-Callbacks.ipynb: right answers pass, wrong ones get a hint
naming the mistake, nothing raises.

The wrong-answer corpus runs the learners' answers for real: ``safe`` functions on the
check's own pool (7.1), and the cells of 7.3 and 7.4 as source text, with the notebook's
own ``lookup`` and ``size_of``, recorded as ``%%timeline --out NAME`` records them.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import textwrap
import threading
import time
from multiprocessing.pool import ThreadPool
from pathlib import Path

import nbformat
import pytest

import poolscope
from poolscope.tutorial.checks import nb07
from poolscope.trace import Event, PoolInfo, Task, Trace, Worker

from check_helpers import empty_trace, every_check_tests, not_yet, run, says_replace_the_dots
from corpus import corpus_test, right, wrong

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "07-Errors-and-Callbacks.ipynb"
GARBAGE = [None, "ready", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb07.ex7_1, 1), (nb07.ex7_2, 1), (nb07.ex7_3, 3), (nb07.ex7_4, 2)]


@contextlib.contextmanager
def noted_thread_deaths():
    """Note the exceptions that kill threads in a list, instead of printing them (as the
    notebook's thread_deaths())."""
    died: list[str] = []
    usual = threading.excepthook
    threading.excepthook = lambda args: died.append(args.exc_type.__name__)
    try:
        yield died
    finally:
        threading.excepthook = usual


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
    stub = cell.source.split("### BEGIN SOLUTION")[0]
    lines = [line[2:] if line.startswith("# ") else "" for line in stub.splitlines()
             if line.startswith("#") and not line.startswith("# Exercise")]
    assert lines, f"{grade_id}: no commented-out code in the stub"
    return "\n".join(lines)


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

def catching(kind, give):
    """A learner's safe(): ``call(x)`` returns func(x), or ``give(error)`` if it raised
    ``kind``."""
    def safe(func):
        def call(x):
            try:
                return func(x)
            except kind as error:
                return give(error)
        return call
    return safe


def itself(error):
    return error


safe_right = catching(Exception, itself)
safe_base = catching(BaseException, itself)  # catching BaseException as well is fine
safe_message = catching(Exception, str)
safe_repr = catching(Exception, repr)
safe_none = catching(Exception, lambda error: None)
safe_value_error_only = catching(ValueError, itself)


def safe_for_task_only(func):  # ignores func: right for the notebook's task alone
    def call(x):
        if x in (2, 5):
            return ValueError(f"item {x} is bad")
        return x * 10
    return call


def safe_wrong_values(func):
    def call(x):
        try:
            func(x)
            return x
        except Exception as error:
            return error
    return call


def safe_calls_twice(func):  # "does it raise?" first, then the real call
    def call(x):
        try:
            func(x)
        except Exception as error:
            return error
        return func(x)
    return call


def safe_unchanged(func):  # forgot the wrapper: map still raises
    try:
        return func
    except Exception as error:
        return error


def safe_slow(func):
    def call(x):
        time.sleep(0.5)
        return func(x)
    return call


LOOKUP_CELL = """
    parsed, problems = [], []
    with ThreadPool(3) as pool:
        results = [pool.apply_async(lookup, (page,), callback=parse) for page in [1, 2, 3]]
        texts = [result.get(timeout=1) for result in results]
"""


def cell_7_3(parse: str, rest: str = LOOKUP_CELL) -> tuple:
    """The cell of exercise 7.3 with the learner's ``parse`` (source), run for real."""
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


def cell_7_4(code: str) -> tuple:
    """The cell of exercise 7.4, run for real with the notebook's size_of."""
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
    # 7.1 (write): safe(func)
    right("7.1", "catches Exception, returns it", (safe_right,), praise="every value"),
    right("7.1", "catches BaseException too", (safe_base,)),
    wrong("7.1", "returns str(error)", (safe_message,), hint="not str(error) or repr(error)"),
    wrong("7.1", "returns repr(error)", (safe_repr,), hint="not str(error) or repr(error)"),
    wrong("7.1", "returns None for an error", (safe_none,),
          hint="except Exception as error: return error"),
    wrong("7.1", "catches ValueError only", (safe_value_error_only,),
          hint="catch any Exception, not only ValueError"),
    wrong("7.1", "hard-codes the notebook's task", (safe_for_task_only,),
          hint="call the func that safe() was given"),
    wrong("7.1", "returns x for a good item", (safe_wrong_values,),
          hint="when func(x) does not raise, return what it returns"),
    wrong("7.1", "calls func(x) twice", (safe_calls_twice,), hint="call func(x) once"),
    wrong("7.1", "returns func unwrapped", (safe_unchanged,),
          hint="return the exception from the except block"),
    # 7.2 (predict): ready after the callback raised
    right("7.2", "the measured answer", ([True, False, False],), praise="nobody delivers"),
    right("7.2", "as a tuple", ((True, False, False),)),
    wrong("7.2", "only the failing callback's result lost", ([True, False, True],),
          hint="which thread hands its result over"),
    wrong("7.2", "callbacks cannot stop results", ([True, True, True],),
          hint="before its result is marked ready"),
    wrong("7.2", "the failing callback's result is delivered", ([True, True, False],),
          hint="before its result is marked ready"),
    wrong("7.2", "nothing is delivered at all", ([False, False, False],),
          hint="came before the callback broke"),
    # 7.3 (fix): a callback that never raises
    right("7.3", "try/except ValueError in parse", lambda: cell_7_3(PARSE_RIGHT),
          praise="every result was delivered"),
    right("7.3", "isdigit() in parse", lambda: cell_7_3(PARSE_ISDIGIT)),
    right("7.3", "the ValueError noted in problems", lambda: cell_7_3(PARSE_KEEPS_THE_ERROR)),
    wrong("7.3", "the stub, uncommented", lambda: cell_7_3("", buggy_code("ex7_3")),
          hint="catch the ValueError that int() raises"),
    wrong("7.3", "the error caught around get()", lambda: cell_7_3("", CATCH_AT_GET),
          hint="catch the ValueError that int() raises"),
    wrong("7.3", "the except block forgets problems", lambda: cell_7_3(PARSE_FORGETS_PROBLEMS),
          hint="append the text to problems"),
    wrong("7.3", "int() dropped, texts kept", lambda: cell_7_3(PARSE_WITHOUT_INT),
          hint="parse() appends int(text)"),
    # 7.4 (fix): no task waits for its own pool
    right("7.4", "size_of called directly", lambda: cell_7_4(TOTAL_DIRECT),
          praise="no task waits for its own pool"),
    right("7.4", "a second pool for the inner work", lambda: cell_7_4(TOTAL_SECOND_POOL)),
    right("7.4", "one map of every page, summed in the caller", lambda: cell_7_4(TOTAL_FLAT)),
    wrong("7.4", "a bigger pool", lambda: cell_7_4(TOTAL_BIGGER_POOL),
          hint="only while the pool has spare workers"),
    wrong("7.4", "both totals in one chunk", lambda: cell_7_4(TOTAL_IN_ONE_CHUNK),
          hint="only while the pool has spare workers"),
    wrong("7.4", "imap of its own pool in the task", lambda: cell_7_4(TOTAL_IMAP),
          hint="only while the pool has spare workers"),
]
test_corpus = corpus_test(nb07, CORPUS)


# --- 7.1: what the corpus does not cover --------------------------------------------------

@pytest.mark.parametrize("safe, hint", [
    (lambda func: 5, "define a function inside safe() and return it"),
    (lambda func: 1 / 0, "safe(func) only builds a new function"),
    (lambda: None, "safe(func) only builds a new function"),
    (3, "define it with def safe(func):"),
])
def test_ex7_1_not_a_safe_at_all(capsys, safe, hint):
    ok, out = run(nb07.ex7_1, capsys, safe)
    assert ok is False and not_yet(out, hint), out


def test_ex7_1_gives_up_on_a_function_that_takes_too_long(capsys, monkeypatch):
    monkeypatch.setattr(nb07, "TIMEOUT", 0.2)
    ok, out = run(nb07.ex7_1, capsys, safe_slow)
    assert ok is False and not_yet(out, "should call func(x) once and return"), out
    assert "within 0.2 s" in out


def test_ex7_1_names_the_items_called_twice(capsys):
    ok, out = run(nb07.ex7_1, capsys, safe_calls_twice)
    assert ok is False and "for items [0, 1, 3, 4]" in out, out


# --- 7.2: the answer is measured; feedback does not give it away --------------------------

def test_ex7_2_the_answer_is_what_the_pool_does(quiet_thread_deaths):
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
        assert [r.ready() for r in results] == nb07.EXPECTED_7_2
        assert quiet_thread_deaths == ["OverflowError"]
    finally:
        shut_down_broken(pool)


@pytest.mark.parametrize("ready", [a.arguments()[0] for a in CORPUS
                                   if a.exercise == "7.2" and not a.solved])
def test_ex7_2_wrong_does_not_give_the_answer_away(capsys, ready):
    ok, out = run(nb07.ex7_2, capsys, ready)
    assert ok is False and "[True, False, False]" not in out


@pytest.mark.parametrize("ready, hint", [
    ((True, False), "three True/False values"),
    ([1, 0, 0], "three True/False values"),
    ("True, False, False", "write a list"),
])
def test_ex7_2_not_three_booleans(capsys, ready, hint):
    ok, out = run(nb07.ex7_2, capsys, ready)
    assert ok is False and not_yet(out, hint), out


# --- 7.3: shapes of traces the corpus does not reach ------------------------------------

def test_ex7_3_no_callback(capsys):
    lookup = notebook_namespace("lookup")["lookup"]
    with poolscope.record() as trace:
        with ThreadPool(3) as pool:
            texts = pool.map(lookup, [1, 2, 3])
    parsed = [int(t) for t in texts if t != "n/a"]
    ok, out = run(nb07.ex7_3, capsys, parsed, ["n/a"], trace)
    assert ok is False and not_yet(out, "keep callback=parse"), out


def test_ex7_3_no_pool(capsys):
    with poolscope.record() as trace:
        pass
    ok, out = run(nb07.ex7_3, capsys, [100, 300], ["n/a"], trace)
    assert ok is False and not_yet(out, "keep the with block"), out


def test_ex7_3_callbacks_that_did_not_all_run(capsys):
    # Only two of the three results collected: the trace has two callbacks.
    tasks = [Task(0, "apply_async", k, 0, f"w{k}", k, 0.0, 0.0, 0.1, "finished")
             for k in range(3)]
    events = [Event("callback", 0, "Thread-9 (_handle_results)", 0.1, 0.1, "ok", k)
              for k in range(2)]
    trace = Trace.from_records(tasks, events, [Worker(0, k, f"w{k}", 0.0) for k in range(3)],
                               [PoolInfo(0, "ThreadPool", 3, 0.0)])
    ok, out = run(nb07.ex7_3, capsys, [100, 300], ["n/a"], trace)
    assert ok is False and not_yet(out, "collect the three results"), out


# --- 7.4 ------------------------------------------------------------------------------------

def test_ex7_4_the_stub_as_written_is_named(capsys):
    # Uncommented, the stub raises before it sets totals (still ...): the note says why.
    totals, trace = cell_7_4(buggy_code("ex7_4"))
    assert totals is ...
    ok, out = run(nb07.ex7_4, capsys, totals, trace)
    assert ok is False and "replace the ... with your answer" in out, out
    assert "stopped before it set totals" in out and "TimeoutError" in out, out
    assert "busy waiting too" in out, out


def test_ex7_4_the_plain_stub_has_no_note(capsys):
    ok, out = run(nb07.ex7_4, capsys, ..., empty_trace())
    assert ok is False and "stopped" not in out, out


def test_ex7_4_submitting_without_waiting_is_fine():
    # A task may hand work to its own pool; only waiting for it is the problem.
    totals, trace = cell_7_4("""
        def total(pages):
            pool.apply_async(size_of, (0,))
            return sum(size_of(page) for page in pages)

        with ThreadPool(2) as pool:
            totals = pool.map(total, [[1, 2], [3, 4]])
            pool.close()
            pool.join()
    """)
    assert totals == nb07.EXPECTED_7_4
    assert nb07.ex7_4(totals, trace, quiet=True) is True


def test_ex7_4_a_bigger_pool_works_by_luck():
    # The corpus's "bigger pool" is wrong although it gives the right totals.
    totals, _ = cell_7_4(TOTAL_BIGGER_POOL)
    assert totals == nb07.EXPECTED_7_4


def test_ex7_4_wrong_totals(capsys):
    totals, trace = cell_7_4(TOTAL_DIRECT)
    ok, out = run(nb07.ex7_4, capsys, [300, 300], trace)
    assert ok is False and not_yet(out, "total(pages) is the sum"), out


def test_ex7_4_no_pool(capsys):
    totals, trace = cell_7_4("totals = [sum(size_of(p) for p in pages) "
                             "for pages in [[1, 2], [3, 4]]]")
    assert totals == nb07.EXPECTED_7_4
    ok, out = run(nb07.ex7_4, capsys, totals, trace)
    assert ok is False and not_yet(out, "keep pool.map(total"), out


# --- every check: the stub, garbage, quiet -----------------------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE)


def test_the_stub_with_a_recorded_trace_says_replace_the_dots(capsys):
    # In the notebook the answer cell's stub records an empty trace and leaves `...`.
    says_replace_the_dots(capsys, nb07.ex7_3, ..., ..., empty_trace())
    says_replace_the_dots(capsys, nb07.ex7_4, ..., empty_trace())


def test_garbage_next_to_a_right_trace_never_raises(capsys):
    *_, trace_7_3 = cell_7_3(PARSE_RIGHT)
    _, trace_7_4 = cell_7_4(TOTAL_DIRECT)
    for garbage in GARBAGE:
        for args in ((garbage, garbage, trace_7_3), ([100, 300], garbage, trace_7_3),
                     (garbage, ["n/a"], trace_7_3)):
            ok, out = run(nb07.ex7_3, capsys, *args)
            assert ok is False and "not solved yet." in out and out.isascii()
        ok, out = run(nb07.ex7_4, capsys, garbage, trace_7_4)
        assert ok is False and "not solved yet." in out and out.isascii()


def test_quiet_prints_nothing(capsys):
    assert nb07.ex7_2([True, False, False], quiet=True) is True
    assert nb07.ex7_2([True, True, True], quiet=True) is False
    assert capsys.readouterr().out == ""


# --- the stubs' bugs are what the exercises say they are ---------------------------------

def test_the_stub_of_7_3_gives_up_and_breaks_the_with_block(quiet_thread_deaths):
    # "as written, get(timeout=1) gives up (and leaving the with block raises AssertionError)"
    # (up to 3.15: the notebook says so).
    ns = notebook_namespace("lookup")
    with pytest.raises(AssertionError) as raised:
        exec(buggy_code("ex7_3"), ns)
    assert isinstance(raised.value.__context__, multiprocessing.TimeoutError)
    assert quiet_thread_deaths == ["ValueError"]  # int("n/a") killed the result handler
    ns["pool"].join()


def test_the_stub_of_7_4_times_out():
    # "As written, it raises multiprocessing.TimeoutError after 0.5 s."
    ns = notebook_namespace("size_of")
    with pytest.raises(multiprocessing.TimeoutError):
        exec(buggy_code("ex7_4"), ns)
    ns["pool"].join()
