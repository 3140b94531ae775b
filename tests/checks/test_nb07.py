"""The checks of 07-Errors-in-Tasks.ipynb: right answers pass, wrong ones get a hint
naming the mistake, nothing raises.

The wrong-answer corpus runs the learners' answers for real: ``safe`` functions on the
check's own pool (7.1), and the cell of 7.3 as source text, recorded as
``%%timeline --out NAME`` records it. The answer of 7.2 is measured by running the code
the exercise shows, with the notebook's own ``task`` and ``stop``.
"""

from __future__ import annotations

import ast
import multiprocessing
import re
import sys
import textwrap
import threading
import time
from multiprocessing.pool import ThreadPool
from pathlib import Path

import nbformat
import pytest

import poolscope
from poolscope.tutorial.checks import nb07

from check_helpers import (empty_trace, every_check_tests, not_yet, noted_thread_deaths, run,
                           says_replace_the_dots, uncommented_stub)
from corpus import corpus_test, right, wrong

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "07-Errors-in-Tasks.ipynb"
GARBAGE = [None, "ready", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb07.ex7_1, 1), (nb07.ex7_2, 1), (nb07.ex7_3, 2)]


# --- the notebook's own code -------------------------------------------------------------

def cells() -> list:
    return nbformat.read(NOTEBOOK, as_version=4).cells


def notebook_function(name: str) -> str:
    """The source of the notebook's own ``def name(...)``, wherever its cell defines it
    (a cell may start with ``%%timeline``)."""
    for cell in cells():
        if cell.cell_type == "code" and f"def {name}(" in cell.source:
            source = "\n".join(line for line in cell.source.splitlines()
                               if not line.startswith("%"))
            for node in ast.parse(source).body:
                if isinstance(node, ast.FunctionDef) and node.name == name:
                    return ast.get_source_segment(source, node)
    raise AssertionError(f"the notebook defines no {name}()")


def namespace(*functions: str) -> dict:
    """A namespace with the notebook's imports and its own ``functions``."""
    ns = {"ThreadPool": ThreadPool, "time": time, "multiprocessing": multiprocessing,
          "sys": sys, "threading": threading}
    for name in functions:
        exec(notebook_function(name), ns)
    return ns


def shown_code(heading: str) -> str:
    """The python block of the markdown cell that starts with ``heading``."""
    cell = next(c for c in cells() if c.cell_type == "markdown"
                and c.source.startswith(heading))
    return re.search(r"```python\n(.*?)```", cell.source, re.S)[1]


def buggy_code(grade_id: str) -> str:
    """The commented-out code of an exercise's stub, uncommented (as a learner would)."""
    cell = next(c for c in cells()
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return uncommented_stub(cell.source, grade_id)


def cell_7_3(code: str) -> tuple:
    """The cell of exercise 7.3 (a learner's code, as source text) run for real, recorded
    as ``%%timeline --out ex7_3_trace`` records it: ``(report, trace)``.

    A cell that raises leaves ``report`` as it was (the learner sees a traceback, then
    runs the check cell); the cell's pool is shut down afterwards.
    """
    ns = namespace()
    with noted_thread_deaths(), poolscope.record() as trace:
        try:
            exec(textwrap.dedent(code), ns)
        except Exception:  # what the learner would see as a traceback
            pass
        finally:
            pool = ns.get("pool")
            if isinstance(pool, ThreadPool):
                pool.terminate()
                pool.join()
    return ns.get("report", ...), trace


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


# 7.3: the caller's part of the cell, as the stub has it.
COLLECT = """
    report = []
    with ThreadPool(2) as pool:
        results = [pool.apply_async(check_quantity, (n,)) for n in [3, -1, 4, -5, 9]]
        for result in results:
            try:
                report.append(result.get(timeout=1))
            except ValueError as error:
                report.append(str(error))
"""


def quantity(body: str, collect: str = COLLECT) -> str:
    """A learner's cell of 7.3: ``check_quantity`` ending with ``body`` for a negative n."""
    return textwrap.dedent(f"""
        def check_quantity(n):
            time.sleep(0.1)
            if n < 0:
                {body}
            return n
    """) + textwrap.dedent(collect)


RAISES = 'raise ValueError(f"quantity {n} is negative")'
RAISES_PERCENT = 'raise ValueError("quantity %d is negative" % n)'
EXITS = 'sys.exit(f"quantity {n} is negative")'
RAISES_SYSTEMEXIT = 'raise SystemExit(f"quantity {n} is negative")'
RETURNS_MESSAGE = 'return f"quantity {n} is negative"'
RETURNS_ERROR = 'return ValueError(f"quantity {n} is negative")'
RAISES_EXCEPTION = 'raise Exception(f"quantity {n} is negative")'
# sys.exit() kept, its SystemExit caught inside the task and its message returned.
EXIT_CAUGHT = """try:
                    sys.exit(f"quantity {n} is negative")
                except SystemExit as stop:
                    return str(stop)"""
# The bug kept, and SystemExit caught where get() is called.
CATCH_AT_GET = COLLECT.replace("except ValueError as error:",
                               "except (ValueError, SystemExit) as error:")
MORE_WORKERS = COLLECT.replace("ThreadPool(2)", "ThreadPool(5)")

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
    # 7.2 (predict): what get() gives when every worker stops
    right("7.2", "the measured answer", (["TimeoutError", 10, "TimeoutError", "TimeoutError"],),
          praise="task(3) never ran"),
    right("7.2", "the module named, as a tuple",
          (("multiprocessing.TimeoutError", 10.0, "TimeoutError", "timeouterror"),)),
    wrong("7.2", "get() raises the task's SystemExit",
          (["SystemExit", 10, "SystemExit", 30],), hint="a worker catches only Exception"),
    wrong("7.2", "the SystemExit raised, and nothing after",
          (["SystemExit", 10, "SystemExit", "TimeoutError"],),
          hint="a worker catches only Exception"),
    wrong("7.2", "the pool replaces the dead workers",
          (["TimeoutError", 10, "TimeoutError", 30],), hint="is any worker left to run task(3)"),
    wrong("7.2", "every get() gives up", (["TimeoutError"] * 4,),
          hint="task(1) went at once to the other worker"),
    wrong("7.2", "a stopped task returns None", ([None, 10, None, 30],),
          hint="stop() never returns a value"),
    # 7.3 (fix): report a failure with an ordinary exception
    right("7.3", "raise ValueError", lambda: cell_7_3(quantity(RAISES)),
          praise="every worker lives on"),
    right("7.3", "raise ValueError, %-formatted", lambda: cell_7_3(quantity(RAISES_PERCENT))),
    right("7.3", "raise ValueError, SystemExit caught too",
          lambda: cell_7_3(quantity(RAISES, CATCH_AT_GET))),
    wrong("7.3", "the stub, uncommented", lambda: cell_7_3(buggy_code("ex7_3")),
          hint="SystemExit (what sys.exit() raises) is not an Exception"),
    wrong("7.3", "raise SystemExit", lambda: cell_7_3(quantity(RAISES_SYSTEMEXIT)),
          hint="SystemExit (what sys.exit() raises) is not an Exception"),
    wrong("7.3", "SystemExit caught around get()",
          lambda: cell_7_3(quantity(EXITS, CATCH_AT_GET)),
          hint="SystemExit (what sys.exit() raises) is not an Exception"),
    wrong("7.3", "more workers", lambda: cell_7_3(quantity(EXITS, MORE_WORKERS)),
          hint="SystemExit (what sys.exit() raises) is not an Exception"),
    wrong("7.3", "the message returned", lambda: cell_7_3(quantity(RETURNS_MESSAGE)),
          hint="raise ValueError(f\"quantity {n} is negative\")"),
    wrong("7.3", "SystemExit caught in the task, message returned",
          lambda: cell_7_3(quantity(EXIT_CAUGHT)), hint="no task raised"),
    wrong("7.3", "the error returned, not raised", lambda: cell_7_3(quantity(RETURNS_ERROR)),
          hint="returned its error instead of raising it"),
    wrong("7.3", "raise Exception", lambda: cell_7_3(quantity(RAISES_EXCEPTION)),
          hint="not the ValueError the caller catches"),
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

def test_ex7_2_the_answer_is_what_the_pool_does():
    """The code the exercise shows, run with the notebook's task and stop: the expected
    answer is measured, not assumed."""
    ns = namespace("task", "stop")
    with noted_thread_deaths() as died:
        exec(shown_code("### Exercise 7.2"), ns)
    ns["pool"].join()
    assert ns["outcomes"] == nb07.EXPECTED_7_2
    assert died == ["SystemExit", "SystemExit"]  # both workers


@pytest.mark.parametrize("outcomes", [a.arguments()[0] for a in CORPUS
                                      if a.exercise == "7.2" and not a.solved])
def test_ex7_2_wrong_does_not_give_the_answer_away(capsys, outcomes):
    ok, out = run(nb07.ex7_2, capsys, outcomes)
    assert ok is False and "'TimeoutError', 10" not in out, out


@pytest.mark.parametrize("outcomes, hint", [
    (["TimeoutError", 10, "TimeoutError"], "four entries"),
    ([multiprocessing.TimeoutError, 10, "TimeoutError", "TimeoutError"], "names in quotes"),
    ([True, 10, "TimeoutError", "TimeoutError"], "names in quotes"),
    (["Timeout", 10, "TimeoutError", "TimeoutError"], "stop() never returns a value"),
    ("TimeoutError, 10, TimeoutError, TimeoutError", "write a list"),
])
def test_ex7_2_not_four_values_or_names(capsys, outcomes, hint):
    ok, out = run(nb07.ex7_2, capsys, outcomes)
    assert ok is False and not_yet(out, hint), out


# --- 7.3 ------------------------------------------------------------------------------------

def test_the_stub_of_7_3_times_out():
    # "As written, the cell raises multiprocessing.TimeoutError after 1 s."
    ns = namespace()
    with noted_thread_deaths() as died:
        with pytest.raises(multiprocessing.TimeoutError):
            exec(buggy_code("ex7_3"), ns)
    ns["pool"].join()
    assert ns["report"] == [3]  # the value of the first quantity, then the timeout
    assert died == ["SystemExit", "SystemExit"]  # both workers, by sys.exit()


def test_ex7_3_names_the_task_that_killed_its_worker(capsys):
    report, trace = cell_7_3(buggy_code("ex7_3"))
    ok, out = run(nb07.ex7_3, capsys, report, trace)
    assert ok is False and "2 task(s) ended their worker thread (SystemExit" in out, out


def test_ex7_3_no_pool(capsys):
    with poolscope.record() as trace:
        report = [n if n >= 0 else f"quantity {n} is negative" for n in [3, -1, 4, -5, 9]]
    ok, out = run(nb07.ex7_3, capsys, report, trace)
    assert ok is False and not_yet(out, "keep the with block"), out


def test_ex7_3_a_wrong_report_next_to_a_right_trace(capsys):
    _, trace = cell_7_3(quantity(RAISES))
    ok, out = run(nb07.ex7_3, capsys, [3, "quantity -1 is negative", 4], trace)
    assert ok is False and not_yet(out, "report is not right yet"), out


# --- every check: the stub, garbage, quiet -----------------------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE)


def test_the_stub_with_a_recorded_trace_says_replace_the_dots(capsys):
    # In the notebook the answer cell's stub records an empty trace and leaves `...`.
    says_replace_the_dots(capsys, nb07.ex7_3, ..., empty_trace())


def test_garbage_next_to_a_right_trace_never_raises(capsys):
    _, trace = cell_7_3(quantity(RAISES))
    for garbage in GARBAGE:
        ok, out = run(nb07.ex7_3, capsys, garbage, trace)
        assert ok is False and "not solved yet." in out and out.isascii()


def test_quiet_prints_nothing(capsys):
    assert nb07.ex7_2(nb07.EXPECTED_7_2, quiet=True) is True
    assert nb07.ex7_2(["SystemExit", 10, "SystemExit", 30], quiet=True) is False
    assert capsys.readouterr().out == ""
