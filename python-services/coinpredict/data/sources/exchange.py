"""The exchange's public REST klines endpoint (Binance spot API shape)."""

from __future__ import annotations

import json
import logging
import time

import numpy as np
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ...common.clock import now as clock_now
from ...errors import SourceError, UnknownSeries
from ..candles import EXTRA_COLUMNS, Candles, clean_extra
from ..timeframes import TIMEFRAME_MS

log = logging.getLogger(__name__)
PAGE_LIMIT = 1000
WEIGHTS = {"/api/v3/klines": 2, "/api/v3/exchangeInfo": 20}  # the exchange's request weight per call


class RateLimited(SourceError):
    """The exchange asked us to slow down (429) or banned us for a while (418): wait ``retry_after`` s."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message, public="exchange rate limit: answering from stored candles")
        self.retry_after = retry_after


class BudgetSpent(RateLimited):
    """This minute's request weight is spent (by this process, or the deployment's with Redis): the
    exchange was not asked."""

    def __init__(self, retry_after: float):
        SourceError.__init__(self, "the exchange request budget for this minute is spent",
                             public="exchange request budget spent: answering from stored candles")
        self.retry_after = retry_after


class DeadlinePassed(SourceError):
    """The request's own time ran out before the exchange was asked (not the exchange's fault)."""


class _ExchangeRetry(Retry):
    """Also wait out ``Retry-After`` on 418 (the exchange's ban answer), capped so a thread never hangs."""

    RETRY_AFTER_STATUS_CODES = frozenset({413, 418, 429, 503})
    max_retry_after = 30.0

    def get_retry_after(self, response):
        value = super().get_retry_after(response)
        return None if value is None else min(value, self.max_retry_after)


class ExchangeSource:
    """Paginated klines with timeouts, retries and backoff that honour 429/418 and ``Retry-After``. With a
    ``budget`` (``data.budget``) every call first spends its weight from it and waits out its pause, and a
    429/418 pauses the budget: every holder of the same budget stops asking, not only this caller."""

    name = "exchange"

    def __init__(self, base_url: str = "https://api.binance.com", *, timeout: tuple[float, float] = (3.0, 10.0),
                 retries: int = 4, backoff: float = 0.5, max_retry_after: float = 30.0,
                 clock=clock_now, budget=None):
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self.timeout = timeout
        self.clock = clock
        self.parse_retries = retries
        self.backoff = backoff
        retry = _ExchangeRetry(total=retries, connect=retries, read=retries, status=retries,
                               backoff_factor=backoff, backoff_max=max_retry_after,
                               status_forcelist=(418, 429, 500, 502, 503, 504), allowed_methods=frozenset({"GET"}),
                               respect_retry_after_header=True, raise_on_status=False)
        retry.max_retry_after = max_retry_after
        self.session = requests.Session()
        self.session.mount("http://", HTTPAdapter(max_retries=retry, pool_maxsize=16))
        self.session.mount("https://", HTTPAdapter(max_retries=retry, pool_maxsize=16))

    def _get_json(self, path: str, params: dict, deadline: float | None = None):
        """The JSON answer of one GET; ``deadline`` (time.monotonic) bounds the wait for every attempt."""
        url = f"{self.base_url}{path}"
        for attempt in range(self.parse_retries + 1):
            self._spend(path)
            timeout = self.timeout
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0.05:
                    raise DeadlinePassed("request deadline passed before the exchange was asked",
                                         public="exchange too slow: answering from stored candles")
                timeout = (min(timeout[0], left), min(timeout[1], left))
            try:
                resp = self.session.get(url, params=params, timeout=timeout)
            except requests.RequestException as exc:
                slow = isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower()
                raise SourceError(f"exchange {'timed out' if slow else 'unreachable'}: {exc.__class__.__name__}: "
                                  f"{exc}", public="exchange too slow: answering from stored candles" if slow
                                  else "exchange unreachable") from exc
            if resp.status_code == 400:
                raise UnknownSeries(f"exchange has no {params.get('symbol')} {params.get('interval')}: "
                                    f"{resp.text[:200]}")
            if resp.status_code in (418, 429):
                wait = _retry_after(resp)
                if self.budget is not None:
                    self.budget.pause(wait)
                raise RateLimited(f"exchange answered HTTP {resp.status_code} after retries", retry_after=wait)
            if resp.status_code != 200:
                raise SourceError(f"exchange answered HTTP {resp.status_code} after retries: {url} {params}",
                                  public=f"exchange answered HTTP {resp.status_code}")
            try:
                return resp.json()
            except (ValueError, json.JSONDecodeError):
                # A truncated body is transient (connection cut mid-response): try again after a pause.
                if attempt == self.parse_retries:
                    raise SourceError("exchange sent malformed JSON", public="exchange sent malformed JSON") from None
                time.sleep(self.backoff * (2 ** attempt))
        raise SourceError("unreachable")  # pragma: no cover

    def _spend(self, path: str) -> None:
        """Raise instead of asking when the budget is paused or spent."""
        if self.budget is None:
            return
        left = self.budget.paused_for()
        if left > 0:
            raise RateLimited(f"exchange requests paused for {left:.0f} s after a rate-limit answer",
                              retry_after=left)
        if not self.budget.take(WEIGHTS.get(path, 1)):
            raise BudgetSpent(retry_after=60 - time.time() % 60)  # the next minute's budget

    def fetch(self, symbol: str, timeframe: str, start_ms: int | None = None,
              end_ms: int | None = None, *, deadline: float | None = None) -> Candles:
        step = TIMEFRAME_MS[timeframe]
        now_ms = int(self.clock() * 1000)
        end = min(end_ms if end_ms is not None else now_ms, now_ms)
        start = start_ms if start_ms is not None else end - PAGE_LIMIT * step
        rows: list[list] = []
        cursor = start
        while cursor < end:
            page = self._get_json("/api/v3/klines", {"symbol": symbol, "interval": timeframe,
                                                     "startTime": cursor, "endTime": end - 1, "limit": PAGE_LIMIT},
                                   deadline)
            if not isinstance(page, list):
                raise SourceError(f"unexpected klines answer: {str(page)[:200]}",
                                  public="exchange sent an unexpected answer")
            if not page:
                break
            rows.extend(page)
            next_cursor = int(page[-1][0]) + step
            if next_cursor <= cursor or len(page) < PAGE_LIMIT:
                break
            cursor = next_cursor
        return klines_to_candles(symbol, timeframe, rows, now_ms=now_ms, source=self.name)

    def symbols(self, timeframe: str) -> list[str] | None:
        return None

    def pairs(self, deadline: float | None = None) -> set[str]:
        """Every symbol the exchange lists as trading now (``exchangeInfo``)."""
        try:
            info = self._get_json("/api/v3/exchangeInfo", {}, deadline)
            return {str(s["symbol"]) for s in info["symbols"] if s.get("status", "TRADING") == "TRADING"}
        except (TypeError, KeyError, AttributeError, UnknownSeries) as exc:
            raise SourceError(f"unexpected exchangeInfo answer: {exc}",
                              public="exchange sent an unexpected answer") from exc

    def reachable(self, timeout: float = 2.0) -> bool:
        """One quick ping, no retries: used once at start to tell offline from online."""
        try:
            return requests.get(f"{self.base_url}/api/v3/ping", timeout=timeout).status_code == 200
        except requests.RequestException:
            return False


def klines_to_candles(symbol: str, timeframe: str, rows: list, *, now_ms: int | None = None,
                      source: str = "exchange") -> Candles:
    """Kline rows ``[open_time, o, h, l, c, v, close_time, quote_volume, trades, taker_buy_volume,
    taker_buy_quote_volume, ignore]`` to closed candles, deduplicated. The extra columns are kept when
    the rows carry them; an unreadable or implausible extra value is NaN (the candle stays)."""
    try:
        arr = np.array([[float(r[i]) for i in range(6)] for r in rows], dtype=np.float64).reshape(-1, 6)
    except (TypeError, ValueError, IndexError) as exc:
        raise SourceError(f"malformed kline row: {exc}", public="exchange sent a malformed candle") from exc
    width = min((len(r) for r in rows), default=0)
    names = EXTRA_COLUMNS[: max(0, min(width, 11) - 7)]
    more = np.array([[_number(r[7 + i]) for i in range(len(names))] for r in rows],
                    dtype=np.float64).reshape(len(rows), len(names))
    if now_ms is not None and len(arr):
        closed = arr[:, 0] + TIMEFRAME_MS[timeframe] <= now_ms  # drop the still-forming candle
        arr, more = arr[closed], more[closed]
    t = arr[:, 0].astype(np.int64)
    order = np.argsort(t, kind="stable")
    t, arr, more = t[order], arr[order], more[order]
    keep = np.concatenate([[True], np.diff(t) > 0]) if len(t) else np.zeros(0, bool)
    a, more = arr[keep], more[keep]
    extra, _ = clean_extra(a[:, 5], {k: more[:, i] for i, k in enumerate(names)})
    return Candles.from_arrays(symbol, timeframe, t[keep], a[:, 1], a[:, 2], a[:, 3], a[:, 4], a[:, 5],
                               source=source, extra=extra)


def _retry_after(resp) -> float:
    try:
        return max(1.0, float(resp.headers.get("Retry-After", 60)))
    except ValueError:
        return 60.0


def _number(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")
