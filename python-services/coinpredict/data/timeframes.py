"""The nine timeframes of the API and their lengths in milliseconds."""

from __future__ import annotations

MINUTE_MS = 60_000
TIMEFRAME_MS: dict[str, int] = {
    "1m": MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": 60 * MINUTE_MS,
    "2h": 120 * MINUTE_MS,
    "4h": 240 * MINUTE_MS,
    "1d": 1440 * MINUTE_MS,
    "1w": 10080 * MINUTE_MS,
}
TIMEFRAMES = tuple(TIMEFRAME_MS)
# Exchange weeks open on Monday 00:00 UTC; the epoch fell on a Thursday.
WEEK_OFFSET_MS = 4 * 1440 * MINUTE_MS


def check_timeframe(tf: str) -> str:
    if tf not in TIMEFRAME_MS:
        raise ValueError(f"unknown timeframe {tf!r}; use one of {', '.join(TIMEFRAMES)}")
    return tf


def by_duration(timeframes) -> list[str]:
    """Timeframes shortest first (``15m, 1h, 4h, 1d``), not as strings sort (``15m, 1d, 1h, 4h``); a name
    that is no timeframe goes last."""
    return sorted(timeframes, key=lambda tf: (TIMEFRAME_MS.get(tf, float("inf")), tf))


def period_start(t_ms, tf: str):
    """Open time of the ``tf`` period containing ``t_ms`` (works on ints and numpy arrays)."""
    step = TIMEFRAME_MS[tf]
    offset = WEEK_OFFSET_MS if tf == "1w" else 0
    return (t_ms - offset) // step * step + offset


def newest_closed(tf: str, now_s: float) -> int:
    """Open time (ms) of the newest ``tf`` candle that has closed by ``now_s`` (clock seconds)."""
    return int(period_start(int(now_s * 1000), tf)) - TIMEFRAME_MS[tf]


def lower_timeframes(tf: str) -> list[str]:
    """Timeframes that aggregate exactly into ``tf``, largest first."""
    step = TIMEFRAME_MS[tf]
    return [
        lower for lower in reversed(TIMEFRAMES)
        if TIMEFRAME_MS[lower] < step and step % TIMEFRAME_MS[lower] == 0
    ]


def periods_per_year(tf: str) -> float:
    return 365.25 * 86_400_000 / TIMEFRAME_MS[tf]


# What `--timeframe default` trains and API.md promises: each timeframe with its horizons (candles ahead).
DEFAULT_HORIZONS: dict[str, tuple[int, ...]] = {"1h": (1, 4, 24), "4h": (1, 6), "1d": (1, 7)}
# Every timeframe's horizons, for `--timeframe all` and jobs: about the same spans of time as the default
# ones (an hour, a few hours, a day or more ahead), and for 1w a week and a month.
TIMEFRAME_HORIZONS: dict[str, tuple[int, ...]] = {
    "1m": (1, 15, 60), "5m": (1, 12, 48), "15m": (1, 4, 16), "30m": (1, 2, 8), **DEFAULT_HORIZONS,
    "2h": (1, 3, 12), "1w": (1, 4)}


def default_horizons(tf: str) -> tuple[int, ...]:
    """The horizons trained for ``tf`` unless asked otherwise."""
    return TIMEFRAME_HORIZONS[check_timeframe(tf)]
