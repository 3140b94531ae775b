"""The checks of 17-Capstone.ipynb: right answers pass, wrong ones get a hint naming the
mistake, nothing raises. The checks of 17.2 and 17.3 really run a pool against a local
server, so these tests do too: the corpus's code answers are the learner's cells (the
notebook's fetch functions and download()), run for real against the check's server."""

from __future__ import annotations

import itertools
import re
import threading
import time
from multiprocessing.pool import ThreadPool
from urllib.request import urlopen

import pytest

import poolscope
from poolscope.tutorial.checks import nb17
from poolscope.tutorial.server import serve

from check_helpers import every_check_tests, not_yet, run
from corpus import corpus_test, right, wrong

GARBAGE = [None, "b", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb17.ex17_1, 2), (nb17.ex17_2, 2), (nb17.ex17_3, 1)]


# --- the notebook's functions, as a learner's answer cells use them -----------------------

def fetch(url):
    """Download one page and return its text."""
    with urlopen(url, timeout=2) as response:
        return response.read().decode()


def fetch_or_error(url, timeout=0.5):
    """The page's text, or "error: ..." if it failed, or if the server kept silent
    for timeout seconds."""
    try:
        with urlopen(url, timeout=timeout) as response:
            return response.read().decode()
    except OSError as error:
        return f"error: {error}"


def fetch_within(url, seconds=0.5):
    """The page's text, or "error: ..." if it failed or its body had not all come within
    about seconds."""
    deadline = time.monotonic() + seconds
    try:
        with urlopen(url, timeout=seconds) as response:
            body = b""
            while piece := response.read1():
                body += piece
                if time.monotonic() > deadline:
                    raise TimeoutError(f"not whole within {seconds} s")
            return body.decode()
    except OSError as error:
        return f"error: {error}"


def split(urls, texts):
    pages = {u: t for u, t in zip(urls, texts) if not t.startswith("error: ")}
    errors = {u: t for u, t in zip(urls, texts) if t.startswith("error: ")}
    return pages, errors


# --- 17.3's answers: what a learner makes of the download() given ------------------------

def download_right(urls):  # the solution: fetch_or_error, collected inside the block
    with ThreadPool(10) as pool:
        texts = pool.map(fetch_or_error, urls, chunksize=1)
    return split(urls, texts)


def download_imap_unordered(urls):
    pages, errors = {}, {}
    with ThreadPool(10) as pool:
        for url, text in pool.imap_unordered(lambda u: (u, fetch_or_error(u)), urls):
            (errors if text.startswith("error: ") else pages)[url] = text
    return pages, errors


def download_with_a_deadline(urls):  # the whole job's fetch_within
    with ThreadPool(10) as pool:
        return split(urls, pool.map(fetch_within, urls))


def download_get_still_after_the_block(urls):  # fetch_or_error, but get() left outside
    with ThreadPool(10) as pool:
        result = pool.map_async(fetch_or_error, urls)
    texts = result.get(timeout=0.5)  # as given, with a shorter timeout
    return split(urls, texts)


def download_one_bad_page_raises(urls):  # collected inside, but fetch lets errors out
    with ThreadPool(10) as pool:
        texts = pool.map(fetch, urls)
    return dict(zip(urls, texts)), {}


def download_get_timeout_instead_of_urlopen(urls):  # bounds the caller, not the request
    def fetch_no_timeout(url):
        try:
            with urlopen(url) as response:
                return response.read().decode()
        except OSError as error:
            return f"error: {error}"

    with ThreadPool(10) as pool:
        texts = pool.map_async(fetch_no_timeout, urls).get(timeout=1)
    return split(urls, texts)


def download_timeout_too_long(urls):  # a timeout, longer than the slow page takes
    with ThreadPool(10) as pool:
        texts = pool.map(lambda u: fetch_or_error(u, timeout=5), urls)
    return split(urls, texts)


def download_no_errors_dict(urls):  # every text into pages, errors left empty
    with ThreadPool(10) as pool:
        texts = pool.map(fetch_or_error, urls)
    return dict(zip(urls, texts)), {}


def download_errors_left_in_pages(urls):
    with ThreadPool(10) as pool:
        texts = pool.map(fetch_or_error, urls)
    pages = dict(zip(urls, texts))
    errors = {u: t for u, t in pages.items() if t.startswith("error: ")}
    return pages, errors


CORPUS = [
    # 17.1: what ThreadPool(20).map(fetch, urls, chunksize=1) does against 10 slots
    right("17.1", "(b), 20 tasks running", ("b", 20), praise="the other 10 wait in its queue"),
    right("17.1", "(B), 20.0", ("(B)", 20.0)),
    wrong("17.1", "(a) twice as fast", ("a", 20), hint="the others wait for a free slot"),
    wrong("17.1", "(c) the pool holds back the tasks beyond 10", ("c", 10),
          hint="the pool knows nothing of the server's limit"),
    wrong("17.1", "(d) the requests beyond 10 fail", ("d", 20), hint="it fails none of them"),
    wrong("17.1", "(b), but only 10 tasks running", ("b", 10),
          hint="a task whose request waits in the server's queue is still running"),
    wrong("17.1", "(b), all 40 pages running at once", ("b", 40),
          hint="a worker runs one task at a time"),
    wrong("17.1", "(b), 30 running: 20 plus the server's queue", ("b", 30),
          hint="a worker runs one task at a time"),
    # 17.2: (workers, chunksize), each run against the check's server
    right("17.2", "10 workers, chunks of 1", (10, 1), praise="4 pages each"),
    right("17.2", "10 workers, map's default chunks", (10, None), praise="4 pages each"),
    right("17.2", "10 workers, chunks of 2", (10, 2), praise="4 pages each"),
    right("17.2", "10 workers, chunks of 4", (10, 4), praise="4 pages each"),
    wrong("17.2", "8 workers, a common CPU count", (8, 1),
          hint="8 workers leave 2 of the server's 10 slots idle"),
    wrong("17.2", "8 workers, map's default chunks", (8, None),
          hint="8 workers leave 2 of the server's 10 slots idle"),
    wrong("17.2", "more workers than slots", (20, 1), hint="past the server's limit of 10"),
    wrong("17.2", "a worker per page", (40, 1), hint="past the server's limit of 10"),
    wrong("17.2", "10 workers, chunks of 5", (10, 5),
          hint="chunks of 5 pages make only 8 tasks, for 10 workers"),
    wrong("17.2", "10 workers, chunks of 3", (10, 3),
          hint="14 chunks of up to 3 pages do not share out evenly over 10 workers"),
    # 17.3: download(urls), run against the check's flaky server
    right("17.3", "map fetch_or_error inside the block", (download_right,),
          praise="3 errors were reported"),
    right("17.3", "imap_unordered of (url, text)", (download_imap_unordered,)),
    right("17.3", "fetch_within: a deadline per page", (download_with_a_deadline,)),
    wrong("17.3", "get() still after the with block", (download_get_still_after_the_block,),
          hint="collect the results inside the block"),
    wrong("17.3", "fetch, whose errors end map", (download_one_bad_page_raises,),
          hint="one bad page must not end the whole job"),
    wrong("17.3", "get(timeout=) instead of a urlopen timeout",
          (download_get_timeout_instead_of_urlopen,),
          hint="a timeout in the caller does not stop the worker"),
    wrong("17.3", "a urlopen timeout longer than the slow page", (download_timeout_too_long,),
          hint="give urlopen a timeout"),
    wrong("17.3", "no errors dict", (download_no_errors_dict,),
          hint="every page that failed (an error status, or no answer within the timeout) "
               "goes into errors"),
    wrong("17.3", "errors left in pages", (download_errors_left_in_pages,),
          hint="keep the pages whose text does not start with 'error: '"),
]
test_corpus = corpus_test(nb17, CORPUS)


# --- 17.1: answers of other forms, and what a real run shows -------------------------------

@pytest.mark.parametrize("answer, hint", [
    (("e", 20), "one of the letters"),
    ((2, 20), "write the letter as a string"),
    (("b", "20"), "running should be a number"),
    (("b", 20.5), "running should be a whole number"),
])
def test_ex17_1_answers_of_other_forms(capsys, answer, hint):
    ok, out = run(nb17.ex17_1, capsys, *answer)
    assert ok is False and not_yet(out, hint), out


@pytest.mark.parametrize("letter", ["a", "c", "d"])
def test_ex17_1_a_wrong_letter_does_not_give_the_right_one_away(capsys, letter):
    ok, out = run(nb17.ex17_1, capsys, letter, 20)
    assert ok is False and "(b)" not in out and "'b'" not in out, out


def test_ex17_1_the_right_answer_is_what_a_real_run_shows():
    # The notebook's cell against the check's kind of server (0.1 s a page, 10 slots):
    # the server never serves more than 10, some requests wait in its queue, and the
    # pool has more than 10 tasks running at once (counts, not seconds).
    with serve(latency=nb17.LATENCY, limit=nb17.LIMIT, pages=nb17.PAGES) as server:
        urls = [server.url(f"/page/{n}") for n in range(nb17.PAGES)]
        with poolscope.record() as trace:
            with ThreadPool(20) as pool:
                pages = pool.map(fetch, urls, chunksize=1)
        peak, queued = server.peak(), sum(r.queued for r in server.log)
    edges = sorted([(t.started, 1) for t in trace.tasks] + [(t.finished, -1) for t in trace.tasks])
    running = max(itertools.accumulate(step for _, step in edges))
    assert len(pages) == nb17.PAGES and peak <= nb17.LIMIT and queued > 0
    assert running > nb17.LIMIT
    assert nb17.ex17_1("b", nb17.WORKERS_17_1, quiet=True)


# --- 17.2: what the run adds, and settings that run nothing -------------------------------

def test_ex10_2_more_workers_than_slots_shows_the_servers_queue(capsys):
    ok, out = run(nb17.ex17_2, capsys, 20, 1)
    # The counts are the server's (about 30 queue when the first 20 requests arrive
    # within 0.1 s; a loaded machine may let one in late), so the test asks for a range.
    assert ok is False and "at most 10 requests at once: " in out, out
    assert re.search(r"at once: [1-3]\d requests waited in its queue", out), out


@pytest.mark.parametrize("workers, chunksize, hint", [
    (10.5, 1, "workers should be a whole number"),
    (0, 1, "workers should be between 1 and 100"),
    (500, 1, "workers should be between 1 and 100"),
    (10, 0, "chunksize should be None or at least 1"),
    (10, "1", "chunksize should be a number"),
])
def test_ex10_2_bad_settings_run_nothing(capsys, monkeypatch, workers, chunksize, hint):
    monkeypatch.setattr(nb17, "_run_settings", None)  # would raise if it were called
    ok, out = run(nb17.ex17_2, capsys, workers, chunksize)
    assert ok is False and not_yet(out, hint), out


def test_ex10_2_chunks_bigger_than_the_job(capsys, monkeypatch):
    ok, out = run(nb17.ex17_2, capsys, 10, 100)
    assert ok is False and "the busiest worker gets 40 pages" in out, out
    assert not_yet(out, "chunks of 40 pages make only 1 task, for 10 workers"), out


def test_ex10_2_a_slow_run_of_right_settings_still_passes(capsys, monkeypatch):
    # A loaded hub stretches a run: the verdict rests on the settings, never on seconds.
    real = nb17._run_settings

    def on_a_loaded_hub(workers, chunksize):
        threading.Event().wait(1.0)  # stands in for a machine too busy to keep up
        return real(workers, chunksize)

    monkeypatch.setattr(nb17, "_run_settings", on_a_loaded_hub)
    ok, out = run(nb17.ex17_2, capsys, 10, 1)
    assert ok is True, out


# --- 17.3: a download that never returns, shapes that are not (pages, errors) -------------

def forget_check_threads():
    for thread in threading.enumerate():  # a learner's thread ends after its own timeout
        if thread.name == "poolscope-check":
            thread.join()


def test_ex10_3_a_get_after_the_block_that_never_returns(capsys, monkeypatch):
    monkeypatch.setattr(nb17, "GIVE_UP", 0.5)

    def download(urls):
        with ThreadPool(10) as pool:
            result = pool.map_async(fetch, urls)
        return result.get(timeout=1)  # stands in for get() with no timeout: forever

    ok, out = run(nb17.ex17_3, capsys, download)
    forget_check_threads()
    assert ok is False and not_yet(out, "had not returned after 0.5 s"), out
    assert "collect them inside the block" in out


def test_ex10_3_a_wait_with_no_timeout_inside_the_block(capsys, monkeypatch):
    monkeypatch.setattr(nb17, "GIVE_UP", 0.5)

    def download(urls):
        with ThreadPool(10) as pool:
            return split(urls, pool.map(lambda u: fetch_or_error(u, timeout=1.5), urls))

    ok, out = run(nb17.ex17_3, capsys, download)
    forget_check_threads()
    assert ok is False and not_yet(out, "something waits with no timeout"), out
    assert "inside the block" not in out  # it did collect them inside


@pytest.mark.parametrize("download, hint", [
    (lambda urls: ({}, {}), "did not use a ThreadPool"),
    (lambda urls: [{}, {}], "return pages, errors"),
    (lambda urls: download_right(urls)[0], "return pages, errors"),
    (lambda urls: download_right(urls + urls[:2]), "requested more than once"),
    (lambda urls: download_right(urls[1:]), "were never requested"),
])
def test_ex10_3_wrong_shapes_and_counts(capsys, download, hint):
    ok, out = run(nb17.ex17_3, capsys, download)
    assert ok is False and not_yet(out, hint), out


def test_ex10_3_good_pages_among_the_errors(capsys):
    def download(urls):
        pages, errors = download_right(urls)
        return pages, {**errors, urls[0]: "error: not really"}

    ok, out = run(nb17.ex17_3, capsys, download)
    assert ok is False and not_yet(out, "only failed pages go into errors"), out


def test_ex10_3_the_verdict_does_not_rest_on_seconds(capsys, monkeypatch):
    # A right download on a machine so busy that it takes seconds still passes.
    def slowly(urls):
        threading.Event().wait(1.5)
        return download_right(urls)

    ok, out = run(nb17.ex17_3, capsys, slowly)
    assert ok is True, out


# --- every check: the stub, garbage, quiet -----------------------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE)


def test_quiet_prints_nothing(capsys):
    assert nb17.ex17_1("b", 20, quiet=True) is True
    assert nb17.ex17_1("b", 10, quiet=True) is False
    assert nb17.ex17_3(None, quiet=True) is False
    assert capsys.readouterr().out == ""
