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
real server's response time; other paths, and those in ``errors``, answer with an
error status. ``limit`` caps the requests served at once (like a real server's
worker count): more requests than that queue, first come, first served, so past
``limit`` clients nothing gets faster. Every request is logged in memory (``server.log``),
never printed.

Built on the standard library's ``ThreadingHTTPServer`` (one thread per connection),
bound to 127.0.0.1 on a free port. Stopping it wakes the requests still waiting,
closes the port and joins every thread it started.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["PageServer", "Request", "serve"]

_PAGE = re.compile(r"/page/(\d+)")
_POLL = 0.05  # seconds: how often serve_forever looks at shutdown() (default 0.5)


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


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a number of seconds >= 0; got {value!r}")
    return float(value)


def _paths(mapping: Any, name: str) -> dict[str, Any]:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{name} must be a dict of paths, like {{'/page/7': ...}}; "
                        f"got {mapping!r}")
    for path in mapping:
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"{name}: paths start with '/', like '/page/7'; got {path!r}")
    return dict(mapping)


class PageServer:
    """The server; :func:`serve` makes one and starts it.

    >>> server = PageServer(latency=0.1, limit=2).start()
    >>> server.url("/page/1").startswith("http://127.0.0.1:")
    True
    >>> server.stop()
    """

    def __init__(self, latency: float = 0.1, *, slow: Mapping[str, float] | None = None,
                 errors: Mapping[str, int] | None = None, limit: int | None = None,
                 pages: int | None = None) -> None:
        self.latency = _seconds(latency, "latency")
        self.slow = {p: _seconds(s, f"slow[{p!r}]") for p, s in _paths(slow, "slow").items()}
        self.errors = _paths(errors, "errors")
        for path, code in self.errors.items():
            if isinstance(code, bool) or not isinstance(code, int) or not 400 <= code <= 599:
                raise ValueError(f"errors[{path!r}] must be an HTTP error status "
                                 f"(400-599); got {code!r}")
        for value, name in ((limit, "limit"), (pages, "pages")):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
                raise ValueError(f"{name} must be a whole number >= 1 or None; got {value!r}")
        self.limit, self.pages = limit, pages
        self._slots = _Slots(limit) if limit else None  # None: no limit
        self._stopping = threading.Event()  # set by stop(): wakes every waiting request
        # Guards _log: request threads append rows; each row's later fields are filled
        # in by its own thread only (so readers may see a request still going on).
        self._lock = threading.Lock()
        # [method, path, arrived, started, finished, status, queued]
        self._log: list[list[Any]] = []
        self._origin = time.monotonic()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = f"on port {self.port}" if self.running else "stopped"
        return f"<poolscope.PageServer {state}, {len(self._log)} requests logged>"

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> PageServer:
        """Listen on 127.0.0.1 (a free port) and serve from a background thread."""
        if self._httpd is not None:
            raise RuntimeError("this server was started already; make a new one with serve()")
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.pages = self
        self._origin = time.monotonic()
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(_POLL,),
                                        name="poolscope-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake the waiting requests, stop serving, close the port, join the threads.

        Safe to call twice."""
        if self._httpd is None or self._thread is None or self._stopping.is_set():
            return
        self._stopping.set()
        self._httpd.shutdown()  # ends serve_forever (it looks every _POLL seconds)
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

    def _answer(self, path: str) -> tuple[int, float]:
        """(status, seconds to take) for ``path``."""
        match = _PAGE.fullmatch(path)
        known = match is not None and (self.pages is None or int(match[1]) < self.pages)
        status = self.errors.get(path, 200 if known else 404)
        return status, self.slow.get(path, self.latency)

    def _serve(self, handler: _Handler) -> None:
        accepted = handler.server.accepted.pop(handler.request, None)
        arrived = self._now() if accepted is None else round(accepted - self._origin, 6)
        row = [handler.command, handler.path, arrived, None, None, None, False]
        with self._lock:
            self._log.append(row)
        if self._slots is not None:
            got, row[6] = self._slots.take(self._stopping)
            if not got:
                row[4] = self._now()
                return
        row[3] = self._now()
        status, seconds = self._answer(handler.path)
        # Wait like a busy server, but wake at once when the server stops.
        stopped = self._stopping.wait(seconds)
        # Logged before the answer leaves, so that a client that has its page finds the
        # request complete in the log (the status first: a reader that sees `finished`
        # sees it too). The slot is free before the answer leaves too, so that the
        # client's next request never waits for the slot of its own last one.
        row[5] = None if stopped else status
        row[4] = self._now()
        if self._slots is not None:
            self._slots.give()
        if not stopped and not _send(handler, status, handler.path):
            row[5] = None


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
                    self._cond.wait(_POLL)  # woken by give(); _POLL to look at stopping
            finally:
                self._queue.remove(me)
                self._cond.notify_all()  # the next in line may be first now

    def give(self) -> None:
        with self._cond:
            self._free += 1
            self._cond.notify_all()


def _send(handler: _Handler, status: int, path: str) -> bool:
    """Send the answer; False if the client had hung up."""
    try:
        if status == 200:
            body = f"page {path.rsplit('/', 1)[1]}".encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "text/plain; charset=utf-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        else:
            handler.send_error(status)
        handler.wfile.flush()
    except OSError:  # the client gave up (its timeout) and closed the connection
        return False
    return True


class _HTTPServer(ThreadingHTTPServer):
    pages: PageServer
    # Room for many connections at once: with the default backlog of 5, a burst of
    # connects can overflow it, and Linux then retries the dropped ones after 1 s.
    request_queue_size = 128
    # ThreadingHTTPServer makes daemon request threads, which server_close() does not
    # join (socketserver joins only the others): so that stop() leaves no thread behind.
    # Each request ends soon anyway: its waits end at stop(), its reads time out.
    daemon_threads = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # When each connection was accepted (by the serving thread, before its request
        # thread starts), so that a request thread started late does not shorten the
        # wait the log shows. Keyed by socket; each request thread pops its own.
        self.accepted: dict[Any, float] = {}
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.accepted[request] = time.monotonic()
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.accepted.pop(request, None)  # a connection that sent no request
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # never print to stderr; a request that failed shows in the log


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection
    timeout = 5  # seconds: a client that connects and sends nothing cannot hold stop()
    wbufsize = -1  # buffered: headers and body leave in one send, at flush()
    disable_nagle_algorithm = True
    server: _HTTPServer

    def do_GET(self) -> None:
        # A name of our own, so that tests and the notebook can find any left behind.
        threading.current_thread().name = "poolscope-request"
        self.server.pages._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the log is server.log, never stderr


def serve(latency: float = 0.1, *, slow: Mapping[str, float] | None = None,
          errors: Mapping[str, int] | None = None, limit: int | None = None,
          pages: int | None = None) -> PageServer:
    """Start a :class:`PageServer` in a background thread; stop it with ``stop()`` or
    use it in a ``with`` block.

    ``latency``: seconds each page takes; ``slow``: other latencies for some paths,
    ``{"/page/13": 1.0}``; ``errors``: statuses for some paths, ``{"/page/7": 500}``;
    ``limit``: most requests served at once, the others queue (None: no limit);
    ``pages``: ``/page/N`` exists for N < pages (None: for every N).

    >>> with serve(latency=0, pages=2) as server:
    ...     import urllib.request, urllib.error
    ...     try:
    ...         urllib.request.urlopen(server.url("/page/5"), timeout=2)
    ...     except urllib.error.HTTPError as error:
    ...         print(error)
    ...         error.close()
    HTTP Error 404: Not Found
    """
    return PageServer(latency, slow=slow, errors=errors, limit=limit, pages=pages).start()
