"""A gunicorn threaded worker in which no thread ever waits for a client.

gunicorn's gthread worker hands a connection to a thread as soon as its first bytes arrive; the thread
then blocks reading headers and body, so a handful of clients that send slowly (or stop) hold every
thread and starve everyone else. Here a thread only reads what has already arrived, without blocking,
into a ``RequestFramer``; while the request is incomplete the connection goes back to the event loop
until more bytes come, and the app runs only on a request buffered whole. Slow and idle connections
cost a buffer, not a thread. (The reads stay on the threads, as in gthread: reading in the event loop
would make it wait for the GIL on every request while the threads compute.)

A request must arrive within ``HTTP_READ_TIMEOUT`` seconds (408 otherwise). A body over the API's limit
is refused from its headers or chunks (413), and what the client still sends is read and discarded, so
it reads the answer instead of a connection reset; closing connections linger the same way in the event
loop, never in it blocking. Every error raised before the app sees the request is answered as JSON.

Configured in gunicorn.conf.py as ``worker_class``. TLS is terminated in front of the service.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from functools import partial
from selectors import EVENT_READ

from gunicorn import http, util
from gunicorn.workers.gthread import TConn, ThreadWorker

from ..config import Settings
from .framing import Refusal, RequestFramer
from .replies import CONTINUE, INTERNAL_ERROR, classify, json_error

RECV_BYTES = 64 * 1024  # under malloc's mmap threshold: a recv buffer costs no page mapping
LINGER_SECONDS = 10.0  # how long a closing connection's remaining input is read and discarded
STOP_LINGER_SECONDS = 2.0  # how long a stopping worker still waits for a request being sent
SWEEP_SECONDS = 0.2
_PARK, _GONE = object(), object()  # from a thread: wait for more bytes / the client left


@dataclass
class _Reading:
    framer: RequestFramer
    deadline: float
    pending: bytes = b""  # read ahead by the previous request's parser (pipelining)
    continued: bool = False  # "100 Continue" already sent


class BufferingThreadWorker(ThreadWorker):
    """gthread whose threads read without blocking and serve only whole requests; JSON transport errors."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.cfg.is_ssl:
            raise RuntimeError("BufferingThreadWorker serves plain HTTP; terminate TLS in front of it")
        self.max_body = Settings.from_env().max_body_bytes
        self.read_timeout = float(os.environ.get("HTTP_READ_TIMEOUT", "15"))
        self._parked: set[TConn] = set()  # waiting in the poller for the rest of a request
        self._lingering: dict[TConn, float] = {}  # closing: connection -> when to stop reading it
        self._next_sweep = 0.0

    # -- event loop (main thread) --

    def enqueue_req(self, conn: TConn) -> None:
        """Every path to a thread (accept, keep-alive, pipelining) starts a new request's buffer here."""
        if getattr(conn, "reading", None) is None:
            state = _Reading(RequestFramer(self.max_body, self.cfg.limit_request_line or 8190),
                             deadline=time.monotonic() + self.read_timeout)
            if conn.parser is not None:
                state.pending = conn.parser.unreader.take_buffered()
            conn.reading = state
            conn.data_ready = True  # gthread's own wait for data is not needed: threads never wait
        super().enqueue_req(conn)

    def finish_request(self, conn: TConn, fs) -> None:
        try:
            result = fs.result() if not fs.cancelled() else False
        except Exception:
            result = False
        if result is _PARK:
            conn.sock.setblocking(False)
            self._parked.add(conn)
            self.poller.register(conn.sock, EVENT_READ, partial(self._on_parked_readable, conn))
        elif result is _GONE:
            self._close(conn)
        elif isinstance(result, Refusal):
            self._linger(conn, json_error(result.status, result.code, result.message))
        elif result:
            super().finish_request(conn, fs)  # keep-alive (or a pipelined request already buffered)
        else:
            self._linger(conn)  # gthread's graceful close would block the event loop for seconds

    def _on_parked_readable(self, conn: TConn, _sock: socket.socket) -> None:
        self._unpark(conn)
        self.enqueue_req(conn)

    def _unpark(self, conn: TConn) -> None:
        self._parked.discard(conn)
        self._lingering.pop(conn, None)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _linger(self, conn: TConn, payload: bytes = b"") -> None:
        """Answer, stop sending, and read what the client still sends until it closes: closing with
        unread bytes makes the kernel send a reset, which can destroy the answer before it is read."""
        conn.reading = None
        try:
            conn.sock.setblocking(False)
            if payload:
                conn.sock.send(payload)
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(conn)
            return
        self._lingering[conn] = time.monotonic() + LINGER_SECONDS
        self.poller.register(conn.sock, EVENT_READ, partial(self._on_linger_readable, conn))

    def _on_linger_readable(self, conn: TConn, sock: socket.socket) -> None:
        try:
            if sock.recv(RECV_BYTES):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self._unpark(conn)
        self._close(conn)

    def _close(self, conn: TConn) -> None:
        conn.reading = None
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Time out requests that do not arrive in time (408 once begun) and lingering connections."""
        super().murder_pending()
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_SECONDS
        for conn in list(self._parked):
            state = conn.reading
            if not self.alive:
                state.deadline = min(state.deadline, now + STOP_LINGER_SECONDS)
            if state.deadline <= now or not (self.alive or state.framer.started):
                self._unpark(conn)
                if state.framer.started:
                    timed_out = self._timed_out()
                    self._linger(conn, json_error(timed_out.status, timed_out.code, timed_out.message))
                else:
                    self._close(conn)
        for conn, until in list(self._lingering.items()):
            if until <= now or not self.alive:
                self._unpark(conn)
                self._close(conn)

    def _timed_out(self) -> Refusal:
        return Refusal(408, "request_timeout", f"the request did not arrive within {self.read_timeout:g} s")

    # -- threads --

    def handle(self, conn: TConn):
        """Read what has arrived; serve the request once whole, else give the connection back to the loop."""
        state = conn.reading
        if state is None:
            return super().handle(conn)
        try:
            outcome = self._read_request(conn, state)
        except OSError:
            return _GONE
        if outcome is not True:
            return outcome
        conn.reading = None
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(state.framer.buffer))
        conn.continue_sent = state.continued
        return super().handle(conn)

    def _read_request(self, conn: TConn, state: _Reading):
        """True once buffered whole; else _PARK (wait for bytes), _GONE or a Refusal to answer."""
        conn.sock.setblocking(False)
        data, state.pending = state.pending, b""
        while True:
            if data:
                if not state.framer.started:
                    state.deadline = time.monotonic() + self.read_timeout
                outcome = state.framer.feed(data)
                if outcome is not False:
                    return outcome
                if state.framer.expects_continue and state.framer.head_done and not state.continued:
                    state.continued = True
                    conn.sock.send(CONTINUE)
            if time.monotonic() > state.deadline:
                return self._timed_out() if state.framer.started else _GONE
            try:
                data = conn.sock.recv(RECV_BYTES)
            except (BlockingIOError, InterruptedError):
                return _PARK
            if not data:
                return _GONE

    def handle_request(self, req, conn: TConn):
        if getattr(conn, "continue_sent", False):  # the request was read after "100 Continue" went out
            req._expected_100_continue = False
        # The body is buffered, so no read should wait; should gunicorn's parser ever frame a request
        # longer than the framer did, the thread still waits no longer than a whole request may take.
        conn.sock.settimeout(self.read_timeout)
        return super().handle_request(req, conn)

    def handle_error(self, req, client, addr, exc: BaseException) -> None:
        """gunicorn's parser errors (and anything the app let escape) as the API's JSON, never HTML."""
        verdict = classify(exc)
        if verdict is None:
            self.log.exception("Error handling request")
            payload = INTERNAL_ERROR
        else:
            self.log.warning("Invalid request from %s: %s", (addr or ("?",))[0], exc)
            payload = json_error(*verdict)
        try:
            util.write(client, payload)
        except Exception:  # the client may be gone; nothing left to tell it
            self.log.debug("Failed to send error answer.")
