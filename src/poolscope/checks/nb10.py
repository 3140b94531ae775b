"""Checks for the exercises of ``10-Capstone.ipynb``.

    >>> ok = ex10_1(0.4)
    Exercise 10.1 - Twenty workers, ten slots: solved!
      the server serves 10 requests at once: 40 pages take 4 rounds of 0.1 s, however many workers wait.
    >>> ex10_1(0.2)
    Exercise 10.1 - Twenty workers, ten slots: not solved yet.
      makespan is not right yet
      expected: 0.4
      got:      0.2
      hint: 20 workers would fetch 40 pages in 2 rounds, but the server serves only 10 at once: the other 10 requests wait in its queue
    False

Exercises 10.2 and 10.3 run the learner's settings or function against a server of
their own (:mod:`poolscope.server`, on this machine), record the run, and judge what
the recording and the server's log show: every page fetched once, failures reported
rather than raised, a makespan within what the settings imply. Verdicts rest on counts
(pages per worker, requests per page) and on time bounds with wide margins, so that a
busy machine does not fail a right answer.
"""

from __future__ import annotations

import math
import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Callable
from multiprocessing.pool import ThreadPool
from typing import Any
from urllib.request import urlopen

from ..recording import record
from ..server import Request, serve
from ..trace import Trace
from . import NotYet, exercise, expect, expect_true
from ._traces import whole

PAGES = 40  # the notebook's job: /page/0 ... /page/39
LATENCY = 0.1  # seconds per page
LIMIT = 10  # requests the notebook's server serves at once


def _fetch(url: str) -> str:
    """The notebook's fetch(), for the check's own runs."""
    with urlopen(url, timeout=5) as response:
        return response.read().decode()


def _once_each(log: list[Request], paths: list[str]) -> None:
    """NotYet unless each of ``paths`` was requested exactly once."""
    counts = Counter(r.path for r in log)
    missing = [p for p in paths if counts[p] == 0]
    if missing:
        raise NotYet(f"{len(missing)} of the {len(paths)} pages were never requested "
                     f"(the first: {missing[0]})", show=False,
                     hint="fetch every url of the list you are given")
    again = [p for p in paths if counts[p] > 1]
    if again:
        raise NotYet(f"{len(again)} pages were requested more than once ({again[0]}: "
                     f"{counts[again[0]]} times)", show=False,
                     hint="one request per url: map each url to one task")


# -- 10.1 ------------------------------------------------------------------------------

@exercise("10.1", "Twenty workers, ten slots")
def ex10_1(makespan: Any) -> str:
    if isinstance(makespan, bool) or not isinstance(makespan, (int, float)) \
            or not math.isfinite(makespan):
        raise NotYet("makespan should be a number of seconds", expected=0.4, got=makespan,
                     hint="write a number, like 1.5")
    hints = {0.2: "20 workers would fetch 40 pages in 2 rounds, but the server serves only "
                  "10 at once: the other 10 requests wait in its queue",
             0.1: "one round of 0.1 s would need 40 requests served at once",
             0.8: "the server serves 10 requests at once, not 5",
             4.0: "that is one page at a time"}
    hint = next((h for m, h in hints.items() if abs(makespan - m) < 0.02),
                "40 pages, at most 10 served at once, 0.1 s each: how many rounds?")
    if abs(makespan - 0.4) > 0.02:
        raise NotYet("makespan is not right yet", expected=0.4, got=makespan, hint=hint)
    return ("the server serves 10 requests at once: 40 pages take 4 rounds of 0.1 s, "
            "however many workers wait.")


# -- 10.2 ------------------------------------------------------------------------------

def _settings(workers: Any, chunksize: Any) -> tuple[int, int | None]:
    workers = whole(workers, "workers", "10")
    expect_true(1 <= workers <= 100, f"workers should be between 1 and 100; got {workers}",
                hint="a pool of that size is not what this job needs")
    if chunksize is not None:
        chunksize = whole(chunksize, "chunksize", "1")
        expect_true(chunksize >= 1, f"chunksize should be None or at least 1; got {chunksize}",
                    hint="chunksize is how many pages one task fetches")
    return workers, chunksize


def _run_settings(workers: int, chunksize: int | None) -> tuple[Trace, list[Request], int]:
    """Fetch the 40 pages with ``ThreadPool(workers).map(fetch, urls, chunksize)``."""
    with serve(latency=LATENCY, limit=LIMIT, pages=PAGES) as server:
        urls = [server.url(f"/page/{n}") for n in range(PAGES)]
        with record() as trace:
            with ThreadPool(workers) as pool:
                pool.map(_fetch, urls, chunksize)
        peak = server.peak()
    return trace, server.log, peak


@exercise("10.2", "Tune the pool")
def ex10_2(workers: Any, chunksize: Any) -> str:
    workers, chunksize = _settings(workers, chunksize)
    trace, log, peak = _run_settings(workers, chunksize)
    _once_each(log, [f"/page/{n}" for n in range(PAGES)])
    queued = sum(r.queued for r in log)
    if workers > LIMIT:
        raise NotYet(f"{workers} workers, but the server served at most {peak} requests at "
                     f"once: {queued} requests waited in its queue", show=False,
                     hint=f"past the server's limit of {LIMIT}, more workers only wait; "
                          "use as few as give the same makespan")
    rounds = math.ceil(PAGES / LIMIT)
    # Judged from the settings, not from which worker happened to take which page: with
    # chunks of one, a worker delayed under load lets another take a fifth page.
    size = chunksize or math.ceil(PAGES / (workers * 4))  # map's default chunksize
    busiest = math.ceil(math.ceil(PAGES / size) / workers) * size
    if busiest > rounds:
        hint = (f"{workers} workers leave {LIMIT - workers} of the server's {LIMIT} slots "
                "idle" if workers < LIMIT else f"{math.ceil(PAGES / size)} chunks of up to "
                f"{size} pages do not share out evenly over {workers} workers")
        raise NotYet(f"with {workers} workers and chunks of {size}, the busiest worker "
                     f"gets {busiest} pages to fetch one after another: {busiest} rounds of "
                     f"{LATENCY} s, where {rounds} are possible", hint=hint, show=False)
    makespan = trace.summary().makespan
    expect_true(makespan < 2 * rounds * LATENCY + 0.2,
                f"the run took {makespan:.1f} s, more than twice the {rounds} rounds your "
                "settings imply", hint="the machine may be very busy: run the check again")
    return (f"{workers} workers, {busiest} pages each: {rounds} rounds of "
            f"{LATENCY} s, the best the server's {LIMIT} slots allow.")


# -- 10.3 ------------------------------------------------------------------------------

# The check's flaky server: which pages fail, and how.
BROKEN = {"/page/3": 500, "/page/9": 404}
SLOW = {"/page/6": 2.0}  # answers after 2 s: a timeout of up to 0.5 s gives up well before
GIVE_UP = 10.0  # seconds: a download() that takes longer is reported as stuck


def _call(download: Callable[..., Any], urls: list[str]) -> tuple[Any, float]:
    """``(download(urls), seconds)``, run in a thread of its own so that a download()
    that never returns cannot hang the notebook (its thread is left waiting)."""
    out: dict[str, Any] = {}

    def run() -> None:
        start = time.monotonic()
        try:
            out["value"] = download(urls)
        except BaseException as exc:  # reported as feedback below
            out["error"] = exc
        out["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=run, name="poolscope-check", daemon=True)
    thread.start()
    thread.join(GIVE_UP)
    if thread.is_alive():
        raise NotYet(f"download(urls) had not returned after {GIVE_UP:g} s",
                     hint="a get() after the with block waits for results that terminate() "
                          "dropped: collect them inside the block", show=False)
    if "error" in out:
        _raised(out["error"])
    return out["value"], out["seconds"]


def _raised(exc: BaseException) -> None:
    if isinstance(exc, multiprocessing.TimeoutError):
        raise NotYet("download(urls) raised multiprocessing.TimeoutError from get(timeout=...)",
                     hint="the with block ends with terminate(), which drops the pending "
                          "work: collect the results inside the block", show=False)
    raise NotYet(f"download(urls) raised {type(exc).__name__}: {exc}",
                 hint="one bad page must not end the whole job: catch the error inside the "
                      "task and return it (fetch_or_error does)", show=False)


def _pair(value: Any) -> tuple[dict, dict]:
    ok = isinstance(value, tuple) and len(value) == 2 and all(isinstance(d, dict)
                                                               for d in value)
    if not ok:
        raise NotYet("download(urls) should return two dicts: (pages, errors)", got=value,
                     expected="({url: text, ...}, {url: error, ...})",
                     hint="return pages, errors")
    return value


@exercise("10.3", "A download that loses everything")
def ex10_3(download: Any) -> str:
    if not callable(download):
        raise NotYet("download should be a function", expected="def download(urls): ...",
                     got=download, hint="uncomment it and fix it")
    paths = [f"/page/{n}" for n in range(20)]
    with serve(latency=LATENCY, limit=LIMIT, errors=BROKEN, slow=SLOW) as server:
        urls = [server.url(p) for p in paths]
        with record() as trace:
            value, seconds = _call(download, list(urls))
        log = server.log
    pages, errors = _pair(value)
    expect_true(trace.tasks, "download(urls) did not use a ThreadPool",
                hint="fetch the pages with a ThreadPool(10), as in the code given")
    _once_each(log, paths)
    expect_true(seconds < 1.5, f"download(urls) took {seconds:.1f} s: it waited for the page "
                "that answers after 2 s", hint="give urlopen a timeout (0.3 s, as "
                "fetch_or_error does): a slow page then fails fast instead of holding up "
                "the job")
    bad = [urls[paths.index(p)] for p in (*BROKEN, *SLOW)]
    good = {u: f"page {u.rsplit('/', 1)[1]}" for u in urls if u not in bad}
    lost = [u for u in bad if u not in errors]
    expect_true(not lost, f"errors has no entry for {', '.join(u.split('/', 3)[3] for u in lost)}",
                hint="every page that failed (an error status, or no answer within the "
                     "timeout) goes into errors, with its error as text")
    expect(pages, good, message="pages should hold the text of every page that came, and "
           "nothing else", hint="keep the pages whose text does not start with 'error: '")
    expect_true(set(errors) == set(bad), "errors has entries for pages that came",
                hint="only failed pages go into errors")
    return "17 pages came, 3 errors were reported, and the slow page did not hold up the job."
