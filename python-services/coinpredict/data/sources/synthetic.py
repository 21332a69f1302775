"""A deterministic synthetic market for offline use: stochastic volatility, fat tails, volume that
follows volatility. Always labelled ``synthetic`` so nobody mistakes it for real prices.

Each (seed, symbol, timeframe) series is generated in fixed chunks on an absolute time grid from a
fixed origin, carrying the volatility state and price across chunks, so the candle at a given time is
the same whenever it is asked for (a longer history never changes an earlier candle).
"""

from __future__ import annotations

import threading
import zlib
from datetime import UTC, datetime

import numpy as np

from ...common.clock import now as clock_now
from ..candles import Candles
from ..timeframes import TIMEFRAME_MS

CHUNK = 4096
_ORIGIN = {"1m": "2026-06-01", "5m": "2025-01-01", "15m": "2023-01-01"}
DEFAULT_ORIGIN = "2019-01-01"
VOL_PER_HOUR = 0.008


def _origin_ms(timeframe: str) -> int:
    day = datetime.fromisoformat(_ORIGIN.get(timeframe, DEFAULT_ORIGIN)).replace(tzinfo=UTC)
    step = TIMEFRAME_MS[timeframe]
    return int(day.timestamp() * 1000) // step * step


class SyntheticSource:
    name = "synthetic"

    def __init__(self, symbols: list[str], seed: int = 7, clock=clock_now):
        self.universe = list(dict.fromkeys(symbols))
        self.seed = seed
        self.clock = clock
        self._chunks: dict[tuple[str, str], list[np.ndarray]] = {}
        self._lock = threading.Lock()

    def symbols(self, timeframe: str) -> list[str]:
        return list(self.universe)

    def _rng(self, symbol: str, timeframe: str, chunk: int) -> np.random.Generator:
        keys = [self.seed, zlib.crc32(symbol.encode()), zlib.crc32(timeframe.encode()), chunk + 1]
        return np.random.default_rng(keys)

    def _make_chunk(self, symbol: str, timeframe: str, index: int, state: np.ndarray) -> np.ndarray:
        """Rows (o, h, l, c, v, log_var_end) for one chunk, continuing from ``state`` = (log_price, log_var)."""
        rng = self._rng(symbol, timeframe, index)
        scale = VOL_PER_HOUR * np.sqrt(TIMEFRAME_MS[timeframe] / 3_600_000)
        phi, eta = 0.985, 0.18
        shocks = eta * rng.standard_normal(CHUNK)
        from scipy.signal import lfilter  # here: scipy.signal costs a web worker ~60 MB it rarely needs

        log_var, _ = lfilter([1.0], [1.0, -phi], shocks, zi=[phi * state[1]])
        sigma = scale * np.exp(log_var / 2)
        returns = sigma * rng.standard_t(4, CHUNK) / np.sqrt(2.0)
        log_close = state[0] + np.cumsum(returns)
        close = np.exp(log_close)
        open_ = np.exp(np.concatenate([[state[0]], log_close[:-1]]) + 0.05 * sigma * rng.standard_normal(CHUNK))
        wick = np.abs(rng.standard_normal((2, CHUNK))) * sigma * 0.6
        high = np.maximum(open_, close) * np.exp(wick[0])
        low = np.minimum(open_, close) * np.exp(-wick[1])
        base_volume = 1e6 / close.mean() ** 0.5
        volume = base_volume * np.exp(log_var) * rng.lognormal(0.0, 0.4, CHUNK)
        return np.column_stack([open_, high, low, close, volume, log_var])

    def _series(self, symbol: str, timeframe: str, n_chunks: int) -> np.ndarray:
        with self._lock:
            chunks = self._chunks.setdefault((symbol, timeframe), [])
            while len(chunks) < n_chunks:
                if chunks:
                    state = np.array([np.log(chunks[-1][-1, 3]), chunks[-1][-1, 5]])
                else:
                    rng = self._rng(symbol, timeframe, -1)
                    state = np.array([np.log(10 ** rng.uniform(-3, 4)), 0.0])
                chunks.append(self._make_chunk(symbol, timeframe, len(chunks), state))
            return np.concatenate(chunks[:n_chunks]) if n_chunks else np.zeros((0, 6))

    def span(self, timeframe: str) -> tuple[int, int] | None:
        """Open times of the first and last closed candle ``fetch`` gives on ``timeframe`` (None before the origin)."""
        step = TIMEFRAME_MS[timeframe]
        origin = _origin_ms(timeframe)
        n_total = (int(self.clock() * 1000) // step * step - origin + step - 1) // step
        return (origin, origin + step * (n_total - 1)) if n_total > 0 else None

    def fetch(self, symbol: str, timeframe: str, start_ms: int | None = None,
              end_ms: int | None = None) -> Candles:
        step = TIMEFRAME_MS[timeframe]
        origin = _origin_ms(timeframe)
        now_ms = int(self.clock() * 1000)
        end = min(end_ms if end_ms is not None else now_ms, now_ms // step * step)  # closed candles only
        n_total = max(0, (end - origin + step - 1) // step)
        data = self._series(symbol, timeframe, -(-n_total // CHUNK))[:n_total]
        t = origin + step * np.arange(n_total, dtype=np.int64)
        lo = 0 if start_ms is None else int(np.searchsorted(t, start_ms))
        t, data = t[lo:], data[lo:]
        return Candles.from_arrays(symbol, timeframe, t, *data[:, :5].T, source=self.name)
