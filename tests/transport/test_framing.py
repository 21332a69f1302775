"""RequestFramer: where a request ends, whatever pieces its bytes arrive in, and which framings it refuses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coinpredict.transport.framing import MAX_HEAD_BYTES, Refusal, RequestFramer

LIMIT = 1000
GET = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
POST = b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
CHUNKED = (b"POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nX-T: 1\r\n\r\n")


def feed_in_pieces(data: bytes, cuts: list[int]):
    framer, outcome, start = RequestFramer(LIMIT), False, 0
    for cut in [*sorted(set(cuts)), len(data)]:
        outcome = framer.feed(data[start:cut])
        start = cut
        if outcome is not False:
            break
    return framer, outcome


@settings(deadline=None)  # a busy CI machine must not turn slowness into a failure of framing
@given(st.sampled_from([GET, POST, CHUNKED]), st.lists(st.integers(0, 120), max_size=12))
def test_a_request_ends_in_the_same_place_however_it_arrives(request, cuts):
    framer, outcome = feed_in_pieces(request + GET, [c for c in cuts if c < len(request)])
    assert outcome is True and framer.end == len(request)


def test_incomplete_requests_wait():
    for request in (GET, POST, CHUNKED):
        assert RequestFramer(LIMIT).feed(request[:-1]) is False


def test_expect_continue_is_noticed_once_the_head_is_in():
    framer = RequestFramer(LIMIT)
    assert framer.feed(b"POST /p HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n") is False
    assert framer.head_done and framer.expects_continue


@pytest.mark.parametrize("request_, status", [
    (b"POST /p HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    (b"POST /p HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
    (b"POST /p HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400),
    (b"POST /p HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST /p HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 400),
    (b"POST /p HTTP/1.1\r\nContent-Length: 1001\r\n\r\n", 413),
    (b"POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n", 413),
    (b"POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + (b"64\r\n" + b"a" * 100 + b"\r\n") * 11, 413),
    (b"POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", 400),
    (b"POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1" * 2000, 400),
    (b"GET /" + b"a" * 9000, 414),
    (b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * (MAX_HEAD_BYTES // 6 + 1), 431),
])
def test_refused_framings(request_, status):
    outcome = RequestFramer(LIMIT).feed(request_)
    assert isinstance(outcome, Refusal) and outcome.status == status


def test_blank_lines_before_a_request_are_skipped():
    framer = RequestFramer(LIMIT)
    assert framer.feed(b"\r\n\r\n" + GET) is True and bytes(framer.buffer) == GET
