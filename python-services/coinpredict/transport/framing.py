"""Where an HTTP/1.1 request ends, found from bytes as they arrive, without a thread per connection.

The worker feeds every byte a client sends to a ``RequestFramer`` and runs the app only once the whole request
(head and body) is buffered, parking the connection in its event loop meanwhile, so a client that sends
slowly, or stops, holds no thread. The framer decides only the framing (RFC 9112 section 6): ambiguous
framing, a body over the limit or a malformed chunk is refused here, because a thread reading it later could
neither tell where the request ends nor answer it in the API's words. Everything else (request line, header
names, per-field limits) is left to gunicorn's own parser, which reports it without reading further.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEAD_END = b"\r\n\r\n"
MAX_HEAD_BYTES = 64 * 1024
MAX_CHUNK_LINE = 1024
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(;[^\r\n]*)?")


@dataclass(frozen=True)
class Refusal:
    """An answer the worker gives itself, after which the connection closes."""

    status: int
    code: str
    message: str


class RequestFramer:
    """Buffers one request; ``feed`` says whether it is complete (True), needs more (False) or is refused.

    ``end`` is the offset just past the request once complete; bytes after it belong to the next one.
    """

    def __init__(self, max_body: int, max_line: int = 8190) -> None:
        self.max_body = max_body
        self.max_line = max_line
        self.buffer = bytearray()
        self.end = 0
        self.expects_continue = False
        self._head_end = 0
        self._length: int | None = None  # a Content-Length body
        self._chunked = False
        self._cursor = 0  # next unparsed byte of a chunked body
        self._body = 0  # chunk payload bytes so far
        self._in_trailer = False
        self._trailer_from = 0
        self._scanned = 0  # head bytes already searched for its end

    @property
    def started(self) -> bool:
        return bool(self.buffer)

    @property
    def head_done(self) -> bool:
        return bool(self._head_end)

    def feed(self, data: bytes) -> bool | Refusal:
        self.buffer += data
        if not self._head_end:
            found = self._find_head()
            if found is not True:
                return found
        if self._length is not None:
            if len(self.buffer) - self._head_end >= self._length:
                self.end = self._head_end + self._length
                return True
            return False
        if self._chunked:
            return self._scan_chunks()
        self.end = self._head_end
        return True

    def _find_head(self) -> bool | Refusal:
        # A client may send blank lines before a request (RFC 9112 section 2.2).
        while self.buffer[:2] == b"\r\n":
            del self.buffer[:2]
            self._scanned = 0
        at = self.buffer.find(HEAD_END, max(0, self._scanned - 3))
        if at < 0:
            self._scanned = len(self.buffer)
            line_end = self.buffer.find(b"\r\n", 0, self.max_line + 4)
            if line_end < 0 and len(self.buffer) > self.max_line + 2:
                return Refusal(414, "uri_too_long", f"the request line is longer than {self.max_line} bytes")
            if len(self.buffer) > MAX_HEAD_BYTES:
                return Refusal(431, "headers_too_large", f"the request head is larger than {MAX_HEAD_BYTES} bytes")
            return False
        self._head_end = at + len(HEAD_END)
        return self._read_framing(bytes(self.buffer[:at]))

    def _read_framing(self, head: bytes) -> bool | Refusal:
        lengths, codings, version = [], [], head.split(b"\r\n", 1)[0].rsplit(b" ", 1)[-1]
        for line in head.split(b"\r\n")[1:]:
            name, sep, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip()
            if not sep:
                continue  # gunicorn's parser refuses the malformed line
            if name == b"content-length":
                lengths += [v.strip() for v in value.split(b",")]
            elif name == b"transfer-encoding":
                codings += [v.strip().lower() for v in value.split(b",") if v.strip()]
            elif name == b"expect" and value.lower() == b"100-continue" and version == b"HTTP/1.1":
                self.expects_continue = True
        if lengths and codings:
            return Refusal(400, "bad_request", "Content-Length and Transfer-Encoding together are ambiguous")
        if codings:
            if codings != [b"chunked"]:
                return Refusal(400, "bad_request", "the only transfer coding accepted is chunked")
            self._chunked = True
            self._cursor = self._head_end
            return True
        if lengths:
            if len(set(lengths)) > 1 or not all(v.isdigit() and len(v) <= 19 for v in lengths):
                return Refusal(400, "bad_request", "Content-Length must be one non-negative integer")
            self._length = int(lengths[0])
            if self._length > self.max_body:
                return self.too_large()
        return True

    def too_large(self) -> Refusal:
        return Refusal(413, "payload_too_large", f"the request body is larger than {self.max_body} bytes")

    def _scan_chunks(self) -> bool | Refusal:
        buf = self.buffer
        while True:
            line_end = buf.find(b"\r\n", self._cursor)
            if line_end < 0:
                if len(buf) - self._cursor > MAX_CHUNK_LINE:
                    return Refusal(400, "bad_request", "malformed chunked body: a chunk line is too long")
                return False
            if self._in_trailer:  # trailer fields, then an empty line
                empty = line_end == self._cursor
                self._cursor = line_end + 2
                if empty:
                    self.end = self._cursor
                    return True
                if self._cursor - self._trailer_from > MAX_HEAD_BYTES:
                    return Refusal(431, "headers_too_large", f"the trailer is larger than {MAX_HEAD_BYTES} bytes")
                continue
            match = _CHUNK_SIZE.fullmatch(bytes(buf[self._cursor:line_end]))
            if not match:
                return Refusal(400, "bad_request", "malformed chunked body: invalid chunk size")
            size = int(match.group(1), 16)
            if self._body + size > self.max_body:
                return self.too_large()
            if size == 0:
                self._cursor = self._trailer_from = line_end + 2
                self._in_trailer = True
                continue
            data_end = line_end + 2 + size
            if len(buf) < data_end + 2:
                return False
            if buf[data_end:data_end + 2] != b"\r\n":
                return Refusal(400, "bad_request", "malformed chunked body: a chunk does not end with CRLF")
            self._body += size
            self._cursor = data_end + 2
