"""The Procfile's web line against hostile and slow clients, over raw sockets: every answer raised before
the app sees a request is the API's JSON error, oversized bodies get their 413, and slow or idle
connections starve nobody (one server, started once for the module)."""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time

import pytest
import requests

from coinpredict.launch import procfile_server

READ_TIMEOUT_S = 6
MB = 1024 * 1024
BODY = b'{"symbol": "BTC", "model": "xgboost"}'


@pytest.fixture(scope="module")
def server(synthetic_dir, trained_dir):
    env = {"OHLCV_DIR": str(synthetic_dir), "MODELS_DIR": str(trained_dir), "OFFLINE": "1", "WEB_CONCURRENCY": "2",
           "LOG_LEVEL": "ERROR", "HTTP_READ_TIMEOUT": str(READ_TIMEOUT_S)}
    with procfile_server(env, capture_output=True) as (base, proc):
        yield base, int(base.rsplit(":", 1)[1])


def connect(port: int, timeout: float = 15) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def read_all(sock: socket.socket) -> bytes:
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def exchange(port: int, payload: bytes) -> tuple[int, dict[str, str], bytes]:
    with connect(port) as sock:
        sock.sendall(payload)
        return parse(read_all(sock))


def assert_json_error(answer, status: int, code: str) -> None:
    got, headers, body = answer
    assert got == status, body
    assert headers["content-type"] == "application/json"
    doc = json.loads(body)
    assert set(doc) == {"error"} and doc["error"]["code"] == code and doc["error"]["message"]
    text = body.decode()
    assert "Traceback" not in text and "python-services" not in text and "/tmp" not in text and "<" not in text


def request(method: str, path: str = "/predict/single", *headers: str, body: bytes = b"") -> bytes:
    head = [f"{method} {path} HTTP/1.1", "Host: test", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


CASES = {
    "path of 5 KB": (request("GET", "/" + "a" * 5000), 414, "uri_too_long"),
    "header of 9 KB": (request("GET", "/health", "X-Big: " + "a" * 9000), 431, "headers_too_large"),
    "Content-Length abc": (request("POST", "/predict/single", "Content-Length: abc"), 400, "bad_request"),
    "duplicate Content-Length": (request("POST", "/predict/single", "Content-Length: 2", "Content-Length: 3",
                                         body=b"{}"), 400, "bad_request"),
    "Content-Length with chunked": (request("POST", "/predict/single", "Content-Length: 5",
                                            "Transfer-Encoding: chunked", body=b"0\r\n\r\n"), 400, "bad_request"),
    "garbage request line": (b"\x00\x01 garbage nonsense\r\n\r\n", 400, "bad_request"),
    "bad chunk size": (request("POST", "/predict/single", "Content-Type: application/json",
                               "Transfer-Encoding: chunked", body=b"zz\r\n{}\r\n0\r\n\r\n"), 400, "bad_request"),
    "unknown transfer coding": (request("POST", "/predict/single", "Transfer-Encoding: gzip"), 400, "bad_request"),
    "Content-Length over the limit": (request("POST", "/predict/single", f"Content-Length: {30 * MB}"), 413,
                                      "payload_too_large"),
    "bad header name": (request("GET", "/health", "Bad Name: x"), 400, "bad_request"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_transport_errors_are_json(server, case):
    base, port = server
    payload, status, code = CASES[case]
    assert_json_error(exchange(port, payload), status, code)
    assert requests.get(f"{base}/health", timeout=5).status_code == 200


def send_big(port: int, head: bytes, pieces) -> tuple[int, dict[str, str], bytes]:
    """Send every byte before reading, as simple clients do: a reset would surface here as an OSError."""
    with connect(port, timeout=20) as sock:
        sock.sendall(head)
        for piece in pieces:
            sock.sendall(piece)
        return parse(read_all(sock))


def test_30_mb_chunked_body_is_413(server):
    base, port = server
    head = request("POST", "/predict/single", "Content-Type: application/json", "Transfer-Encoding: chunked")
    block = b"%x\r\n%s\r\n" % (MB, b" " * MB)
    assert_json_error(send_big(port, head, [block] * 30 + [b"0\r\n\r\n"]), 413, "payload_too_large")
    assert requests.get(f"{base}/health", timeout=5).status_code == 200


def test_30_mb_body_with_length_gets_its_413_every_time(server):
    base, port = server
    head = request("POST", "/predict/single", "Content-Type: application/json", f"Content-Length: {30 * MB}")
    block = b" " * MB
    for _ in range(5):
        assert_json_error(send_big(port, head, [block] * 30), 413, "payload_too_large")
    assert requests.get(f"{base}/health", timeout=5).status_code == 200


def test_good_requests_in_every_framing(server):
    _, port = server
    chunked = request("POST", "/predict/single", "Content-Type: application/json", "Transfer-Encoding: chunked",
                      "Connection: close", body=b"%x\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n" % (len(BODY), BODY))
    assert exchange(port, chunked)[0] == 200
    pipelined = request("GET", "/health") + request("POST", "/predict/single", "Content-Type: application/json",
                                                    f"Content-Length: {len(BODY)}", "Connection: close", body=BODY)
    with connect(port) as sock:
        sock.sendall(pipelined)
        assert read_all(sock).count(b"HTTP/1.1 200 OK") == 2
    with connect(port) as sock:  # the body follows the interim answer, as curl sends large bodies
        sock.sendall(request("POST", "/predict/single", "Content-Type: application/json", "Expect: 100-continue",
                             f"Content-Length: {len(BODY)}", "Connection: close"))
        assert sock.recv(64).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(BODY)
        answer = read_all(sock)
        assert answer.startswith(b"HTTP/1.1 200 OK") and b"100 Continue" not in answer


def open_slow_clients(port: int, n: int) -> tuple[list[socket.socket], list[socket.socket], list[socket.socket]]:
    """A third send headers then trickle a 100-byte body, a third send half a head, a third send nothing."""
    trickle, partial, silent = [], [], []
    for i in range(n):
        sock = connect(port, timeout=READ_TIMEOUT_S + 10)
        if i % 3 == 0:
            sock.sendall(request("POST", "/predict/single", "Content-Type: application/json", "Content-Length: 100"))
            trickle.append(sock)
        elif i % 3 == 1:
            sock.sendall(b"POST /predict/single HTTP/1.1\r\nHost: te")
            partial.append(sock)
        else:
            silent.append(sock)
    return trickle, partial, silent


def test_slow_clients_starve_nobody_and_time_out(server):
    base, port = server
    trickle, partial, silent = open_slow_clients(port, 50)
    stop = threading.Event()

    def drip():
        while not stop.wait(1.0):
            for sock in trickle:
                try:
                    sock.send(b" ")
                except OSError:
                    pass

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        session, timings = requests.Session(), {"health": [], "predict": []}
        deadline = time.monotonic() + READ_TIMEOUT_S - 2  # all while every slow connection is still held
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            assert session.get(f"{base}/health", timeout=5).status_code == 200
            timings["health"].append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            assert session.post(f"{base}/predict/single", data=BODY, timeout=5,
                                headers={"Content-Type": "application/json"}).status_code == 200
            timings["predict"].append((time.perf_counter() - t0) * 1000)
        for name, runs in timings.items():
            p95 = statistics.quantiles(runs, n=20)[-1]
            assert len(runs) >= 10 and p95 < 100, (name, len(runs), p95)
        # Past the read timeout a begun request is answered 408; an idle connection is closed.
        for sock in trickle + partial:
            assert_json_error(parse(read_all(sock)), 408, "request_timeout")
        for sock in silent:
            assert read_all(sock) == b""
    finally:
        stop.set()
        dripper.join()
        for sock in trickle + partial + silent:
            sock.close()
    assert requests.get(f"{base}/health", timeout=5).status_code == 200
