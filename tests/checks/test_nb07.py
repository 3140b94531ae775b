"""The checks of 07-Errors-and-Callbacks.ipynb: right answers pass, wrong ones get a hint,
nothing raises."""

from __future__ import annotations

import multiprocessing
import threading
import time
from multiprocessing.pool import ThreadPool
from pathlib import Path

import nbformat
import pytest

import poolscope
from poolscope.checks import nb07
from poolscope.trace import Event, PoolInfo, Task, Trace, Worker

from check_helpers import empty_trace, every_check_tests, not_yet, run, says_replace_the_dots

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "07-Errors-and-Callbacks.ipynb"
GARBAGE = [None, "ready", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb07.ex7_1, 1), (nb07.ex7_2, 1), (nb07.ex7_3, 3), (nb07.ex7_4, 2)]


@pytest.fixture
def quiet_thread_deaths(monkeypatch):
    """Note the exceptions that kill threads, instead of printing them (as the notebook)."""
    died: list[str] = []
    monkeypatch.setattr(threading, "excepthook",
                        lambda args: died.append(args.exc_type.__name__))
    return died


def shut_down_broken(pool: ThreadPool) -> None:
    """terminate() + join() for a pool whose result handler may have died."""
    try:
        pool.terminate()
    except AssertionError:  # "Cannot have cache with result_handler not alive"
        pass
    pool.join()


# --- 7.1 keep every result ---------------------------------------------------------------

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


def safe_slow(func):
    def call(x):
        time.sleep(0.5)
        return func(x)
    return call


def test_ex7_1_right(capsys):
    ok, out = run(nb07.ex7_1, capsys, safe_right)
    assert ok is True and "solved!" in out


def test_ex7_1_catching_base_exception_is_fine(capsys):
    assert nb07.ex7_1(safe_base, quiet=True) is True


@pytest.mark.parametrize("safe, hint", [
    (safe_message, "return the exception object itself"),
    (safe_none, "except Exception as error: return error"),
    (safe_value_error_only, "catch any Exception, not only ValueError"),
    (safe_for_task_only, "call the func that safe() was given"),
    (safe_wrong_values, "when func(x) does not raise, return what it returns"),
    (lambda func: func, "return the exception from the except block"),
    (lambda func: 5, "define a function inside safe() and return it"),
    (lambda func: 1 / 0, "safe(func) only builds a new function"),
    (lambda: None, "safe(func) only builds a new function"),
    (3, "define it with def safe(func):"),
])
def test_ex7_1_wrong(capsys, safe, hint):
    ok, out = run(nb07.ex7_1, capsys, safe)
    assert ok is False and not_yet(out, hint), out


def test_ex7_1_gives_up_on_a_function_that_takes_too_long(capsys, monkeypatch):
    monkeypatch.setattr(nb07, "TIMEOUT", 0.2)
    ok, out = run(nb07.ex7_1, capsys, safe_slow)
    assert ok is False and not_yet(out, "should call func(x) once and return"), out
    assert "within 0.2 s" in out


# --- 7.2 after a callback raises ----------------------------------------------------------

def test_ex7_2_right(capsys):
    ok, out = run(nb07.ex7_2, capsys, [True, False, False])
    assert ok is True and "solved!" in out


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


@pytest.mark.parametrize("ready, hint", [
    ([False, False, False], "came before the callback broke"),
    ([True, True, True], "before its result is marked ready"),
    ([True, True, False], "before its result is marked ready"),
    ([True, False, True], "which thread hands its result over"),
    ((True, False), "three True/False values"),
    ([1, 0, 0], "three True/False values"),
    ("True, False, False", "write a list"),
])
def test_ex7_2_wrong_does_not_give_the_answer_away(capsys, ready, hint):
    ok, out = run(nb07.ex7_2, capsys, ready)
    assert ok is False and not_yet(out, hint), out
    assert "[True, False, False]" not in out


def test_ex7_2_a_tuple_is_fine():
    assert nb07.ex7_2((True, False, False), quiet=True) is True


# --- 7.3 a callback that cannot break the pool --------------------------------------------

def lookup(page):
    time.sleep(page / 20)
    return "n/a" if page == 2 else str(page * 100)


def run_7_3(parse_factory, pages=(1, 2, 3)):
    """Run the exercise's cell with ``parse_factory(parsed, problems)`` as the callback."""
    parsed, problems = [], []
    parse = parse_factory(parsed, problems)
    with poolscope.record() as trace:
        pool = ThreadPool(3)
        try:
            results = [pool.apply_async(lookup, (page,), callback=parse) for page in pages]
            for result in results:
                try:
                    result.get(timeout=0.5)
                except multiprocessing.TimeoutError:
                    pass
        finally:
            shut_down_broken(pool)
    return parsed, problems, trace


def parse_right(parsed, problems):
    def parse(text):
        try:
            parsed.append(int(text))
        except ValueError:
            problems.append(text)
    return parse


def parse_keeps_the_error(parsed, problems):
    def parse(text):
        try:
            parsed.append(int(text))
        except ValueError as error:
            problems.append(error)
    return parse


def parse_buggy(parsed, problems):  # the notebook's stub
    def parse(text):
        parsed.append(int(text))
    return parse


def parse_forgets_problems(parsed, problems):
    def parse(text):
        try:
            parsed.append(int(text))
        except ValueError:
            pass
    return parse


def test_ex7_3_right(capsys):
    ok, out = run(nb07.ex7_3, capsys, *run_7_3(parse_right))
    assert ok is True and "solved!" in out


def test_ex7_3_the_exception_itself_is_fine_in_problems():
    assert nb07.ex7_3(*run_7_3(parse_keeps_the_error), quiet=True) is True


def test_ex7_3_the_bug(capsys, quiet_thread_deaths):
    ok, out = run(nb07.ex7_3, capsys, *run_7_3(parse_buggy))
    assert ok is False and not_yet(out, "catch the ValueError that int() raises"), out
    assert quiet_thread_deaths == ["ValueError"]


def test_ex7_3_forgotten_problems(capsys):
    ok, out = run(nb07.ex7_3, capsys, *run_7_3(parse_forgets_problems))
    assert ok is False and not_yet(out, "append the text to problems"), out


def test_ex7_3_no_callback(capsys):
    with poolscope.record() as trace:
        with ThreadPool(3) as pool:
            texts = pool.map(lookup, [1, 2, 3])
    parsed = [int(t) for t in texts if t != "n/a"]
    ok, out = run(nb07.ex7_3, capsys, parsed, ["n/a"], trace)
    assert ok is False and not_yet(out, "keep callback=parse"), out


def test_ex7_3_wrong_numbers(capsys):
    parsed, problems, trace = run_7_3(parse_right)
    ok, out = run(nb07.ex7_3, capsys, parsed + [200], problems, trace)
    assert ok is False and not_yet(out, "appends int(text)"), out


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


# --- 7.4 a task that waits for its own pool -----------------------------------------------

def size_of(page):
    time.sleep(0.05)
    return page * 100


def total_direct(pages):
    return sum(size_of(page) for page in pages)


def test_ex7_4_right_direct_call(capsys):
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            totals = pool.map(total_direct, [[1, 2], [3, 4]])
    ok, out = run(nb07.ex7_4, capsys, totals, trace)
    assert ok is True and "solved!" in out


def test_ex7_4_right_second_pool(capsys):
    with poolscope.record() as trace:
        with ThreadPool(2) as pool, ThreadPool(2) as inner:
            def total(pages):
                return sum(inner.map_async(size_of, pages).get(timeout=2))

            totals = pool.map(total, [[1, 2], [3, 4]])
    ok, out = run(nb07.ex7_4, capsys, totals, trace)
    assert ok is True and "solved!" in out


def waiting_for_its_own_pool(workers: int, timeout: float):
    """Recorded: ``pool.map(total, ...)`` on ``workers`` threads, where ``total`` waits up to
    ``timeout`` s for the map_async it hands its own pool: (the totals or None, the trace)."""
    with poolscope.record() as trace:
        with ThreadPool(workers) as pool:
            def total(pages):
                return sum(pool.map_async(size_of, pages).get(timeout=timeout))

            try:
                totals = pool.map(total, [[1, 2], [3, 4]])
            except multiprocessing.TimeoutError:
                totals = None
            pool.close()
            pool.join()
    return totals, trace


def test_ex7_4_the_deadlock(capsys):
    totals, trace = waiting_for_its_own_pool(2, timeout=0.2)
    assert totals is None
    ok, out = run(nb07.ex7_4, capsys, totals, trace)
    assert ok is False and not_yet(out, "a worker that is busy waiting too"), out
    assert "TimeoutError" in out


def test_ex7_4_a_bigger_pool_is_not_a_fix(capsys):
    totals, trace = waiting_for_its_own_pool(4, timeout=2)
    assert totals == nb07.EXPECTED_7_4  # it works, by luck: two workers were spare
    ok, out = run(nb07.ex7_4, capsys, totals, trace)
    assert ok is False and not_yet(out, "only while the pool has spare workers"), out
    assert "get() in a worker" in out


def test_ex7_4_submitting_without_waiting_is_fine(capsys):
    # A task may hand work to its own pool; only waiting for it is the problem.
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            def total(pages):
                pool.apply_async(size_of, (0,))
                return total_direct(pages)

            totals = pool.map(total, [[1, 2], [3, 4]])
            pool.close()
            pool.join()
    assert nb07.ex7_4(totals, trace, quiet=True) is True


def test_ex7_4_wrong_totals(capsys):
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            totals = pool.map(total_direct, [[1, 2], [3]])
    ok, out = run(nb07.ex7_4, capsys, totals, trace)
    assert ok is False and not_yet(out, "total(pages) is the sum"), out


def test_ex7_4_no_pool(capsys):
    with poolscope.record() as trace:
        totals = [total_direct(p) for p in [[1, 2], [3, 4]]]
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
    _, _, trace_7_3 = run_7_3(parse_right)
    with poolscope.record() as trace_7_4:
        with ThreadPool(2) as pool:
            pool.map(total_direct, [[1, 2], [3, 4]])
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


def test_the_stub_of_7_3_gives_up_and_breaks_the_with_block(quiet_thread_deaths):
    # "as written, get(timeout=1) gives up (and leaving the with block raises AssertionError)"
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
