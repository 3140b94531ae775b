"""Checks for the exercises of ``17-Capstone.ipynb``.

    >>> ok = ex17_1("b", 20)
    Exercise 17.1 - Twenty workers, ten slots: solved!
      the pool runs 20 tasks at once and the server serves 10 of their requests; the other 10 wait in its queue, so the job is no faster than with 10 workers.
    >>> ex17_1("b", 10)
    Exercise 17.1 - Twenty workers, ten slots: not solved yet.
      running = 10 is not right yet
      hint: a task whose request waits in the server's queue is still running, for the pool: its worker is busy waiting
    False

Exercise 17.1 judges a prediction. Exercises 17.2 and 17.3 run the learner's settings or function against a server of
their own (:mod:`poolscope.tutorial.server`, on this machine), record the run, and judge what
the recording and the server's log show: every page fetched once, failures reported
rather than raised, no page waited for longer than a timeout allows. Verdicts rest on
what the settings imply (pages per worker, from the chunks and the workers), on counts
(requests per page) and on what came back, never on how long a run took, so that a
busy machine can neither fail a right answer nor pass a wrong one.
"""

from __future__ import annotations

import math
import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable
from multiprocessing.pool import ThreadPool
from typing import Any
from urllib.request import urlopen

from ...recording import record
from ..server import Request, serve
from ...trace import Trace
from . import NotYet, exercise, expect, expect_true
from ._feedback import expect_letter
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


# -- 17.1 ------------------------------------------------------------------------------

# ThreadPool(20).map(fetch, urls, chunksize=1) against a server that serves 10 requests
# at once and queues the others: every worker sends a request, so the pool has 20 tasks
# running while the server serves 10 of them.
WORKERS_17_1 = 20
_HINTS_17_1 = {
    "a": "the server serves at most 10 requests at once, whoever sends them: the others "
         "wait for a free slot",
    "c": "the pool knows nothing of the server's limit: each of its workers takes a page "
         "and sends its request at once",
    "d": "this server makes the requests beyond its limit wait in a queue (the top of the "
         "notebook says so); it fails none of them",
}


@exercise("17.1", "Twenty workers, ten slots")
def ex17_1(answer: Any, running: Any) -> str:
    expect_letter(answer, "b", _HINTS_17_1)
    count = whole(running, "running", "12")
    if count == LIMIT:
        raise NotYet(f"running = {count} is not right yet", show=False,
                     hint="a task whose request waits in the server's queue is still "
                          "running, for the pool: its worker is busy waiting")
    if count > WORKERS_17_1:
        raise NotYet(f"running = {count} is not right yet", show=False,
                     hint=f"a worker runs one task at a time: {WORKERS_17_1} workers")
    expect_true(count == WORKERS_17_1, f"running = {count} is not right yet",
                hint="40 pages wait in the pool's queue at the start: how many can the "
                     "workers take at once?")
    return ("the pool runs 20 tasks at once and the server serves 10 of their requests; "
            "the other 10 wait in its queue, so the job is no faster than with 10 workers.")


# -- 17.2 ------------------------------------------------------------------------------

def _settings(workers: Any, chunksize: Any) -> tuple[int, int | None]:
    workers = whole(workers, "workers", "10")
    expect_true(1 <= workers <= 100, f"workers should be between 1 and 100; got {workers}",
                hint="a pool of that size is not what this job needs")
    if chunksize is not None:
        chunksize = whole(chunksize, "chunksize", "1")
        expect_true(chunksize >= 1, f"chunksize should be None or at least 1; got {chunksize}",
                    hint="chunksize is how many pages one task fetches")
    return workers, chunksize


def _run_settings(workers: int, chunksize: int | None) -> tuple[list[Request], int]:
    """Fetch the 40 pages with ``ThreadPool(workers).map(fetch, urls, chunksize)``: the
    server's log, and the most requests it served at once."""
    with serve(latency=LATENCY, limit=LIMIT, pages=PAGES) as server:
        urls = [server.url(f"/page/{n}") for n in range(PAGES)]
        with ThreadPool(workers) as pool:
            pool.map(_fetch, urls, chunksize)
        peak = server.peak()
    return server.log, peak


@exercise("17.2", "Tune the pool")
def ex17_2(workers: Any, chunksize: Any) -> str:
    workers, chunksize = _settings(workers, chunksize)
    log, peak = _run_settings(workers, chunksize)
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
    size = min(chunksize or math.ceil(PAGES / (workers * 4)), PAGES)  # map's default
    busiest = math.ceil(math.ceil(PAGES / size) / workers) * size
    if busiest > rounds:
        chunks = math.ceil(PAGES / size)
        if workers < LIMIT:
            hint = f"{workers} workers leave {LIMIT - workers} of the server's {LIMIT} slots idle"
        elif chunks < workers:
            tasks = f"{chunks} task" + ("s" if chunks > 1 else "")
            hint = (f"chunks of {size} pages make only {tasks}, for {workers} workers: "
                    "smaller chunks keep every worker busy")
        else:
            hint = (f"{chunks} chunks of up to {size} pages do not share out evenly over "
                    f"{workers} workers")
        raise NotYet(f"with {workers} workers and chunks of {size}, the busiest worker "
                     f"gets {busiest} pages to fetch one after another: {busiest} rounds of "
                     f"{LATENCY} s, where {rounds} are possible", hint=hint, show=False)
    # No verdict on the run's makespan: it is the machine's, not the settings' (a loaded
    # hub stretches a right answer's run); the settings fix the rounds it needs.
    return (f"{workers} workers, {busiest} pages each: {rounds} rounds of "
            f"{LATENCY} s, the best the server's {LIMIT} slots allow.")


# -- 17.3 ------------------------------------------------------------------------------

# The check's flaky server: which pages fail, and how.
BROKEN = {"/page/3": 500, "/page/9": 404}
# Answers after 2 s: a urlopen timeout of up to 1 s gives up well before, whatever the
# load; without one (or with a longer one) the page comes whole, and shows in `pages`.
SLOW = {"/page/6": 2.0}
GIVE_UP = 10.0  # seconds: a download() that takes longer is reported as stuck
WAITS = ("get", "wait")  # the AsyncResult waits a trace records


def _call(download: Callable[..., Any], urls: list[str]) -> dict[str, Any]:
    """``{"value": download(urls)}``, ``{"error": exception}``, or ``{}`` if it had not
    returned after GIVE_UP seconds: run in a thread of its own, so that a download()
    that never returns cannot hang the notebook (its thread is left waiting)."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = download(urls)
        except BaseException as exc:  # reported as feedback
            out["error"] = exc

    thread = threading.Thread(target=run, name="poolscope-check", daemon=True)
    thread.start()
    thread.join(GIVE_UP)
    return dict(out)  # a copy: a thread still running may fill `out` later


def _after_terminate(trace: Trace, status: str | None) -> bool:
    """Did a wait on a result (``get``/``wait``) that ended with ``status`` (None: still
    waiting) start after its pool's terminate(), the end of its ``with`` block?"""
    ended = {e.pool: e.start for e in trace.events if e.kind == "terminate"}
    return any(e.kind in WAITS and e.status == status and e.pool in ended
               and ended[e.pool] <= e.start for e in trace.events)


def _hung(trace: Trace) -> NotYet:
    if _after_terminate(trace, None):
        hint = ("a get() after the with block waits for results that terminate() dropped: "
                "collect them inside the block")
    else:
        hint = ("something waits with no timeout: give each request a timeout "
                "(urlopen(url, timeout=0.5), as fetch_or_error does)")
    return NotYet(f"download(urls) had not returned after {GIVE_UP:g} s", hint=hint, show=False)


def _raised(exc: BaseException, trace: Trace) -> NotYet:
    if isinstance(exc, multiprocessing.TimeoutError):
        if _after_terminate(trace, "timeout"):
            hint = ("the with block ends with terminate(), which drops the pending work: "
                    "collect the results inside the block")
        else:
            hint = ("get(timeout=...) gave up while a page was still on its way, and a "
                    "timeout in the caller does not stop the worker: give urlopen a timeout "
                    "instead (as fetch_or_error does), so that a slow page comes back as an "
                    "error")
        return NotYet("download(urls) raised multiprocessing.TimeoutError from "
                      "get(timeout=...)", hint=hint, show=False)
    return NotYet(f"download(urls) raised {type(exc).__name__}: {exc}",
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


@exercise("17.3", "A download that loses everything")
def ex17_3(download: Any) -> str:
    if not callable(download):
        raise NotYet("download should be a function", expected="def download(urls): ...",
                     got=download, hint="uncomment it and fix it")
    paths = [f"/page/{n}" for n in range(20)]
    with serve(latency=LATENCY, limit=LIMIT, errors=BROKEN, slow=SLOW) as server:
        urls = [server.url(p) for p in paths]
        with record() as trace:
            out = _call(download, list(urls))
        log = server.log
    if "error" in out:
        raise _raised(out["error"], trace)
    if "value" not in out:
        raise _hung(trace)
    pages, errors = _pair(out["value"])
    expect_true(trace.tasks, "download(urls) did not use a ThreadPool",
                hint="fetch the pages with a ThreadPool(10), as in the code given")
    _once_each(log, paths)
    bad = [urls[paths.index(p)] for p in (*BROKEN, *SLOW)]
    came = {u: f"page {u.rsplit('/', 1)[1]}" for u in urls}  # each page's text
    slow = [urls[paths.index(p)] for p in SLOW]
    expect_true(not any(pages.get(u) == came[u] for u in slow),
                "pages has the text of page/6, which answers only after 2 s: download(urls) "
                "waited for it", hint="give urlopen a timeout (0.5 s, as fetch_or_error "
                "does): a page whose server keeps silent then fails fast instead of holding "
                "up the job")
    good = {u: text for u, text in came.items() if u not in bad}
    lost = [u for u in bad if u not in errors]
    expect_true(not lost, f"errors has no entry for {', '.join(u.split('/', 3)[3] for u in lost)}",
                hint="every page that failed (an error status, or no answer within the "
                     "timeout) goes into errors, with its error as text")
    expect(pages, good, message="pages should hold the text of every page that came, and "
           "nothing else", hint="keep the pages whose text does not start with 'error: '")
    expect_true(set(errors) == set(bad), "errors has entries for pages that came",
                hint="only failed pages go into errors")
    return "17 pages came, 3 errors were reported, and the slow page did not hold up the job."
