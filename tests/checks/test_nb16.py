"""The checks of 16-Beyond-Threads.ipynb, and the module they and the notebook use
(poolscope.tutorial.beyond): right answers pass, wrong ones get a hint that names the
mistake, nothing raises.

The answers to exercises 16.1 and 16.3 are coroutine functions, as a learner's answer
cell defines them; the check runs each for real (in an event loop of its own, in a thread
of its own) and judges the calls it made. No test asserts a wall-clock time.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import urllib.error
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.pool import ThreadPool

import pytest

import poolscope
from poolscope.tutorial import beyond
from poolscope.tutorial.beyond import Call, Calls
from poolscope.tutorial.checks import nb16
from poolscope.tutorial.server import serve

from check_helpers import (NASTY, NASTY_IDS, every_check_tests, nasty_answers_never_raise,
                           not_yet, run)
from corpus import corpus_test, right, wrong

GARBAGE = [None, "asyncio", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb16.ex16_1, 1), (nb16.ex16_2, 1), (nb16.ex16_3, 1), (nb16.ex16_4, 1)]


# --- 16.1 all the requests on one thread: learners' fetch_all ------------------------------

async def gather_all(urls):
    return await asyncio.gather(*(beyond.fetch_async(url) for url in urls))


async def task_group(urls):  # 3.11+
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(beyond.fetch_async(url)) for url in urls]
    return [task.result() for task in tasks]


async def tasks_then_await(urls):
    tasks = [asyncio.create_task(beyond.fetch_async(url)) for url in urls]
    return [await task for task in tasks]


async def await_in_a_loop(urls):
    return [await beyond.fetch_async(url) for url in urls]


async def to_thread_fetch(urls):
    return await asyncio.gather(*(asyncio.to_thread(beyond.fetch, url) for url in urls))


async def pool_inside(urls):
    with ThreadPool(4) as pool:
        return pool.map(beyond.fetch, urls)


async def gather_blocking_fetches(urls):
    return await asyncio.gather(*[beyond.fetch(url) for url in urls])


async def coroutines_not_awaited(urls):
    return [beyond.fetch_async(url) for url in urls]


async def asyncio_run_inside(urls):
    return asyncio.run(asyncio.gather(*(beyond.fetch_async(url) for url in urls)))


async def as_completed(urls):
    return [await page for page in asyncio.as_completed([beyond.fetch_async(u) for u in urls])]


async def three_at_a_time(urls):
    limit = asyncio.Semaphore(3)

    async def one(url):
        async with limit:
            return await beyond.fetch_async(url)

    return await asyncio.gather(*(one(url) for url in urls))


def plain_pool(urls):  # the ThreadPool job, not converted
    with ThreadPool(len(urls)) as pool:
        return pool.map(beyond.fetch, urls)


# --- 16.3 a coroutine that blocks the loop: learners' lookup_one ---------------------------

async def to_thread(name):
    return await asyncio.to_thread(beyond.lookup, name)


async def default_executor(name):
    return await asyncio.get_running_loop().run_in_executor(None, beyond.lookup, name)


async def executor_per_call(name):
    with ThreadPoolExecutor(1) as executor:
        return await asyncio.get_running_loop().run_in_executor(executor, beyond.lookup, name)


async def unchanged(name):
    return beyond.lookup(name)


async def sleep_zero_first(name):
    await asyncio.sleep(0)
    return beyond.lookup(name)


async def called_not_passed(name):
    return await asyncio.to_thread(beyond.lookup(name))


async def not_awaited(name):
    return asyncio.to_thread(beyond.lookup, name)


async def threadpool_as_executor(name):
    with ThreadPool(1) as pool:
        return await asyncio.get_running_loop().run_in_executor(pool, beyond.lookup, name)


async def pool_apply(name):
    with ThreadPool(1) as pool:
        return pool.apply(beyond.lookup, (name,))


_ONE_THREAD = {}


async def one_shared_thread(name):  # awaited properly, but an executor of one thread
    executor = _ONE_THREAD.setdefault("executor", ThreadPoolExecutor(1))
    return await asyncio.get_running_loop().run_in_executor(executor, beyond.lookup, name)


# --- 16.4 pick the tool --------------------------------------------------------------------

RIGHT_16_4 = {"a": "asyncio", "b": "processes", "c": "interpreters", "d": "threads",
              "e": "threads"}


CORPUS = [
    right("16.1", "asyncio.gather", (gather_all,), praise="all on the event loop's one thread"),
    right("16.1", "a TaskGroup", (task_group,)),
    right("16.1", "create_task, then await each", (tasks_then_await,)),
    wrong("16.1", "await in a loop", (await_in_a_loop,), hint="went one after another"),
    wrong("16.1", "to_thread(beyond.fetch)", (to_thread_fetch,),
          hint="ran the blocking beyond.fetch on"),
    wrong("16.1", "a ThreadPool inside the coroutine", (pool_inside,),
          hint="ran the blocking beyond.fetch on 4 worker thread(s)"),
    wrong("16.1", "gather of beyond.fetch(url)", (gather_blocking_fetches,),
          hint="blocked the event loop's thread"),
    wrong("16.1", "coroutines not awaited", (coroutines_not_awaited,),
          hint="a coroutine that nobody awaits never runs"),
    wrong("16.1", "asyncio.run inside", (asyncio_run_inside,), hint="await instead"),
    wrong("16.1", "as_completed", (as_completed,), hint="asyncio.as_completed yields"),
    wrong("16.1", "a semaphore of 3", (three_at_a_time,), hint="at most 3 of the 12"),
    wrong("16.1", "a plain def with a ThreadPool", (plain_pool,), hint="is a plain function"),

    right("16.2", "6", (6,), praise="min(32, 2 + 4) = 6"),
    right("16.2", "6.0", (6.0,)),
    wrong("16.2", "a thread per call", (40,), hint="does not start a thread per call"),
    wrong("16.2", "one at a time", (1,), hint="the loop stays free"),
    wrong("16.2", "one per CPU", (2,), hint="ThreadPool()'s default"),
    wrong("16.2", "the cap", (32,), hint="28 CPUs or more"),
    wrong("16.2", "CPUs + 2", (4,), hint="min(32, CPUs + 4)"),

    right("16.3", "asyncio.to_thread", (to_thread,), praise="the loop stayed free"),
    right("16.3", "run_in_executor(None, ...)", (default_executor,)),
    right("16.3", "an executor per call", (executor_per_call,)),
    wrong("16.3", "unchanged", (unchanged,), hint="ran in the event loop's own thread"),
    wrong("16.3", "asyncio.sleep(0) first", (sleep_zero_first,),
          hint="ran in the event loop's own thread"),
    wrong("16.3", "to_thread(beyond.lookup(name))", (called_not_passed,),
          hint="you called beyond.lookup(name) yourself"),
    wrong("16.3", "to_thread not awaited", (not_awaited,), hint="returned an awaitable"),
    wrong("16.3", "a ThreadPool as the executor", (threadpool_as_executor,),
          hint="a multiprocessing ThreadPool has none"),
    wrong("16.3", "pool.apply in the coroutine", (pool_apply,),
          hint="waited for each one without await"),

    right("16.4", "the right tools", (RIGHT_16_4,), praise="one loop for many waits"),
    right("16.4", "other spellings", ({"a": " AsyncIO", "b": "ProcessPoolExecutor",
                                       "c": "InterpreterPoolExecutor", "d": "thread",
                                       "e": "ThreadPoolExecutor"},)),
    wrong("16.4", "a: threads for 5,000 connections", ({**RIGHT_16_4, "a": "threads"},),
          hint="5,000 threads"),
    wrong("16.4", "b: threads for computing", ({**RIGHT_16_4, "b": "threads"},),
          hint="the GIL lets one thread run"),
    wrong("16.4", "b: interpreters on 3.12", ({**RIGHT_16_4, "b": "interpreters"},),
          hint="new in 3.14"),
    wrong("16.4", "c: processes", ({**RIGHT_16_4, "c": "processes"},),
          hint="may not start processes"),
    wrong("16.4", "d: processes", ({**RIGHT_16_4, "d": "processes"},),
          hint="its own copy of the large dictionary"),
    wrong("16.4", "d: interpreters", ({**RIGHT_16_4, "d": "interpreters"},),
          hint="share no mutable object"),
    wrong("16.4", "e: asyncio with urllib", ({**RIGHT_16_4, "e": "asyncio"},),
          hint="urllib has only blocking calls"),
]
test_corpus = corpus_test(nb16, CORPUS)


# --- what the corpus does not cover --------------------------------------------------------

def test_ex16_3_an_executor_of_one_thread(capsys):
    # Awaited properly, so the loop is free, but one thread runs the lookups in turn.
    try:
        ok, out = run(nb16.ex16_3, capsys, one_shared_thread)
    finally:
        _ONE_THREAD.pop("executor").shutdown()
    assert ok is False and not_yet(out, "or the executor had a single thread"), out


def test_ex16_3_a_loop_taken_outside_the_coroutine(capsys):
    # As `loop = asyncio.get_event_loop()` in a cell, then used in the coroutine: the
    # check's own loop cannot await a future of another loop.
    other = asyncio.new_event_loop()
    holder = threading.Thread(target=other.run_forever, daemon=True)
    holder.start()

    async def outside_loop(name):
        return await other.run_in_executor(None, beyond.lookup, name)

    try:
        ok, out = run(nb16.ex16_3, capsys, outside_loop)
    finally:
        other.call_soon_threadsafe(other.stop)
        holder.join()
        other.run_until_complete(other.shutdown_default_executor())
        other.close()
    assert ok is False and not_yet(out, "asyncio.get_running_loop()"), out


def test_ex16_1_a_coroutine_that_never_ends_is_reported(capsys, monkeypatch):
    monkeypatch.setattr(nb16, "RUN_TIMEOUT", 0.3)

    async def forever(urls):
        await asyncio.sleep(3)

    ok, out = run(nb16.ex16_1, capsys, forever)
    assert ok is False and not_yet(out, "still running after"), out


def test_ex16_1_the_wrong_pages(capsys):
    async def first_page_only(urls):
        return [await beyond.fetch_async(urls[0])] * len(urls)

    ok, out = run(nb16.ex16_1, capsys, first_page_only)
    assert ok is False and not_yet(out, "in the order of urls"), out


@pytest.mark.parametrize("choice, hint", [
    ({"a": ..., "b": ..., "c": ..., "d": ..., "e": ...}, "replace each ..."),
    ({"a": "asyncio"}, "keep the dict of the answer cell"),
    (["asyncio", "processes"], "keep the dict of the answer cell"),
    ({**RIGHT_16_4, "c": "subinterpreters"}, "not one of the four tools"),
    ({**RIGHT_16_4, "e": ThreadPool}, "as a string"),
])
def test_ex16_4_malformed(capsys, choice, hint):
    ok, out = run(nb16.ex16_4, capsys, choice)
    assert ok is False and not_yet(out, hint), out


@pytest.mark.parametrize("job", sorted(RIGHT_16_4))
def test_ex16_4_feedback_names_the_job_not_the_answer(capsys, job):
    for answer in set(nb16.TOOLS) - {RIGHT_16_4[job]}:
        ok, out = run(nb16.ex16_4, capsys, {**RIGHT_16_4, job: answer})
        assert ok is False and f"job {job}: not the best fit" in out
        assert f'"{RIGHT_16_4[job]}"' not in out


def test_ex16_2_a_string_is_not_a_number(capsys):
    ok, out = run(nb16.ex16_2, capsys, "6")
    assert ok is False and "most should be a number" in out, out


# --- every check: the stub, garbage, nasty answers, quiet -----------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE)


@pytest.mark.parametrize("junk", NASTY, ids=NASTY_IDS)
@pytest.mark.parametrize("check", [c for c, _ in CHECKS], ids=lambda c: c.number)
def test_nasty_answers_never_raise(capsys, check, junk):
    nasty_answers_never_raise(capsys, check, junk)


def test_quiet_prints_nothing(capsys):
    assert nb16.ex16_2(6, quiet=True) is True
    assert nb16.ex16_2(40, quiet=True) is False
    assert nb16.ex16_4(RIGHT_16_4, quiet=True) is True
    assert capsys.readouterr().out == ""


# --- poolscope.tutorial.beyond --------------------------------------------------------------

def _call(start, end, thread=1, name="wait"):
    return Call(name, None, thread, "t", start, end, True)


def test_most_at_once_counts_overlaps_and_can_fail():
    calls = Calls([_call(0, 2), _call(1, 3), _call(3, 4), _call(1.5, 1.6, name="other")])
    assert calls.most_at_once() == 3
    assert calls.most_at_once("wait") == 2  # 3 ends as 4 begins: not together
    assert Calls().most_at_once() == 0


def test_overlapped_and_threads():
    assert Calls([_call(0, 2), _call(1, 3)]).overlapped() is True
    assert Calls([_call(0, 1), _call(1, 2)]).overlapped() is False
    assert Calls().overlapped() is False
    assert Calls([_call(0, 1, thread=1), _call(0, 1, thread=2), _call(0, 1, thread=2)]
                 ).threads() == 2


def test_watch_sees_every_thread_and_only_its_block():
    with beyond.watch() as outer:
        with beyond.watch() as inner:
            with ThreadPool(3) as pool:
                pool.map(beyond.wait, [0.05] * 3)
        beyond.wait(0)
    beyond.wait(0)  # after both blocks: logged by neither
    assert len(inner) == 3 and inner.threads() == 3
    assert len(outer) == 4


def test_the_same_waits_on_threads_and_on_one_loop():
    # What the notebook shows, as counts: threads hold a wait each, the loop all of them.
    with beyond.watch() as on_threads:
        with ThreadPool(2) as pool:
            pool.map(beyond.wait, [0.1] * 6, chunksize=1)
    with beyond.watch() as on_loop:
        outcome = beyond.run_in_new_loop(
            lambda: asyncio.gather(*(beyond.wait_async(0.3) for _ in range(200))))
    assert on_threads.most_at_once() == 2 and on_threads.threads() == 2
    assert outcome.result == [0.3] * 200
    assert on_loop.threads() == 1 and on_loop.overlapped()


def test_fetch_and_fetch_async_give_the_same_pages_and_errors():
    with serve(latency=0, errors={"/page/7": 500}) as server:
        url = server.url("/page/3")
        assert beyond.fetch(url) == b"page 3"
        assert beyond.run_in_new_loop(lambda: beyond.fetch_async(url)).result == b"page 3"
        bad = beyond.run_in_new_loop(lambda: beyond.fetch_async(server.url("/page/7")))
        with pytest.raises(urllib.error.HTTPError) as raised:
            beyond.fetch(server.url("/page/7"))
    assert isinstance(bad.error, urllib.error.HTTPError) and bad.error.code == 500
    assert raised.value.code == 500


@pytest.mark.parametrize("url", ["127.0.0.1:80/page/1", "https://127.0.0.1:1/", 42])
def test_a_bad_url_is_a_clear_error(url):
    with pytest.raises((ValueError, TypeError), match="url should"):
        beyond.fetch(url)


def test_fetch_async_with_a_numeric_host_makes_no_thread():
    # asyncio resolves a host name in the loop's default executor; 127.0.0.1 needs none,
    # so an answer to 16.1 runs on the loop's one thread only.
    with serve(latency=0) as server:
        with poolscope.record() as trace:
            outcome = beyond.run_in_new_loop(lambda: beyond.fetch_async(server.url("/page/1")))
    assert outcome.result == b"page 1" and trace.pools == []


def test_run_in_new_loop_never_raises_and_keeps_what_the_loop_would_log():
    async def boom():
        raise ValueError("boom")

    async def drops_a_failed_task():
        task = asyncio.ensure_future(boom())
        await asyncio.sleep(0.05)  # the task fails meanwhile, and nobody looks
        del task
        gc.collect()
        return "done"

    outcome = beyond.run_in_new_loop(drops_a_failed_task)
    assert outcome.finished and outcome.result == "done" and outcome.error is None
    assert any("never retrieved" in c.get("message", "") for c in outcome.unhandled)
    assert type(beyond.run_in_new_loop(lambda: 1 / 0).error) is ZeroDivisionError
    hung = beyond.run_in_new_loop(lambda: asyncio.sleep(1), timeout=0.1)
    assert hung.finished is False and hung.error is None


def test_the_default_executor_is_recorded_only_when_created_in_the_recording():
    # The notebook's finding: to_thread's pool is the loop's default executor, created at
    # its first call. A recording around that first call sees it, a later one does not.
    async def twice():
        with poolscope.record() as first:
            await asyncio.gather(*(asyncio.to_thread(beyond.lookup, n) for n in "abc"))
        with poolscope.record() as second:
            await asyncio.to_thread(beyond.lookup, "d")
        return first, second

    outcome = beyond.run_in_new_loop(twice)
    first, second = outcome.result
    assert [p.kind for p in first.pools] == ["ThreadPoolExecutor"]
    assert first.count() == 3 and all(w.name.startswith("asyncio_") for w in first.workers)
    assert second.pools == [] and second.count() == 0
