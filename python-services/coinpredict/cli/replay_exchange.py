"""A loopback exchange for the replay and the live tests: a real HTTP server on 127.0.0.1 that answers
the exchange's public endpoints the service uses (``ping``, ``exchangeInfo``, ``klines``) from a candle
folder, showing only the candles that have closed by the clock (``common.clock``, accelerated in a
replay). Candles are read through the service's own CSV reader, so what it serves is what the folder
holds after the same cleaning.

It counts calls and request weight, answers 429 with ``Retry-After`` over its weight limit, and can be
made slow or down, like the real one on a bad day."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np

from coinpredict.common import clock
from coinpredict.data.candles import EXTRA_COLUMNS, Candles
from coinpredict.data.sources.csvdir import CsvFolderSource
from coinpredict.data.timeframes import TIMEFRAME_MS

WEIGHTS = {"/api/v3/klines": 2, "/api/v3/exchangeInfo": 20, "/api/v3/ping": 1}


class ReplayExchange:
    def __init__(self, folder: Path, symbols: list[str] | None = None, timeframes: tuple[str, ...] = ("1h",), *,
                 weight_limit: int = 6000):
        source = CsvFolderSource(Path(folder))
        self.series: dict[tuple[str, str], Candles] = {}
        for tf in timeframes:
            for symbol in symbols or source.symbols(tf):
                self.series[(symbol, tf)] = source.fetch(symbol, tf)
        self.weight_limit = weight_limit
        self.delay_s = 0.0  # every answer waits this long (a slow exchange)
        self.down = False  # every answer is a 503 (an exchange in maintenance)
        self.calls: dict[str, int] = {}
        self.klines_by_symbol: dict[str, int] = {}
        self._weight: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def symbols(self) -> list[str]:
        return sorted({s for s, _ in self.series})

    def start(self) -> str:
        exchange = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                status, body, headers = exchange.answer(self.path)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True, name="replay-exchange").start()
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def used_weight(self) -> int:
        """Request weight spent in the rolling minute (wall time)."""
        now = time.time()
        with self._lock:
            return sum(w for t, w in self._weight if now - t < 60)

    def _spend(self, weight: int) -> tuple[bool, int]:
        """Record ``weight`` in the rolling minute (wall time); False when over the limit."""
        now = time.time()
        with self._lock:
            self._weight = [(t, w) for t, w in self._weight if now - t < 60]
            used = sum(w for _, w in self._weight) + weight
            if used > self.weight_limit:
                return False, used
            self._weight.append((now, weight))
            return True, used

    def answer(self, raw_path: str) -> tuple[int, object, dict]:
        url = urlparse(raw_path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with self._lock:
            self.calls[url.path] = self.calls.get(url.path, 0) + 1
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.down:
            return 503, {"code": -1, "msg": "maintenance"}, {}
        ok, used = self._spend(WEIGHTS.get(url.path, 1))
        headers = {"X-MBX-USED-WEIGHT-1M": str(used)}
        if not ok:
            return 429, {"code": -1003, "msg": "too much request weight used"}, {**headers, "Retry-After": "2"}
        if url.path == "/api/v3/ping":
            return 200, {}, headers
        if url.path == "/api/v3/exchangeInfo":
            return 200, {"symbols": [{"symbol": s, "status": "TRADING"} for s in self.symbols]}, headers
        if url.path == "/api/v3/klines":
            return self._klines(query, headers)
        return 404, {"code": -1, "msg": "no such endpoint"}, headers

    def _klines(self, q: dict, headers: dict) -> tuple[int, object, dict]:
        candles = self.series.get((q.get("symbol"), q.get("interval")))
        if candles is None:
            return 400, {"code": -1121, "msg": "Invalid symbol."}, headers
        with self._lock:
            self.klines_by_symbol[q["symbol"]] = self.klines_by_symbol.get(q["symbol"], 0) + 1
        step = TIMEFRAME_MS[q["interval"]]
        closed_before = clock.now_ms() - step  # open times whose candle has closed by the clock
        lo = int(np.searchsorted(candles.t, int(q.get("startTime", 0)), side="left"))
        end = min(int(q.get("endTime", closed_before)), closed_before)
        hi = int(np.searchsorted(candles.t, end, side="right"))
        hi = min(hi, lo + int(q.get("limit", 500)))
        return 200, [_kline(candles, i, step) for i in range(lo, hi)], headers


def _kline(c: Candles, i: int, step: int) -> list:
    """One kline row as the exchange sends it (numbers as text, like the real one); a series without the
    extra columns is sent without them, and a missing extra value as ``nan`` (never invented)."""
    t = int(c.t[i])
    row = [t, *(repr(float(a[i])) for a in (c.open, c.high, c.low, c.close, c.volume)), t + step - 1]
    if c.extra:
        row += [repr(float(c.extra[k][i])) if k in c.extra else "nan" for k in EXTRA_COLUMNS] + ["0"]
    return row
