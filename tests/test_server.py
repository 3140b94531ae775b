"""poolscope.tutorial.server: pages, errors, slow and trickling pages, the concurrency limit, the
in-memory log, a clean and prompt stop (the port closed, no thread left), and what a hostile
client or bad settings cannot do (leak a slot, use up threads, hold stop(), cause a 500).

No test asserts how fast anything is: where a call must not hang, it is given a generous
bound (HANG, seconds) only so that a hang fails the test instead of stalling the suite."""

from __future__ import annotations

import http.client
import math
import socket
import struct
import threading
import urllib.error
import urllib.request

import pytest

from poolscope.tutorial import server as server_module
from poolscope.tutorial.server import CONNECTIONS, PageServer, serve

HANG = 2.0  # seconds: a call still running after this is taken to hang (not a speed claim)
SERVER_THREADS = ("poolscope-server", "poolscope-request")


def server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name in SERVER_THREADS]


@pytest.fixture(autouse=True)
def no_server_threads_left():
    before = set(server_threads())
    yield
    left = set(server_threads()) - before
    assert not left, f"server threads outlived the test: {sorted(t.name for t in left)}"


def get(server: PageServer, path: str, timeout: float = 5) -> tuple[int, bytes]:
    """(status, body) of ``path``; HTTP errors give their status, not an exception."""
    try:
        with urllib.request.urlopen(server.url(path), timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, b""


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def at_once(server: PageServer, paths: list[str], timeout: float = 5) -> list:
    """Request ``paths`` from as many threads at once; their (status, body) or exception."""
    out: list = [None] * len(paths)

    def one(i: int) -> None:
        try:
            out[i] = get(server, paths[i], timeout)
        except (OSError, http.client.HTTPException) as error:  # no answer, or cut short
            out[i] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(paths))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


# --- pages and errors --------------------------------------------------------------------

def test_a_page_and_its_log_entry():
    with serve(latency=0.1) as server:
        assert get(server, "/page/3") == (200, b"page 3")
    [entry] = server.log
    assert (entry.method, entry.path, entry.status) == ("GET", "/page/3", 200)
    assert 0 <= entry.arrived <= entry.started <= entry.finished
    # The server's promise: a page takes at least its latency (a lower bound, not a
    # speed claim: Event.wait never returns early).
    assert entry.finished - entry.started >= 0.1 - 1e-3
    assert entry.waited == entry.started - entry.arrived


def test_once_a_client_has_its_page_the_log_has_the_request():
    # The entry is completed before the answer leaves (a notebook reads it right away).
    with serve(latency=0, errors={"/page/1": 500}) as server:
        for n in range(30):
            status = get(server, f"/page/{n % 3}")[0]
            entry = server.log[-1]
            assert entry.finished is not None and entry.status == status


def test_errors_unknown_paths_and_missing_pages():
    with serve(latency=0, errors={"/page/7": 500, "/page/8": 404, "/page/x": 503},
               pages=10) as server:
        got = [get(server, p)[0] for p in ("/page/6", "/page/7", "/page/8", "/page/10",
                                           "/", "/pages/1", "/page/x")]
    assert got == [200, 500, 404, 404, 404, 404, 503]
    assert [r.status for r in server.log] == got


@pytest.mark.parametrize("path", ["/page/x", "/page/-1", "/page/007", "/page/", "/page/1.5",
                                  "/page/3?x=1", "/page/3/", "/page/%33", "/page/three"])
def test_what_is_not_a_page_number_is_a_bad_request(path):
    with serve(latency=0, pages=10) as server:
        assert get(server, path)[0] == 400
        assert get(server, "/page/3") == (200, b"page 3")  # and it goes on serving


def test_a_page_number_too_long_for_int_is_no_such_page_and_frees_its_slot():
    # 4,301 digits: int() refuses it (3.11+). It used to raise after the request had
    # taken the only slot, which was never given back: the server never answered again.
    huge = "/page/" + "1" * 4301
    with serve(latency=0, limit=1, pages=40) as server:
        first = at_once(server, [huge])[0]  # (status, body), or the error if no answer
        # Before, a TimeoutError here: the slot of the first request was never freed.
        assert get(server, "/page/39", timeout=HANG) == (200, b"page 39")
        assert first == (404, b"")
        assert get(server, "/page/40")[0] == 404
    assert [r.status for r in server.log] == [404, 200, 404]


def test_without_pages_every_number_is_a_page():
    with serve(latency=0) as server:
        assert get(server, "/page/" + "9" * 5000) == (200, b"page " + b"9" * 5000)


def test_anything_raising_after_the_slot_is_taken_gives_it_back(monkeypatch):
    with serve(latency=0, limit=1) as server:
        real = server._status

        def fails_once(path):
            if path == "/page/1":
                raise RuntimeError("a bug inside the server")
            return real(path)

        monkeypatch.setattr(server, "_status", fails_once)
        with pytest.raises(OSError):  # no answer: the connection is closed
            get(server, "/page/1")
        assert get(server, "/page/2", timeout=HANG) == (200, b"page 2")
    failed, served = server.log
    assert failed.status is None and failed.finished is not None
    assert served.status == 200 and not served.queued


def test_a_slow_page_times_the_client_out_and_is_still_logged():
    with serve(latency=0, slow={"/page/2": 30.0}) as server:
        with pytest.raises(TimeoutError):
            get(server, "/page/2", timeout=0.3)
        assert get(server, "/page/1") == (200, b"page 1")
    slow, quick = server.log
    assert slow.path == "/page/2" and quick.status == 200
    # stop() woke the slow request long before its 30 s: it was never answered.
    assert slow.status is None and slow.finished - slow.started < 30


def test_the_log_is_never_printed(capfd):
    with serve(latency=0, errors={"/page/1": 500}, slow={"/page/2": 30.0}) as server:
        get(server, "/page/0")
        get(server, "/page/1")
        get(server, "/nowhere")
        with pytest.raises(TimeoutError):
            get(server, "/page/2", timeout=0.2)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""
    assert len(server.log) == 4


def test_a_client_that_hangs_up_mid_request_is_not_printed_either(capfd):
    with serve(latency=0) as server:
        client = socket.create_connection(("127.0.0.1", server.port), timeout=2)
        client.sendall(b"GET /page/1")  # no end of line: the server is still reading
        # Close with a reset (linger 0): the server's read then fails.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        assert get(server, "/page/2")[0] == 200  # and it goes on serving
    assert capfd.readouterr().err == ""


def test_clear_log():
    with serve(latency=0) as server:
        get(server, "/page/0")
        server.clear_log()
        get(server, "/page/1")
    assert [r.path for r in server.log] == ["/page/1"]


# --- trickling pages ---------------------------------------------------------------------

def test_a_trickled_page_outlasts_a_timeout_longer_than_each_gap():
    # urlopen's timeout bounds each wait for bytes, not the whole request: the body
    # comes a byte every 0.05 s, so a 0.3 s timeout never fires, though the whole
    # page takes longer than that (the server's waits, 7 of them, never end early).
    with serve(latency=0, trickle={"/page/33": 0.05}) as server:
        assert get(server, "/page/33", timeout=0.3) == (200, b"page 33")
        assert get(server, "/page/32") == (200, b"page 32")  # other pages come at once
    slow, quick = server.log
    assert slow.status == 200 and slow.finished - slow.started >= 7 * 0.05 - 1e-3
    assert quick.status == 200


def test_a_trickled_page_times_out_when_a_gap_is_longer_than_the_timeout():
    with serve(latency=0, trickle={"/page/1": 30.0}) as server:
        with urllib.request.urlopen(server.url("/page/1"), timeout=0.2) as response:
            assert response.status == 200  # the headers came at once
            with pytest.raises(TimeoutError):
                response.read()
    [entry] = server.log
    assert entry.status is None  # stop() woke it before its last byte


def start_in_turn(server: PageServer, paths: list[str], timeout: float = 60):
    """Request each of ``paths`` from a thread of its own, each once the one before has
    its slot or its place in the queue (a hang guard, HANG, on each wait)."""
    clients = []
    for n, path in enumerate(paths):
        clients.append(threading.Thread(target=at_once, args=(server, [path], timeout)))
        clients[-1].start()
        for _ in range(int(HANG / 0.01)):
            log = server.log
            if len(log) > n and (n > 0 or log[0].started is not None):
                break
            threading.Event().wait(0.01)
    return clients


def test_a_trickled_page_holds_its_slot_until_its_last_byte():
    with serve(latency=0, limit=1, trickle={"/page/0": 0.05}) as server:
        for t in start_in_turn(server, ["/page/0", "/page/1"]):
            t.join()
    first, second = server.log
    assert (first.status, second.status) == (200, 200) and second.queued
    assert second.started >= first.finished  # the first's bytes left before its slot did


def test_a_trickled_error_is_sent_at_once():
    with serve(latency=0, trickle={"/page/5": 30.0}, errors={"/page/5": 503}) as server:
        assert get(server, "/page/5", timeout=HANG)[0] == 503


# --- the concurrency limit ---------------------------------------------------------------

def test_the_limit_caps_the_requests_served_at_once():
    with serve(latency=0.3, limit=2) as server:
        got = at_once(server, [f"/page/{n}" for n in range(4)])
        assert server.peak() == 2
    assert [g[0] for g in got] == [200] * 4
    # Two got a slot at once; the other two found both taken and waited for one.
    assert sorted(r.queued for r in server.log) == [False, False, True, True]
    assert all(r.waited > 0 for r in server.log if r.queued)


def test_waiting_requests_get_a_slot_in_order_of_arrival():
    with serve(latency=0, limit=1, slow={"/page/0": 0.3}) as server:
        clients = []
        for n in range(4):  # /page/0 holds the slot; 1, 2 and 3 queue, in that order
            clients.append(threading.Thread(target=at_once, args=(server, [f"/page/{n}"])))
            clients[-1].start()
            while len(server.log) <= n:
                threading.Event().wait(0.01)
        for t in clients:
            t.join()
    by_start = sorted(server.log, key=lambda r: r.started)
    assert [r.path for r in by_start] == [f"/page/{n}" for n in range(4)]
    assert all(r.status == 200 for r in server.log)


def test_without_a_limit_every_request_is_served_at_once():
    with serve(latency=0.3) as server:
        at_once(server, [f"/page/{n}" for n in range(4)])
        assert server.peak() == 4
    assert not any(r.queued for r in server.log)


def test_a_clients_next_request_never_waits_for_its_own_last_slot():
    # The slot is given back before the answer leaves: one client, limit 1, no queue.
    with serve(latency=0, limit=1) as server:
        for n in range(20):
            get(server, f"/page/{n}")
    assert not any(r.queued for r in server.log)


def test_stop_wakes_a_request_waiting_for_a_slot():
    server = serve(latency=0, limit=1, slow={"/page/0": 30.0})
    clients = []
    for path, logged in (("/page/0", 1), ("/page/1", 2)):  # /page/0 takes the slot first
        clients.append(threading.Thread(target=at_once, args=(server, [path], 60)))
        clients[-1].start()
        while len(server.log) < logged or server.log[0].started is None:
            threading.Event().wait(0.01)
    server.stop()
    for t in clients:
        t.join()
    first, second = sorted(server.log, key=lambda r: r.path)
    assert first.status is None and second.status is None
    assert second.started is None and second.finished is not None


# --- a clean stop ------------------------------------------------------------------------

def test_stop_closes_the_port_and_leaves_no_thread():
    before = set(server_threads())
    server = serve(latency=0)
    port = server.port
    assert get(server, "/page/0")[0] == 200
    assert server.running and not refused(port)
    assert set(server_threads()) - before  # the serving thread, at least
    server.stop()
    assert not server.running
    assert refused(port)
    assert set(server_threads()) - before == set()
    server.stop()  # twice is fine


def test_the_with_block_stops_it_even_on_error():
    with pytest.raises(KeyError):
        with serve(latency=0) as server:
            raise KeyError("boom")
    assert not server.running and refused(server.port)


def test_repr_and_restart():
    server = PageServer(latency=0)
    with pytest.raises(RuntimeError, match="not been started"):
        server.url("/page/1")
    server.start()
    assert "on port" in repr(server)
    with pytest.raises(RuntimeError, match="started already"):
        server.start()
    server.stop()
    assert "stopped" in repr(server)


def returns_within(seconds: float, call) -> bool:
    """Run ``call()`` in a thread: did it return within ``seconds`` (a hang guard)?"""
    thread = threading.Thread(target=call)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive()


def silent_clients(server: PageServer, count: int) -> list[socket.socket]:
    """``count`` connections that send nothing, once the server has taken them up."""
    before = threading.active_count()
    clients = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(count)]
    for _ in range(int(HANG / 0.01)):  # until each has its thread (a hang guard)
        if threading.active_count() - before >= min(count, CONNECTIONS):
            break
        threading.Event().wait(0.01)
    return clients


def test_silent_clients_do_not_hold_stop():
    # Before, stop() joined each silent client's thread, which waited for its request
    # until its socket timed out (5 s).
    server = serve(latency=0)
    clients = silent_clients(server, 3)
    try:
        assert returns_within(HANG, server.stop)
        assert not server.running and refused(server.port)
        assert server_threads() == []
        assert server.log == []  # they never sent a request
    finally:
        for client in clients:
            client.close()


def test_stop_hangs_up_on_a_trickle_and_a_queue():
    server = serve(latency=0, limit=1, trickle={"/page/0": 30.0})
    clients = start_in_turn(server, ["/page/0", "/page/1"])
    assert returns_within(HANG, server.stop)
    for t in clients:
        t.join()
    assert [r.status for r in server.log] == [None, None]


def test_a_flood_of_idle_connections_does_not_use_up_threads():
    # Before, each connection got a thread of its own, however many came.
    before = threading.active_count()
    with serve(latency=0) as server:
        flood = silent_clients(server, CONNECTIONS + 20)
        try:
            most = 0
            for _ in range(20):  # a while after the flood: never more than the cap
                most = max(most, threading.active_count() - before)
                threading.Event().wait(0.01)
            # The connections' threads, and the serving thread.
            assert most <= CONNECTIONS + 1
        finally:
            for client in flood:
                client.close()
        # Once they have gone, the server answers again.
        assert get(server, "/page/1", timeout=HANG + server_module.IDLE) == (200, b"page 1")


def test_a_small_connection_cap_still_serves_everyone_in_turn():
    with serve(latency=0.05, limit=2, connections=2) as server:
        got = at_once(server, [f"/page/{n}" for n in range(6)])
    assert [g[0] for g in got] == [200] * 6
    assert server.peak() <= 2


# --- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, message", [
    ({"latency": -0.1}, ValueError, "latency must be a number of seconds from 0 to 3600"),
    ({"latency": math.nan}, ValueError, "latency"),
    ({"latency": True}, ValueError, "latency"),
    ({"latency": "0.1"}, ValueError, "latency"),
    ({"slow": {"/page/1": -1}}, ValueError, "slow\\['/page/1'\\]"),
    ({"slow": {"page/1": 1}}, ValueError, "paths start with '/'"),
    ({"slow": [("/page/1", 1)]}, TypeError, "slow must be a dict"),
    ({"errors": {"/page/1": 200}}, ValueError, "HTTP error status"),
    ({"errors": {"/page/1": "500"}}, ValueError, "HTTP error status"),
    ({"errors": {"/page/1": True}}, ValueError, "HTTP error status"),
    ({"latency": 1e10}, ValueError, "latency must be a number of seconds from 0 to 3600 "
                                        "\\(got 1e\\+10\\)"),
    ({"latency": math.inf}, ValueError, "latency"),
    ({"slow": {"/page/1": 1e10}}, ValueError, "from 0 to 3600"),
    ({"trickle": {"/page/1": 0}}, ValueError, "trickle\\['/page/1'\\] must be a number of "
                                              "seconds above 0, up to 60 \\(got 0\\)"),
    ({"trickle": {"/page/1": 61}}, ValueError, "up to 60"),
    ({"trickle": {"/page/1": "0.1"}}, ValueError, "trickle"),
    ({"trickle": {"page/1": 0.1}}, ValueError, "paths start with '/'"),
    ({"trickle": 0.1}, TypeError, "trickle must be a dict"),
    ({"limit": 0}, ValueError, "limit must be a whole number from 1 to 1,000, or None "
                                 "\\(got 0\\)"),
    ({"limit": 2.5}, ValueError, "limit"),
    ({"limit": 10**9}, ValueError, "limit"),
    ({"pages": 0}, ValueError, "pages must be a whole number from 1 to 1,000,000,000"),
    ({"pages": 10**4400}, ValueError, "pages"),
    ({"connections": 0}, ValueError, "connections must be a whole number from 1 to 1,000 "
                                       "\\(got 0\\)"),
    ({"connections": None}, ValueError, "connections"),
    ({"connections": 5.0}, ValueError, "connections"),
    ({"limit": 20, "connections": 10}, ValueError, "limit \\(20\\) is more than connections"),
])
def test_bad_settings_get_clear_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        PageServer(**kwargs)


@pytest.mark.parametrize("path", ["page/1", "", 3, None])
def test_url_wants_a_path(path):
    with serve(latency=0) as server:
        with pytest.raises(ValueError, match="path must start with '/'"):
            server.url(path)
