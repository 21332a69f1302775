"""The exchange client against a real HTTP server on loopback that serves recorded exchange-format
klines and injected faults (no patched functions)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from coinpredict.data.sources.exchange import ExchangeSource
from coinpredict.errors import SourceError, UnknownSeries

H = 3_600_000
START = 1_735_689_600_000  # 2025-01-01T00:00Z
N = 2_500


def kline(i: int) -> list:
    t = START + i * H
    c = 100 + np.sin(i / 10)
    return [t, f"{c:.4f}", f"{c + 1:.4f}", f"{c - 1:.4f}", f"{c + 0.1:.4f}", "12.5", t + H - 1, "1250.0", 42,
            "6.0", "600.0", "0"]


class Exchange(BaseHTTPRequestHandler):
    faults: list[str] = []
    calls: list[str] = []
    info_delay = 0.0

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        url = urlparse(self.path)
        if url.path.endswith("/ping"):
            return self._send(200, b"{}")
        if url.path.endswith("/exchangeInfo"):
            time.sleep(self.info_delay)
            return self._send(200, b'{"symbols": [{"symbol": "XUSDT", "status": "TRADING"}, '
                                   b'{"symbol": "GONEUSDT", "status": "BREAK"}]}')
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        fault = self.faults.pop(0) if self.faults else "ok"
        type(self).calls.append(fault)
        if fault == "429":
            return self._send(429, b'{"code":-1003}', {"Retry-After": "1"})
        if fault == "418":
            return self._send(418, b'{"code":-1003}', {"Retry-After": "1"})
        if fault == "500":
            return self._send(500, b"oops")
        if fault == "slow":
            time.sleep(1.5)
        if q.get("symbol") != "XUSDT":
            return self._send(400, b'{"code":-1121,"msg":"Invalid symbol."}')
        lo = max(0, (int(q["startTime"]) - START + H - 1) // H)
        hi = min(N, (int(q["endTime"]) - START) // H + 1)
        rows = [kline(i) for i in range(lo, min(hi, lo + int(q.get("limit", 500))))]
        body = json.dumps(rows).encode()
        if fault == "truncated":
            body = body[: len(body) // 2]
        self._send(200, body)

    def _send(self, status, body, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def server():
    Exchange.faults, Exchange.calls, Exchange.info_delay = [], [], 0.0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Exchange)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def source(url, **kw):
    now = (START + N * H) / 1000 + 1800  # half-way through the candle after the last one
    return ExchangeSource(url, clock=lambda: now, backoff=0.01, timeout=(1.0, 1.0), **kw)


def test_paginates_and_drops_the_forming_candle(server):
    candles = source(server).fetch("XUSDT", "1h", start_ms=START)
    assert len(candles) == N and np.all(np.diff(candles.t) == H)
    assert len(Exchange.calls) == 3  # 1000 + 1000 + 500


@pytest.mark.parametrize("fault", ["429", "418"])
def test_rate_limit_answers_are_waited_out_honouring_retry_after(server, fault):
    Exchange.faults = [fault]
    started = time.time()
    candles = source(server).fetch("XUSDT", "1h", start_ms=START + (N - 10) * H)
    assert len(candles) == 10 and time.time() - started >= 0.9
    assert Exchange.calls[:2] == [fault, "ok"]


def test_server_errors_timeouts_and_truncated_json_are_retried(server):
    Exchange.faults = ["500", "slow", "truncated"]
    candles = source(server).fetch("XUSDT", "1h", start_ms=START + (N - 5) * H)
    assert len(candles) == 5
    assert Exchange.calls[:3] == ["500", "slow", "truncated"]


def test_persistent_failure_becomes_a_source_error(server):
    Exchange.faults = ["500"] * 10
    with pytest.raises(SourceError, match="HTTP 500"):
        source(server, retries=2).fetch("XUSDT", "1h", start_ms=START)


def test_unknown_symbol_is_not_retried(server):
    with pytest.raises(UnknownSeries):
        source(server).fetch("NOPEUSDT", "1h", start_ms=START)
    assert len(Exchange.calls) == 1


def test_unreachable_exchange_is_a_source_error():
    with pytest.raises(SourceError, match="unreachable"):
        source("http://127.0.0.1:9", retries=0).fetch("XUSDT", "1h")


def test_live_market_caches_in_the_store_and_fetches_only_what_is_missing(server, tmp_path):
    from coinpredict.config import Settings
    from coinpredict.data.market import MarketData
    from coinpredict.data.providers import LiveProvider

    now = [(START + 2000 * H) / 1000 + 60]
    market = MarketData(Settings(store_path=tmp_path / "s.sqlite", exchange_url=server),
                        clock=lambda: now[0])
    assert isinstance(market.provider, LiveProvider)
    first = market.candles("XUSDT", "1h", 500)
    assert len(first) == 500 and first.t[-1] == START + 1999 * H and first.meta["data_stale"] is False
    calls, stored = len(Exchange.calls), market.store.count()
    market.candles("XUSDT", "1h", 500)
    assert len(Exchange.calls) == calls  # within the time-to-live: the store answers
    now[0] += 3 * 3600
    later = market.candles("XUSDT", "1h", 500)
    assert later.t[-1] == START + 2002 * H and len(Exchange.calls) == calls + 1
    assert market.store.count() == stored + 3  # only the three new candles were fetched and added
