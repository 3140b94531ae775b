"""A small web server on this machine, for downloading pages through a pool.

    >>> import urllib.request
    >>> with serve(latency=0.1, errors={"/page/7": 500}) as server:
    ...     with urllib.request.urlopen(server.url("/page/3"), timeout=2) as response:
    ...         page = response.read()
    >>> page, [(r.path, r.status) for r in server.log]
    (b'page 3', [('/page/3', 200)])
    >>> server.running
    False

``/page/N`` answers ``page N`` after ``latency`` seconds (per path: ``slow``), like a
real server's response time; ``trickle`` makes some pages send their body a byte at a
time, like a server on a bad line. A path in ``errors`` answers with its error status;
``/page/`` followed by anything but a page number (``/page/x``, ``/page/007``) answers
400 (bad request); a page past ``pages``, and every other path, 404 (not found).
``limit`` caps the requests served at once (like a real server's worker count): more
requests than that queue, first come, first served, so past ``limit`` clients nothing
gets faster. Every request is logged in memory (``server.log``), never printed.

Built on the standard library's ``ThreadingHTTPServer`` (one thread per connection),
bound to 127.0.0.1 on a free port. At most ``connections`` connections are handled at
once (more wait to be accepted), so a flood of idle connections cannot use up threads;
a connection that sends nothing is closed after ``IDLE`` seconds. Stopping it wakes the
requests still waiting, hangs up on open connections, closes the port and joins every
thread it started, all within a fraction of a second.
"""

from __future__ import annotations

import math
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .._options import number, shown

__all__ = ["PageServer", "Request", "serve"]

_NUMBER = re.compile(r"0|[1-9][0-9]*", re.ASCII)  # a page number, as /page/N writes it
_POLL = 0.05  # seconds: how often waits look at stop() (serve_forever's default is 0.5)
MAX_SECONDS = 3600.0  # most seconds for latency and slow (Event.wait overflows far above)
MAX_TRICKLE = 60.0  # most seconds between two bytes of a trickled page
CONNECTIONS = 100  # connections handled at once, by default
MAX_CONNECTIONS = 1000
MAX_PAGES = 10**9
IDLE = 5.0  # seconds a connection may stay silent before the server closes it

# The fields of a log row (a list, filled in as the request goes on); see Request.
_METHOD, _PATH, _ARRIVED, _STARTED, _FINISHED, _STATUS, _QUEUED = range(7)


@dataclass(frozen=True)
class Request:
    """One request the server received. Times are seconds since the server started.

    ``arrived`` is when the server accepted the connection; ``started`` when the
    request got a slot; ``queued`` whether it found every slot taken (``limit``) and
    waited its turn; ``status`` is what the server answered, ``None`` if it never
    answered (it was stopped first, or the client had hung up); ``finished`` is
    ``None`` while it is still going on.
    """

    method: str
    path: str
    arrived: float
    started: float | None
    finished: float | None
    status: int | None
    queued: bool = False

    @property
    def waited(self) -> float | None:
        """Seconds from its arrival to its slot: the time in the queue, if ``queued``."""
        return None if self.started is None else self.started - self.arrived


# -- checking the settings (up front, so that nothing fails inside a request) ------------

def _seconds(value: Any, name: str, high: float, above_zero: bool = False) -> float:
    return float(number(name, value, 0, high, seconds=True, above=above_zero))


def _count(value: Any, name: str, high: int, none: bool = True) -> int | None:
    return number(name, value, 1, high, whole=True, none=none)


def _paths(mapping: Any, name: str) -> dict[str, Any]:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{name} must be a dict of paths, like {{'/page/7': ...}}; "
                        f"got {shown(mapping)}")
    for path in mapping:
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"{name}: paths start with '/', like '/page/7'; got {shown(path)}")
    return dict(mapping)


class PageServer:
    """The server; :func:`serve` makes one and starts it.

    >>> server = PageServer(latency=0.1, limit=2).start()
    >>> server.url("/page/1").startswith("http://127.0.0.1:")
    True
    >>> server.stop()
    """

    def __init__(self, latency: float = 0.1, *, slow: Mapping[str, float] | None = None,
                 errors: Mapping[str, int] | None = None,
                 trickle: Mapping[str, float] | None = None, limit: int | None = None,
                 pages: int | None = None, connections: int = CONNECTIONS) -> None:
        self.latency = _seconds(latency, "latency", MAX_SECONDS)
        self.slow = {p: _seconds(s, f"slow[{p!r}]", MAX_SECONDS)
                     for p, s in _paths(slow, "slow").items()}
        self.trickle = {p: _seconds(s, f"trickle[{p!r}]", MAX_TRICKLE, above_zero=True)
                        for p, s in _paths(trickle, "trickle").items()}
        self.errors = _paths(errors, "errors")
        for path, code in self.errors.items():
            if isinstance(code, bool) or not isinstance(code, int) or not 400 <= code <= 599:
                raise ValueError(f"errors[{path!r}] must be an HTTP error status "
                                 f"(400-599); got {shown(code)}")
        self.connections = _count(connections, "connections", MAX_CONNECTIONS, none=False)
        self.limit = _count(limit, "limit", MAX_CONNECTIONS)
        self.pages = _count(pages, "pages", MAX_PAGES)
        if self.limit is not None and self.limit > self.connections:
            raise ValueError(f"limit ({self.limit}) is more than connections "
                             f"({self.connections}), so it could never be reached; "
                             "raise connections too")
        self._slots = _Slots(limit) if limit else None  # None: no limit
        self._stopping = threading.Event()  # set by stop(): wakes every waiting request
        # Guards _log: request threads append rows; each row's later fields are filled
        # in by its own thread only (so readers may see a request still going on).
        self._lock = threading.Lock()
        self._log: list[list[Any]] = []  # rows: see _METHOD ... _QUEUED
        self._origin = time.monotonic()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = f"on port {self.port}" if self.running else "stopped"
        return f"<poolscope.PageServer {state}, {len(self._log)} requests logged>"

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> PageServer:
        """Listen on 127.0.0.1 (a free port) and serve from a background thread."""
        if self._httpd is not None:
            raise RuntimeError("this server was started already; make a new one with serve()")
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler, pages=self)
        self._origin = time.monotonic()
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(_POLL,),
                                        name="poolscope-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake the waiting requests, stop serving, hang up on the open connections,
        close the port, join the threads: within a fraction of a second.

        Safe to call twice."""
        if self._httpd is None or self._thread is None or self._stopping.is_set():
            return
        self._stopping.set()  # every wait of a request and of the accept loop ends
        if self._slots is not None:
            self._slots.wake()
        self._httpd.shutdown()  # ends serve_forever (it looks every _POLL seconds)
        # A client that connected and sent nothing would hold its thread (and so the
        # join below) until IDLE: shutting its socket ends the read at once.
        self._httpd.hang_up()
        self._httpd.server_close()  # closes the socket; joins the request threads
        self._thread.join()

    def __enter__(self) -> PageServer:
        return self if self.running else self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server has not been started")
        return self._httpd.server_address[1]

    def url(self, path: str = "/") -> str:
        """The full address of ``path``: ``server.url("/page/3")``."""
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"path must start with '/', like '/page/3'; got {path!r}")
        return f"http://127.0.0.1:{self.port}{path}"

    # -- the log ----------------------------------------------------------------------
    @property
    def log(self) -> list[Request]:
        """Every request so far, in order of arrival."""
        with self._lock:
            return [Request(*row) for row in self._log]

    def clear_log(self) -> None:
        """Forget the requests so far (before a new run)."""
        with self._lock:
            self._log.clear()

    def peak(self) -> int:
        """The most requests that were being served at the same moment."""
        edges = []
        for r in self.log:
            if r.started is not None:
                edges += [(r.started, 1), (r.finished if r.finished is not None
                                           else math.inf, -1)]
        running = most = 0
        for _, step in sorted(edges):  # at the same instant a finish (-1) comes first
            running += step
            most = max(most, running)
        return most

    # -- serving (called in the request threads) ---------------------------------------
    def _now(self) -> float:
        return round(time.monotonic() - self._origin, 6)

    def _status(self, path: str) -> int:
        if path in self.errors:
            return self.errors[path]
        if not path.startswith("/page/"):
            return 404
        number = path[len("/page/"):]
        if not _NUMBER.fullmatch(number):
            return 400  # /page/x, /page/-1, /page/007: not a page number
        # Compare lengths first: int() of a long enough number raises (3.11+ limits it
        # to 4,300 digits), and no page number longer than `pages` exists anyway.
        if self.pages is not None and (len(number) > len(str(self.pages))
                                       or int(number) >= self.pages):
            return 404
        return 200

    def _serve(self, handler: _Handler) -> None:
        accepted = handler.server.accepted.pop(handler.request, None)
        arrived = self._now() if accepted is None else round(accepted - self._origin, 6)
        row = [handler.command, handler.path, arrived, None, None, None, False]
        with self._lock:
            self._log.append(row)
        if self._slots is not None:
            got, row[_QUEUED] = self._slots.take(self._stopping)
            if not got:
                row[_FINISHED] = self._now()
                return
        answer: _Answer | None = None  # set once the answer is ready to leave
        try:
            row[_STARTED] = self._now()
            path = handler.path
            status = self._status(path)
            reply = _Answer(handler, status, self.trickle.get(path) if status == 200 else None)
            # Wait like a busy server, but wake at once when the server stops.
            if not self._stopping.wait(self.slow.get(path, self.latency)) \
                    and reply.start(self._stopping):
                answer = reply
        finally:
            # Whatever happened above, the slot is given back (else, with limit=1, the
            # server would never answer again), and the row is completed.
            # Logged before the (rest of the) answer leaves, so that a client that has
            # its page finds the request complete in the log (the status first: a
            # reader that sees `finished` sees it too). The slot is free before the
            # answer leaves too, so that the client's next request never waits for the
            # slot of its own last one.
            row[_STATUS] = None if answer is None else answer.status
            row[_FINISHED] = self._now()
            if self._slots is not None:
                self._slots.give()
        if answer is not None and not answer.finish():
            row[_STATUS] = None


class _Answer:
    """The answer to one request: sent at once, or, with ``trickle`` (seconds), its
    headers at once and its body a byte at a time, ``trickle`` seconds apart.

    ``start()`` sends all but what leaves last (nothing, or all but the last byte) and
    waits for the last byte's turn; ``finish()`` sends the rest. Each returns False if
    the client hung up (or, for ``start()``, the server was stopped)."""

    def __init__(self, handler: _Handler, status: int, trickle: float | None) -> None:
        self.handler, self.status, self.trickle = handler, status, trickle
        self.body = f"page {handler.path.rsplit('/', 1)[1]}".encode() if status == 200 else b""
        self.rest = self.body  # what finish() sends of the body

    def _headers(self) -> None:
        h = self.handler
        h.send_response(200)
        h.send_header("Content-Type", "text/plain; charset=utf-8")
        h.send_header("Content-Length", str(len(self.body)))
        h.end_headers()

    def start(self, stopping: threading.Event) -> bool:
        if self.trickle is None:
            return True
        try:
            self._headers()
            self.handler.wfile.flush()
            for byte in self.body[:-1]:
                if stopping.wait(self.trickle):
                    return False
                self.handler.wfile.write(bytes([byte]))
                self.handler.wfile.flush()
        except OSError:  # the client gave up and closed the connection
            return False
        self.rest = self.body[-1:]
        return not stopping.wait(self.trickle)

    def finish(self) -> bool:
        h = self.handler
        try:
            if self.trickle is not None:
                h.wfile.write(self.rest)
            elif self.status == 200:
                self._headers()
                h.wfile.write(self.body)
            else:
                h.send_error(self.status)
            h.wfile.flush()
        except OSError:  # the client gave up (its timeout) and closed the connection
            return False
        return True


class _Slots:
    """``limit`` slots, handed out first come, first served: a plain semaphore lets a
    newcomer take a slot freed just now before a request that has waited, which would
    make who waits (and the timelines) change from run to run."""

    def __init__(self, limit: int) -> None:
        self._free = limit
        self._queue: deque[object] = deque()  # the waiting requests, in order of arrival
        self._cond = threading.Condition()  # guards _free and _queue

    def take(self, stopping: threading.Event) -> tuple[bool, bool]:
        """Wait for a slot: ``(got one, had to wait)``; no slot if ``stopping`` is set
        meanwhile."""
        me = object()
        with self._cond:
            queued = not self._free or bool(self._queue)
            self._queue.append(me)
            try:
                while True:
                    if stopping.is_set():  # also when stop() has just freed a slot
                        return False, queued
                    if self._free and self._queue[0] is me:
                        self._free -= 1
                        return True, queued
                    self._cond.wait(_POLL)  # woken by give() and wake()
            finally:
                self._queue.remove(me)
                self._cond.notify_all()  # the next in line may be first now

    def give(self) -> None:
        with self._cond:
            self._free += 1
            self._cond.notify_all()

    def wake(self) -> None:
        """Wake the waiting requests now (stop() has set their ``stopping``)."""
        with self._cond:
            self._cond.notify_all()


class _HTTPServer(ThreadingHTTPServer):
    # Room in the listen backlog for a burst of connects: with the default of 5 it can
    # overflow, and Linux then retries the dropped ones after 1 s.
    request_queue_size = 128
    # ThreadingHTTPServer makes daemon request threads, which server_close() does not
    # join (socketserver joins only the others): so that stop() leaves no thread behind.
    # Each request ends soon anyway: its waits end at stop(), hang_up() ends its reads.
    daemon_threads = False

    def __init__(self, address: tuple[str, int], handler: type, *, pages: PageServer) -> None:
        self.pages = pages
        # When each connection was accepted (by the serving thread, before its request
        # thread starts), so that a request thread started late does not shorten the
        # wait the log shows. Keyed by socket; each request thread pops its own.
        self.accepted: dict[Any, float] = {}
        # The connections being handled, each by a thread of its own: at most
        # pages.connections. Guarded by _room, which is notified when one closes.
        self._open: set[socket.socket] = set()
        self._room = threading.Condition()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        accepted = time.monotonic()
        stopping = self.pages._stopping
        with self._room:
            # With every connection taken, wait (newer connects wait in the backlog).
            while len(self._open) >= self.pages.connections and not stopping.is_set():
                self._room.wait(_POLL)
            if not stopping.is_set():
                self._open.add(request)
        if stopping.is_set():
            self.shutdown_request(request)
            return
        self.accepted[request] = accepted
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        # A name of our own, so that tests and the notebook can find any left behind.
        threading.current_thread().name = "poolscope-request"
        super().process_request_thread(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.accepted.pop(request, None)  # a connection that sent no request
        with self._room:
            self._open.discard(request)
            self._room.notify_all()
        super().shutdown_request(request)

    def hang_up(self) -> None:
        """Shut down every open connection: reads and waits for the client end now."""
        with self._room:
            for request in self._open:
                try:
                    request.shutdown(socket.SHUT_RDWR)
                except OSError:  # closed meanwhile, or the client had gone
                    pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # never print to stderr; a request that failed shows in the log


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection
    timeout = IDLE  # a client that connects and sends nothing frees its thread after this
    wbufsize = -1  # buffered: headers and body leave in one send, at flush()
    disable_nagle_algorithm = True
    server: _HTTPServer

    def do_GET(self) -> None:
        self.server.pages._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the log is server.log, never stderr


def serve(latency: float = 0.1, *, slow: Mapping[str, float] | None = None,
          errors: Mapping[str, int] | None = None, trickle: Mapping[str, float] | None = None,
          limit: int | None = None, pages: int | None = None,
          connections: int = CONNECTIONS) -> PageServer:
    """Start a :class:`PageServer` in a background thread; stop it with ``stop()`` or
    use it in a ``with`` block.

    ``latency``: seconds each page takes (0 to 3600); ``slow``: other latencies for some
    paths, ``{"/page/13": 1.0}``; ``errors``: statuses for some paths,
    ``{"/page/7": 500}``; ``trickle``: for some pages, seconds between two bytes of
    the body, which then leaves a byte at a time (``{"/page/33": 0.1}``: 7 bytes,
    0.7 s) after the headers; ``limit``: most requests served at once, the others
    queue (None: no limit); ``pages``: ``/page/N`` exists for N < pages (None: for
    every N); ``connections``: most connections handled at once (at least ``limit``).

    >>> with serve(latency=0, pages=2) as server:
    ...     import urllib.request, urllib.error
    ...     try:
    ...         urllib.request.urlopen(server.url("/page/5"), timeout=2)
    ...     except urllib.error.HTTPError as error:
    ...         print(error)
    ...         error.close()
    HTTP Error 404: Not Found
    """
    return PageServer(latency, slow=slow, errors=errors, trickle=trickle, limit=limit,
                      pages=pages, connections=connections).start()
