"""The one clock that market time is read from: candle ages, staleness, when a candle has closed, when a
forecast's outcome is due, the live window and the retraining schedule. Operational timing (heartbeats,
timeouts, uptime, latencies) stays on the machine's clocks.

By default it is the wall clock. ``CLOCK=<start>@<origin>x<speed>`` (read once per process) runs every
process that shares it on one accelerated clock: at wall time ``origin`` (epoch seconds) it reads
``start`` (ISO) and it advances ``speed`` seconds per wall second. The replay runs months in minutes so.
Tests set a clock of their own with ``use``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable

from .times import iso, to_ms

_SPEC = re.compile(r"^(?P<start>[^@]+)@(?P<origin>[0-9.]+)x(?P<speed>[0-9.]+)$")


def accelerated(start_s: float, origin_s: float, speed: float) -> Callable[[], float]:
    """A clock reading ``start_s`` at wall time ``origin_s`` and running ``speed`` times as fast."""
    def now() -> float:
        return start_s + (time.time() - origin_s) * speed
    return now


def parse(spec: str) -> Callable[[], float]:
    """``<start ISO>@<origin epoch s>x<speed>`` -> the clock; ValueError when it does not read so."""
    m = _SPEC.match(spec.strip())
    if not m:
        raise ValueError(f"CLOCK must read <start ISO>@<origin epoch seconds>x<speed>, got {spec!r}")
    speed = float(m["speed"])
    if speed <= 0:
        raise ValueError("CLOCK speed must be positive")
    return accelerated(to_ms(m["start"]) / 1000, float(m["origin"]), speed)


def spec(start_s: float, origin_s: float, speed: float) -> str:
    """The ``CLOCK`` value for an accelerated clock (what the replay hands its processes)."""
    from .times import iso

    return f"{iso(int(start_s * 1000))}@{origin_s:.6f}x{speed:g}"


_active: Callable[[], float] = parse(os.environ["CLOCK"]) if os.environ.get("CLOCK") else time.time


def now() -> float:
    """Seconds since the epoch on the active clock."""
    return _active()


def now_ms() -> int:
    return int(_active() * 1000)


def use(clock: Callable[[], float] | None) -> Callable[[], float]:
    """Make ``clock`` the active one (None: the wall clock); returns the one it replaces."""
    global _active
    previous, _active = _active, clock or time.time
    return previous


def is_wall() -> bool:
    return _active is time.time


def market_time(now: float | None = None) -> str | None:
    """The market clock's reading (``now``, default the clock's) for an answer to show when ``CLOCK`` (or a
    test) shifts it from the wall clock; None on the wall clock, where it would only repeat the time of day."""
    return None if is_wall() else iso(int((_active() if now is None else now) * 1000))
