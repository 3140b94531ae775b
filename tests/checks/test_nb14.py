"""The checks of 14-ThreadPool-and-ThreadPoolExecutor.ipynb: right answers pass, wrong ones
get a hint naming the mistake, nothing raises; and the claims of
poolscope.tutorial.compare_workloads that the notebook relies on (its pages).

The wrong-answer corpus runs each code answer for real, recorded the way the answer cell's
``%%timeline --out NAME`` records it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope.tutorial.checks import nb14
from poolscope.tutorial.compare_workloads import PAGES, fetch
from poolscope.trace import FINISHED, Event, PoolInfo, Task, Trace
from poolscope.tutorial.workloads import sleep_task

from check_helpers import (NASTY, NASTY_IDS, empty_trace, every_check_tests,
                           nasty_answers_never_raise, not_yet, run)
from corpus import corpus_test, right, wrong

GARBAGE = [None, "d", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object(), {}]
CHECKS = [(nb14.ex14_1, 2), (nb14.ex14_2, 2), (nb14.ex14_3, 2)]


# --- 14.1 from imap_unordered to as_completed: the learner's cells, run for real -----------
# Each runs the notebook's own pages (0.2 s apart, the shortest 0.2 s), so the order in
# which they finish does not depend on how busy the machine is.

def submitted_then(collect):
    """The answer cell: one submit per page, then ``collect(futures)``, the rest of it."""
    def answer():
        with poolscope.record() as trace:
            with ThreadPoolExecutor(3) as executor:
                futures = [executor.submit(fetch, page) for page in PAGES]
                order = collect(futures)
        return order, trace
    return answer


def docs_idiom():
    # The concurrent.futures documentation's example: a dict from future to input.
    with poolscope.record() as trace:
        with ThreadPoolExecutor(3) as executor:
            future_to_page = {executor.submit(fetch, page): page for page in PAGES}
            order = []
            for future in as_completed(future_to_page):
                order.append(future.result())
    return order, trace


def docs_idiom_without_result():
    with poolscope.record() as trace:
        with ThreadPoolExecutor(3) as executor:
            future_to_name = {executor.submit(fetch, page): page[0] for page in PAGES}
            order = [future_to_name[f] for f in as_completed(future_to_name)]
    return order, trace


def hard_coded(futures):
    [f.result() for f in futures]
    return ["b.html", "c.html", "a.html"]  # the order the check's feedback would show


def waited_first(futures):
    wait(futures)
    return [f.result() for f in as_completed(futures)]


def on_a_threadpool():
    with poolscope.record() as trace:
        with ThreadPool(3) as pool:
            order = list(pool.imap_unordered(fetch, PAGES))
    return order, trace


def with_executor_map():
    with poolscope.record() as trace:
        with ThreadPoolExecutor(3) as executor:
            order = list(executor.map(fetch, PAGES))
    return order, trace


def with_sleep_task():
    with poolscope.record() as trace:
        with ThreadPoolExecutor(3) as executor:
            futures = [executor.submit(sleep_task, seconds) for _, seconds in PAGES]
            order = [f.result() for f in as_completed(futures)]
    return order, trace


# --- 14.3 stop the queued downloads: the learner's cells, run for real ------------------
# Eight tasks of 0.2 s on two workers: a task still queued when the cell begins to cancel
# could start only when a running one ends, 0.2 s later, far more than load delays a thread.

def eight_then(stop, with_block=True):
    """The answer cell: eight submits, the first result, then ``stop(executor, futures)``."""
    def answer():
        with poolscope.record() as trace:
            if with_block:
                with ThreadPoolExecutor(2) as executor:
                    futures = [executor.submit(sleep_task, 0.2) for _ in range(8)]
                    first = next(as_completed(futures)).result()
                    stop(executor, futures)
            else:
                executor = ThreadPoolExecutor(2)
                futures = [executor.submit(sleep_task, 0.2) for _ in range(8)]
                first = next(as_completed(futures)).result()
                stop(executor, futures)
        executor.shutdown(wait=True)  # the test's own cleanup, after the recording
        return first, trace
    return answer


def cancel_each(executor, futures):
    for future in futures:
        future.cancel()


def cancel_the_last(executor, futures):
    futures[-1].cancel()


def threadpool_terminated():
    with poolscope.record() as trace:
        with ThreadPool(2) as pool:
            results = [pool.apply_async(sleep_task, (0.2,)) for _ in range(8)]
            first = results[0].get()
    return first, trace


RIGHT_14_2 = (4, 0)

CORPUS = [
    # 14.1
    right("14.1", "as_completed", submitted_then(
        lambda fs: [f.result() for f in as_completed(fs)]), praise="shortest download first"),
    right("14.1", "the docs' dict of futures", docs_idiom),
    wrong("14.1", "as_completed, then sorted", submitted_then(
        lambda fs: sorted([f.result() for f in as_completed(fs)])), hint="alphabetical order"),
    wrong("14.1", "sorted, without as_completed", submitted_then(
        lambda fs: sorted(f.result() for f in fs)), hint="alphabetical order"),
    wrong("14.1", "a loop over the futures", submitted_then(
        lambda fs: [f.result() for f in fs]), hint="loop over it instead of over futures"),
    wrong("14.1", "the futures themselves", submitted_then(lambda fs: list(as_completed(fs))),
          hint="order holds futures, not their results"),
    wrong("14.1", "names from the dict, no result()", docs_idiom_without_result,
          hint="asked 0 of the 3 futures"),
    wrong("14.1", "the expected list typed in", submitted_then(hard_coded),
          hint="asked the futures for their results in another order"),
    wrong("14.1", "wait() for all first", submitted_then(waited_first),
          hint="had finished before your cell first asked"),
    wrong("14.1", "imap_unordered on a ThreadPool", on_a_threadpool,
          hint="it ran a ThreadPool"),
    wrong("14.1", "executor.map", with_executor_map, hint="with map, not submit"),
    wrong("14.1", "sleep_task instead of fetch", with_sleep_task,
          hint="should hold the three pages' names"),
    # 14.2
    right("14.2", "4, 0", RIGHT_14_2, praise="the executor waited for its 4 tasks"),
    right("14.2", "as floats", (4.0, 0.0)),
    wrong("14.2", "the executor's two running tasks", (2, 0), hint="shutdown(wait=True)"),
    wrong("14.2", "nothing waits", (0, 0), hint="the queued ones too"),
    wrong("14.2", "every block waits", (4, 4), hint="their results are discarded"),
    wrong("14.2", "a ThreadPool finishes its running tasks", (4, 2),
          hint="their results are discarded"),
    # 14.3
    right("14.3", "shutdown(cancel_futures=True) in the with block",
          eight_then(lambda ex, fs: ex.shutdown(cancel_futures=True)),
          praise="the queued tasks never started"),
    right("14.3", "shutdown(wait=False, cancel_futures=True), no with block",
          eight_then(lambda ex, fs: ex.shutdown(wait=False, cancel_futures=True),
                     with_block=False)),
    right("14.3", "cancel() on every future", eight_then(cancel_each)),
    wrong("14.3", "the code as it was: shutdown(wait=False)",
          eight_then(lambda ex, fs: ex.shutdown(wait=False)),
          hint="without cancel_futures=True cancels nothing"),
    wrong("14.3", "shutdown(wait=False) removed", eight_then(lambda ex, fs: None),
          hint="leaving the with block waits for every task"),
    wrong("14.3", "shutdown(wait=False) without a with block",
          eight_then(lambda ex, fs: ex.shutdown(wait=False), with_block=False),
          hint="were still queued when your cell ended"),
    wrong("14.3", "cancel() on the last future only", eight_then(cancel_the_last),
          hint="still queued when it began cancelling ran anyway"),
    wrong("14.3", "a ThreadPool, terminated by its with block", threadpool_terminated,
          hint="keep the executor"),
]
test_corpus = corpus_test(nb14, CORPUS)


# --- 14.1: what the check judges -------------------------------------------------------------

def synthetic_14_1(finishes: dict[str, float], asked: list[str], starts=None) -> Trace:
    """A recorded 14.1 run: each page submitted at 0 (in PAGES' order), started at
    ``starts`` (0 by default), finished at ``finishes[name]``; the cell then called
    result() on the futures in the order ``asked``, each when its task had finished."""
    starts = starts or {}
    call = {name: k for k, (name, _) in enumerate(PAGES)}
    tasks = [Task(0, "submit", call[n], 0, f"w{call[n]}", call[n], 0.0, starts.get(n, 0.0),
                  finishes[n], FINISHED, caller="MainThread") for n, _ in PAGES]
    events = [Event("result", 0, "MainThread", finishes[n], finishes[n], "ok", call[n])
              for n in asked]
    return Trace.from_records(tasks, events, pools=[PoolInfo(0, "ThreadPoolExecutor", 3, 0.0)])


def test_ex14_1_judges_the_recorded_order_not_a_fixed_list(capsys):
    # A loaded machine started b.html 0.3 s late: it finished second. The learner's
    # as_completed loop followed the real order, and passes; the usual order does not.
    late_b = synthetic_14_1({"c.html": 0.4, "b.html": 0.5, "a.html": 0.6},
                           asked=["c.html", "b.html", "a.html"], starts={"b.html": 0.3})
    ok, out = run(nb14.ex14_1, capsys, ["c.html", "b.html", "a.html"], late_b)
    assert ok is True and "solved!" in out, out
    ok, out = run(nb14.ex14_1, capsys, ["b.html", "c.html", "a.html"], late_b)
    assert ok is False and not_yet(out, "not the order in which your tasks finished"), out


def test_ex14_1_never_praises_an_order_taken_after_every_task_finished(capsys):
    # as_completed hands over futures that were done before it was called in set order:
    # even when that happens to be the order they finished in, it proves nothing.
    trace = synthetic_14_1({"b.html": 0.2, "c.html": 0.4, "a.html": 0.6},
                          asked=["b.html", "c.html", "a.html"])
    stalled = Trace.from_records(
        trace.tasks, [Event(e.kind, e.pool, e.thread, 0.7 + e.start / 10, 0.7 + e.start / 10,
                            e.status, e.call_id) for e in trace.events], pools=trace.pools)
    ok, out = run(nb14.ex14_1, capsys, ["b.html", "c.html", "a.html"], stalled)
    assert ok is False and not_yet(out, "run it again"), out


def test_ex14_1_the_pages_finish_in_an_order_of_their_own():
    # The premise of the exercise: the finishing order is neither the submission order
    # nor the alphabetical order (nor its reverse), so neither passes by accident.
    names = [name for name, _ in PAGES]
    finishing = [name for name, _ in sorted(PAGES, key=lambda page: page[1])]
    assert len({tuple(names), tuple(finishing), tuple(sorted(names)),
                tuple(sorted(names, reverse=True))}) == 4
    # Wide gaps, and a first page long enough for the caller to be waiting in
    # as_completed before it ends, however busy the machine.
    seconds = sorted(s for _, s in PAGES)
    assert seconds[0] >= 0.2 and all(b - a >= 0.2 - 1e-9 for a, b in zip(seconds, seconds[1:]))


def test_ex14_1_too_few_tasks(capsys):
    with poolscope.record() as trace:
        with ThreadPoolExecutor(3) as executor:
            order = [executor.submit(fetch, ("b.html", 0.2)).result()]
    ok, out = run(nb14.ex14_1, capsys, order, trace)
    assert ok is False and not_yet(out, "one submit per page of PAGES"), out


def test_ex14_1_no_trace(capsys):
    ok, out = run(nb14.ex14_1, capsys, ["b.html", "c.html", "a.html"], "ex14_1_trace")
    assert ok is False and not_yet(out, "keep the first line of the answer cell"), out


# --- 14.2 and 14.3: answers that are not of the right kind ------------------------------

@pytest.mark.parametrize("answers, hint", [
    ((4, "0"), "threadpool_ready should be a number"),
    ((4, 0.5), "threadpool_ready should be a whole number"),
])
def test_ex14_2_not_a_count(capsys, answers, hint):
    ok, out = run(nb14.ex14_2, capsys, *answers)
    assert ok is False and not_yet(out, hint), out


def test_ex14_3_a_wrong_first(capsys):
    _, trace = eight_then(lambda ex, fs: ex.shutdown(cancel_futures=True))()
    ok, out = run(nb14.ex14_3, capsys, 0.4, trace)
    assert ok is False and not_yet(out, "next(as_completed(futures)).result()"), out


def test_ex14_3_a_future_for_first(capsys):
    with poolscope.record() as trace:
        with ThreadPoolExecutor(2) as executor:
            futures = [executor.submit(sleep_task, 0.2) for _ in range(8)]
            first = next(as_completed(futures))
            executor.shutdown(cancel_futures=True)
    ok, out = run(nb14.ex14_3, capsys, first, trace)
    assert ok is False and not_yet(out, "first holds a future, not its result"), out


def test_ex14_3_too_few_tasks(capsys):
    with poolscope.record() as trace:
        with ThreadPoolExecutor(2) as executor:
            futures = [executor.submit(sleep_task, 0.2) for _ in range(4)]
            first = next(as_completed(futures)).result()
            executor.shutdown(cancel_futures=True)
    ok, out = run(nb14.ex14_3, capsys, first, trace)
    assert ok is False and not_yet(out, "submitted 4 tasks; the job has 8"), out


def synthetic_14_3(starts: list[float | None], cancel_at: float | None) -> Trace:
    """Eight submits at 0: a task with a start ran 0.2 s, one without was cancelled (by a
    cancel() the cell called at ``cancel_at``)."""
    tasks, events = [], []
    for k, start in enumerate(starts):
        if start is None:
            tasks.append(Task(0, "submit", k, 0, None, None, 0.0, None, None, "never started",
                              note="cancelled by future.cancel()", caller="MainThread"))
            events.append(Event("cancel", 0, "MainThread", cancel_at, cancel_at, "ok", k))
        else:
            tasks.append(Task(0, "submit", k, 0, f"w{k % 2}", k % 2, 0.0, start, start + 0.2,
                              FINISHED, caller="MainThread"))
    return Trace.from_records(tasks, events, pools=[PoolInfo(0, "ThreadPoolExecutor", 2, 0.0)])


# A right answer without running anything: four tasks ran, the four queued ones cancelled.
RIGHT_14_3 = (0.2, synthetic_14_3([0.0, 0.0, 0.2, 0.2, None, None, None, None], 0.2))


def test_ex14_3_judges_what_started_after_the_cell_began_to_cancel(capsys):
    # Load made the cell late: four tasks had started, and it cancelled all the others.
    late_but_right = synthetic_14_3([0.0, 0.0, 0.2, 0.2, None, None, None, None], 0.35)
    ok, out = run(nb14.ex14_3, capsys, 0.2, late_but_right)
    assert ok is True and "solved!" in out, out
    # A task that started 0.2 s after the cancelling began was still queued then.
    partial = synthetic_14_3([0.0, 0.0, 0.2, 0.2, 0.4, None, None, None], 0.2)
    ok, out = run(nb14.ex14_3, capsys, 0.2, partial)
    assert ok is False and not_yet(out, "ran anyway"), out


# --- every check: the stub, garbage, nasty answers, quiet ---------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE)


@pytest.mark.parametrize("junk", NASTY, ids=NASTY_IDS)
def test_nasty_answers_never_raise_beside_right_ones(capsys, junk):
    # In each place beside right answers, to reach the code behind the first test.
    nasty_answers_never_raise(capsys, nb14.ex14_2, junk, RIGHT_14_2)
    first, trace = RIGHT_14_3
    nasty_answers_never_raise(capsys, nb14.ex14_3, junk, [first, trace])


def test_the_stubs_as_the_notebook_leaves_them(capsys):
    # 14.1's and 14.3's stubs record an empty trace.
    assert run(nb14.ex14_1, capsys, ..., empty_trace())[0] is False
    assert run(nb14.ex14_3, capsys, ..., empty_trace())[0] is False


def test_quiet_prints_nothing(capsys):
    assert nb14.ex14_2(4, 0, quiet=True) is True
    assert nb14.ex14_2(0, 0, quiet=True) is False
    assert capsys.readouterr().out == ""


# --- the pages the notebook relies on ------------------------------------------------------

@pytest.mark.parametrize("bad", ["a.html", ("a.html",), (1, 0.1), ("a.html", -1),
                                 ("a.html", True), None])
def test_fetch_rejects_what_is_not_a_page(bad):
    with pytest.raises(ValueError, match="page must be a"):
        fetch(bad)
