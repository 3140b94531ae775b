"""The checks of 10-Capstone.ipynb: right answers pass, wrong ones get a hint, nothing
raises. The checks of 10.2 and 10.3 really run a pool against a local server, so these
tests do too (each in well under a second, except where a slow page is the point)."""

from __future__ import annotations

import dataclasses
import math
import re
import threading
from multiprocessing.pool import ThreadPool
from urllib.request import urlopen

import pytest

import poolscope
from poolscope.checks import nb10

from check_helpers import every_check_tests, not_yet, run

GARBAGE = [None, "0.4", 4 + 2j, ValueError("boom"), [1, 2], float("nan"), True, object()]
CHECKS = [(nb10.ex10_1, 1), (nb10.ex10_2, 2), (nb10.ex10_3, 1)]


def fetch(url, timeout=2):
    with urlopen(url, timeout=timeout) as response:
        return response.read().decode()


def fetch_or_error(url, timeout=0.3):
    try:
        return fetch(url, timeout)
    except OSError as error:
        return f"error: {error}"


def split(urls, texts):
    pages = {u: t for u, t in zip(urls, texts) if not t.startswith("error: ")}
    errors = {u: t for u, t in zip(urls, texts) if t.startswith("error: ")}
    return pages, errors


# --- 10.1 twenty workers, ten slots ------------------------------------------------------

@pytest.mark.parametrize("answer", [0.4, 0.41, 0.39])
def test_ex10_1_right(capsys, answer):
    ok, out = run(nb10.ex10_1, capsys, answer)
    assert ok is True and "4 rounds of 0.1 s" in out


@pytest.mark.parametrize("answer, hint", [
    (0.2, "the other 10 requests wait in its queue"),
    (0.1, "40 requests served at once"),
    (0.8, "not 5"),
    (4, "one page at a time"),
    (1.3, "how many rounds?"),
    ("0.4", "write a number"),
    (math.inf, "write a number"),
])
def test_ex10_1_wrong(capsys, answer, hint):
    ok, out = run(nb10.ex10_1, capsys, answer)
    assert ok is False and not_yet(out, hint), out


# --- 10.2 tune the pool (each case runs the settings against a server) -------------------

@pytest.mark.parametrize("workers, chunksize", [(10, 1), (10, None), (10, 4), (10.0, 2)])
def test_ex10_2_right(capsys, workers, chunksize):
    ok, out = run(nb10.ex10_2, capsys, workers, chunksize)
    assert ok is True and "4 pages each" in out, out


@pytest.mark.parametrize("workers, chunksize, found, hint", [
    (8, 1, "the busiest worker gets 5 pages", "leave 2 of the server's 10 slots idle"),
    (5, None, "chunks of 2, the busiest worker gets 8", "leave 5 of the server's"),
    (10, 3, "the busiest worker gets 6 pages", "14 chunks of up to 3 pages do not share"),
    # 30 when the 20 first requests all arrive within 0.1 s; seen as 29 a few times in
    # long test runs on a loaded machine (a late one found a slot free): the count is
    # the server's, so the test asks for a count near it, not for 30.
    (20, 1, "at most 10 requests at once: ", "past the server's limit"),
])
def test_ex10_2_wrong_settings_are_judged_from_the_run(capsys, workers, chunksize, found, hint):
    ok, out = run(nb10.ex10_2, capsys, workers, chunksize)
    assert ok is False and not_yet(out, hint) and found in out, out
    if workers == 20:
        assert re.search(r"at once: [1-3]\d requests waited in its queue", out), out


@pytest.mark.parametrize("workers, chunksize, hint", [
    (10.5, 1, "workers should be a whole number"),
    (0, 1, "workers should be between 1 and 100"),
    (500, 1, "workers should be between 1 and 100"),
    (10, 0, "chunksize should be None or at least 1"),
    (10, "1", "chunksize should be a number"),
])
def test_ex10_2_bad_settings_run_nothing(capsys, monkeypatch, workers, chunksize, hint):
    monkeypatch.setattr(nb10, "_run_settings", None)  # would raise if it were called
    ok, out = run(nb10.ex10_2, capsys, workers, chunksize)
    assert ok is False and not_yet(out, hint), out


def test_ex10_2_a_very_slow_run_is_not_passed(capsys, monkeypatch):
    # The run's makespan is read from the recording: a (made-up) slow one fails.
    real = nb10._run_settings

    def slow_run(workers, chunksize):
        trace, log, peak = real(workers, chunksize)
        data = trace.data()
        late = [dataclasses.replace(t, finished=t.finished + 5) for t in data.tasks]
        return (poolscope.Trace.from_records(late, data.events, data.workers, data.pools),
                log, peak)

    monkeypatch.setattr(nb10, "_run_settings", slow_run)
    ok, out = run(nb10.ex10_2, capsys, 10, 1)
    assert ok is False and not_yet(out, "run the check again"), out


# --- 10.3 a download that loses everything -----------------------------------------------

def map_all(urls):
    with ThreadPool(10) as pool:
        return pool.map(fetch_or_error, urls, chunksize=1)


def download_right(urls):
    return split(urls, map_all(urls))


def download_imap_unordered(urls):
    pages, errors = {}, {}
    with ThreadPool(10) as pool:
        for url, text in pool.imap_unordered(lambda u: (u, fetch_or_error(u)), urls):
            (errors if text.startswith("error: ") else pages)[url] = text
    return pages, errors


@pytest.mark.parametrize("download", [download_right, download_imap_unordered])
def test_ex10_3_right(capsys, download):
    ok, out = run(nb10.ex10_3, capsys, download)
    assert ok is True and "3 errors were reported" in out, out


def test_ex10_3_the_original_bug(capsys):
    def download(urls):  # as given, with a shorter get() timeout
        with ThreadPool(10) as pool:
            result = pool.map_async(fetch, urls)
        texts = result.get(timeout=0.5)
        return dict(zip(urls, texts)), {}

    ok, out = run(nb10.ex10_3, capsys, download)
    assert ok is False and not_yet(out, "collect the results inside the block"), out
    assert "multiprocessing.TimeoutError" in out


def test_ex10_3_a_download_that_does_not_return(capsys, monkeypatch):
    monkeypatch.setattr(nb10, "GIVE_UP", 0.5)

    def download(urls):
        with ThreadPool(10) as pool:
            result = pool.map_async(fetch, urls)
        return result.get(timeout=1)  # stands in for get() with no timeout: forever

    ok, out = run(nb10.ex10_3, capsys, download)
    assert ok is False and not_yet(out, "had not returned after 0.5 s"), out
    for thread in threading.enumerate():  # the learner's thread ends after its 1 s
        if thread.name == "poolscope-check":
            thread.join()


def mapping(fetch_one):
    """A download that maps ``fetch_one`` over the urls on a ThreadPool of 10."""
    def download(urls):
        with ThreadPool(10) as pool:
            return split(urls, pool.map(fetch_one, urls))
    return download


def test_ex10_3_one_bad_page_raises(capsys):
    ok, out = run(nb10.ex10_3, capsys, mapping(lambda u: fetch(u, timeout=0.3)))
    assert ok is False and not_yet(out, "one bad page must not end the whole job"), out
    assert "HTTPError" in out


def test_ex10_3_no_timeout_waits_for_the_slow_page(capsys):
    ok, out = run(nb10.ex10_3, capsys, mapping(lambda u: fetch_or_error(u, timeout=5)))
    assert ok is False and not_yet(out, "give urlopen a timeout"), out


@pytest.mark.parametrize("download, hint", [
    (lambda urls: ({}, {}), "did not use a ThreadPool"),
    (lambda urls: [{}, {}], "return pages, errors"),
    (lambda urls: download_right(urls)[0], "return pages, errors"),
    (lambda urls: download_right(urls + urls[:2]), "requested more than once"),
    (lambda urls: download_right(urls[1:]), "were never requested"),
    (lambda urls: (dict(zip(urls, map_all(urls))), {}), "errors has no entry for page/3"),
])
def test_ex10_3_wrong(capsys, download, hint):
    ok, out = run(nb10.ex10_3, capsys, download)
    assert ok is False and not_yet(out, hint), out


def test_ex10_3_good_pages_among_the_errors(capsys):
    def download(urls):
        pages, errors = download_right(urls)
        return pages, {**errors, urls[0]: "error: not really"}

    ok, out = run(nb10.ex10_3, capsys, download)
    assert ok is False and not_yet(out, "only failed pages go into errors"), out


def test_ex10_3_errors_kept_in_pages(capsys):
    def download(urls):
        pages, errors = download_right(urls)
        return {**pages, **errors}, errors

    ok, out = run(nb10.ex10_3, capsys, download)
    assert ok is False and not_yet(out, "keep the pages whose text does not start"), out


# --- every check: the stub, garbage, quiet -----------------------------------------------

test_the_stub_says_replace_the_dots, test_garbage_never_raises = every_check_tests(
    CHECKS, GARBAGE)


def test_quiet_prints_nothing(capsys):
    assert nb10.ex10_1(0.4, quiet=True) is True
    assert nb10.ex10_1(0.2, quiet=True) is False
    assert nb10.ex10_3(None, quiet=True) is False
    assert capsys.readouterr().out == ""
