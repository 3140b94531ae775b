"""poolscope.server: pages, errors, slow pages, the concurrency limit, the in-memory log,
and a clean stop (the port closed, no thread left)."""

from __future__ import annotations

import math
import socket
import struct
import threading
import urllib.error
import urllib.request

import pytest

from poolscope.server import PageServer, serve

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
        except OSError as error:
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
    with serve(latency=0, errors={"/page/7": 500, "/page/8": 404}, pages=10) as server:
        got = [get(server, p)[0] for p in ("/page/6", "/page/7", "/page/8", "/page/10",
                                           "/", "/page/x")]
    assert got == [200, 500, 404, 404, 404, 404]
    assert [r.status for r in server.log] == got


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


# --- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, message", [
    ({"latency": -0.1}, ValueError, "latency must be a number of seconds >= 0"),
    ({"latency": math.nan}, ValueError, "latency"),
    ({"latency": True}, ValueError, "latency"),
    ({"latency": "0.1"}, ValueError, "latency"),
    ({"slow": {"/page/1": -1}}, ValueError, "slow\\['/page/1'\\]"),
    ({"slow": {"page/1": 1}}, ValueError, "paths start with '/'"),
    ({"slow": [("/page/1", 1)]}, TypeError, "slow must be a dict"),
    ({"errors": {"/page/1": 200}}, ValueError, "HTTP error status"),
    ({"errors": {"/page/1": "500"}}, ValueError, "HTTP error status"),
    ({"errors": {"/page/1": True}}, ValueError, "HTTP error status"),
    ({"limit": 0}, ValueError, "limit must be a whole number >= 1"),
    ({"limit": 2.5}, ValueError, "limit"),
    ({"pages": 0}, ValueError, "pages must be a whole number >= 1"),
])
def test_bad_settings_get_clear_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        PageServer(**kwargs)


@pytest.mark.parametrize("path", ["page/1", "", 3, None])
def test_url_wants_a_path(path):
    with serve(latency=0) as server:
        with pytest.raises(ValueError, match="path must start with '/'"):
            server.url(path)
