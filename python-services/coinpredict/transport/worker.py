"""A gunicorn threaded worker that gives a request to a thread only once it has arrived whole.

gunicorn's gthread worker hands a connection to a thread as soon as its first bytes arrive; the thread
then blocks reading headers and body, so a handful of clients that send slowly (or stop) hold every
thread and starve everyone else. Here the worker's event loop reads each request into memory without
blocking (``RequestFramer`` says where it ends), and threads only run the app on complete requests:
slow and idle connections cost a buffer, not a thread. A request must arrive within
``HTTP_READ_TIMEOUT`` seconds (408 otherwise), and a body over the API's limit is refused from its
headers (413) while the rest of it is read and discarded, so the client gets the answer rather than a
connection reset. Every error raised before the app sees the request is answered as JSON.

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
DRAIN_SECONDS = 10.0  # how long a refused request's remaining body is read and discarded
STOP_LINGER_SECONDS = 2.0  # how long a stopping worker still waits for a request being sent
SWEEP_SECONDS = 0.2


@dataclass
class _Reading:
    framer: RequestFramer
    deadline: float
    continued: bool = False  # "100 Continue" already sent


class BufferingThreadWorker(ThreadWorker):
    """gthread with whole-request buffering in the event loop and JSON answers for transport errors."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.cfg.is_ssl:
            raise RuntimeError("BufferingThreadWorker serves plain HTTP; terminate TLS in front of it")
        self.max_body = Settings.from_env().max_body_bytes
        self.read_timeout = float(os.environ.get("HTTP_READ_TIMEOUT", "15"))
        self._reading: dict[TConn, _Reading] = {}
        self._draining: dict[TConn, float] = {}  # connection -> when to stop draining
        self._next_sweep = 0.0

    # -- reading requests in the event loop (main thread) --

    def enqueue_req(self, conn: TConn) -> None:
        """Every path that would give a connection to a thread (accept, keep-alive, pipelining) comes here
        first; the connection reaches a thread once its next request is buffered whole."""
        framer = RequestFramer(self.max_body, self.cfg.limit_request_line or 8190)
        state = _Reading(framer, deadline=time.monotonic() + self.read_timeout)
        self._reading[conn] = state
        conn.sock.setblocking(False)
        leftover = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        if leftover and self._advance(conn, state, leftover):
            return
        # Usually the request is already there (a kept-alive socket came here because it was readable):
        # reading now saves a trip through the poller, and the event loop's share of the GIL.
        if not self._read(conn, state):
            self.poller.register(conn.sock, EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: TConn, _sock: socket.socket) -> None:
        self._read(conn, self._reading[conn])

    def _read(self, conn: TConn, state: _Reading) -> bool:
        """One non-blocking read; True once the connection has left the reading state."""
        try:
            data = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            data = b""
        if not data:  # the client went away before sending a whole request
            self._drop(conn)
            return True
        if not state.framer.started:
            state.deadline = time.monotonic() + self.read_timeout
        return self._advance(conn, state, data)

    def _advance(self, conn: TConn, state: _Reading, data: bytes) -> bool:
        """Feed bytes; True once the connection has left the reading state (dispatched or refused)."""
        outcome = state.framer.feed(data)
        if outcome is True:
            self._dispatch(conn, state)
            return True
        if isinstance(outcome, Refusal):
            self._refuse(conn, json_error(outcome.status, outcome.code, outcome.message))
            return True
        if state.framer.expects_continue and state.framer.head_done and not state.continued:
            state.continued = True
            try:
                conn.sock.send(CONTINUE)
            except OSError:
                pass
        return False

    def _dispatch(self, conn: TConn, state: _Reading) -> None:
        self._forget(conn)
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(state.framer.buffer))
        conn.data_ready = True  # the thread must not wait for data: it is all here
        conn.continue_sent = state.continued
        super().enqueue_req(conn)

    def _refuse(self, conn: TConn, payload: bytes) -> None:
        """Answer, stop sending, and read what the client still sends, so it reads the answer instead of a
        reset (closing with unread bytes makes the kernel send RST)."""
        self._forget(conn)
        try:
            conn.sock.send(payload)
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(conn)
            return
        self._draining[conn] = time.monotonic() + DRAIN_SECONDS
        self.poller.register(conn.sock, EVENT_READ, partial(self._on_drain, conn))

    def _on_drain(self, conn: TConn, sock: socket.socket) -> None:
        try:
            data = sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)

    def _forget(self, conn: TConn) -> None:
        self._reading.pop(conn, None)
        self._draining.pop(conn, None)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _drop(self, conn: TConn) -> None:
        self._forget(conn)
        self._close(conn)

    def _close(self, conn: TConn) -> None:
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Time out requests that do not arrive in time (408 once begun) and refused bodies still coming."""
        super().murder_pending()
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_SECONDS
        for conn, state in list(self._reading.items()):
            if not self.alive:
                if not state.framer.started:
                    self._drop(conn)
                    continue
                state.deadline = min(state.deadline, now + STOP_LINGER_SECONDS)
            if state.deadline <= now:
                if state.framer.started:
                    self._refuse(conn, json_error(408, "request_timeout",
                                                  f"the request did not arrive within {self.read_timeout:g} s"))
                else:
                    self._drop(conn)
        for conn, until in list(self._draining.items()):
            if until <= now:
                self._drop(conn)

    # -- in a thread --

    def handle_request(self, req, conn: TConn):
        if getattr(conn, "continue_sent", False):  # the event loop already said "100 Continue"
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
